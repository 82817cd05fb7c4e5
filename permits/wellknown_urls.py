"""/.well-known/ documents: the hub's JWKS (permits) and the GA4GH visa JWKS (the visas' jku)."""

from django.urls import path

from permits.jwks_views import jwks_view, visa_jwks_view

urlpatterns = [
    path("jwks.json", jwks_view, name="jwks"),
    path("visa-jwks.json", visa_jwks_view, name="visa_jwks"),
]
