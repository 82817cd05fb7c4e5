"""Permit pages (HTML): the public register and permit pages."""

from django.urls import path

from permits import views

app_name = "permits"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/<str:number>/", views.register_entry, name="register_entry"),
    path("permits/<str:number>/", views.permit_detail, name="detail"),
    path("permits/<str:number>/act/<slug:action>/", views.permit_act, name="act"),
    path("permits/issue/<str:reference>/", views.permit_issue, name="issue"),
    path("permits/<str:number>/results/", views.permit_result_add, name="result_add"),
    path("permits/<str:number>/findings/", views.permit_finding_add, name="finding_add"),
    path("results/overdue/", views.results_overdue, name="results_overdue"),
    path(
        "permits/<str:number>/run-outputs/<int:output_id>/",
        views.run_output_download,
        name="run_output",
    ),
    path("permits/reports/overdue/", views.reports_overdue, name="reports_overdue"),
]
