"""Audit pages (HTML) for auditors and staff."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.explorer, name="explorer"),
    path("events.csv", views.export_csv, name="export_csv"),
    path("verify/", views.verify_now, name="verify_now"),
]
