"""Consent API under /api/v1/consent/."""

urlpatterns: list = []
