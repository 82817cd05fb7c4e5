from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from catalogue import api as catalogue_api
from catalogue import views as catalogue_views
from lifes.health import healthz

api_v1 = [
    path("me", accounts_api.MeApi.as_view(), name="me"),
    path("auth/tokens", accounts_api.TokenListCreateApi.as_view(), name="tokens"),
    path(
        "auth/tokens/<int:token_id>/revoke",
        accounts_api.TokenRevokeApi.as_view(),
        name="token_revoke",
    ),
    path("datasets/", catalogue_api.DatasetListApi.as_view(), name="datasets"),
    path("datasets/<slug:slug>", catalogue_api.DatasetDetailApi.as_view(), name="dataset"),
    path("algorithms/", catalogue_api.AlgorithmListApi.as_view(), name="algorithms"),
    path("nodes/", catalogue_api.NodeListApi.as_view(), name="nodes"),
    path(
        "datasets/<slug:slug>/dictionary",
        catalogue_api.DatasetDictionaryApi.as_view(),
        name="dataset_dictionary",
    ),
    path(
        "datasets/<slug:slug>/terms", catalogue_api.DatasetTermsApi.as_view(), name="dataset_terms"
    ),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("catalogue/", include("catalogue.urls")),
    path("catalogue.jsonld", catalogue_views.catalogue_feed, name="catalogue_feed"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("audit/", include("audit.urls")),
    path("api/v1/audit/", include("audit.api_urls")),
    path("consent/", include("consent.urls")),
    path("api/v1/consent/", include("consent.api_urls")),
    path("api/v1/", include((api_v1, "api"))),
    path("api/v1/", include("permits.api_urls")),
    path("api/v1/", include("requests_app.api_urls")),
    path("requests/", include("requests_app.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include("reports.api_urls")),
    path("", include("permits.urls")),
    path(".well-known/", include("permits.wellknown_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
# No route serves MEDIA_URL, not even with DEBUG: attachments and reports are private files,
# handed over only by access-checked views (lifes/files.py).

handler404 = "lifes.errorpages.not_found"
handler500 = "lifes.errorpages.server_error"
