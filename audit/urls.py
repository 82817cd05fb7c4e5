"""Audit pages (HTML) for auditors and staff."""

app_name = "audit"

urlpatterns: list = []
