"""Consent API under /api/v1/consent/ (namespace ``consent_api``)."""

from django.urls import path

from consent import api

app_name = "consent_api"

urlpatterns = [
    path("match", api.MatchApi.as_view(), name="match"),
    path("datasets/<slug:slug>/match", api.DatasetMatchApi.as_view(), name="dataset_match"),
    path(
        "datasets/<slug:slug>/conditions",
        api.DatasetConditionsSetApi.as_view(),
        name="conditions_set",
    ),
    path("datasets/<slug:slug>/imports", api.ConsentImportApi.as_view(), name="import"),
    path("datasets/<slug:slug>/cohort", api.CohortApi.as_view(), name="cohort"),
    path(
        "datasets/<slug:slug>/participants/<str:pseudonym>",
        api.ParticipantDetailApi.as_view(),
        name="participant",
    ),
    path(
        "datasets/<slug:slug>/participants/<str:pseudonym>/withdraw",
        api.ParticipantWithdrawApi.as_view(),
        name="participant_withdraw",
    ),
    path(
        "datasets/<slug:slug>/participants/<str:pseudonym>/opt-out",
        api.ParticipantOptOutApi.as_view(),
        name="participant_opt_out",
    ),
    path("mondo", api.MondoSearchApi.as_view(), name="mondo_search"),
]
