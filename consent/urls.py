"""Consent pages for data stewards (HTML) under /consent/."""

from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("", views.dataset_list, name="dataset_list"),
    path("<slug:slug>/", views.dataset_overview, name="dataset_overview"),
    path("<slug:slug>/import/", views.consent_import, name="import"),
    path("<slug:slug>/conditions/", views.conditions_edit, name="conditions_edit"),
    path("<slug:slug>/participants/", views.participant_find, name="participant_find"),
    path(
        "<slug:slug>/participants/<str:pseudonym>/",
        views.participant_detail,
        name="participant_detail",
    ),
    path(
        "<slug:slug>/participants/<str:pseudonym>/withdraw/",
        views.participant_withdraw,
        name="participant_withdraw",
    ),
    path(
        "<slug:slug>/participants/<str:pseudonym>/opt-out/",
        views.participant_opt_out,
        name="participant_opt_out",
    ),
]
