"""/.well-known/ documents (the hub's JWKS)."""

from django.urls import path

from permits.jwks_views import jwks_view

urlpatterns = [
    path("jwks.json", jwks_view, name="jwks"),
]
