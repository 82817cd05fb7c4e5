"""Report pages (HTML)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("new", views.report_create, name="create"),
    path("metrics/", views.metrics_page, name="metrics"),
    path("certificate/<str:number>/", views.permit_certificate, name="permit_certificate"),
    path("<int:report_id>/", views.report_detail, name="detail"),
    path("<int:report_id>/status", views.report_status, name="status"),
    path("<int:report_id>/download", views.report_download, name="download"),
    path("letters/<str:reference>/", views.decision_letter, name="decision_letter"),
    path("letters/<str:reference>.pdf", views.decision_letter_pdf, name="decision_letter_pdf"),
]
