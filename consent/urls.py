"""Consent pages for data stewards (HTML)."""

app_name = "consent"

urlpatterns: list = []
