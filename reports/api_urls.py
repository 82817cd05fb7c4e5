"""Reports API (mounted at /api/v1/)."""

from django.urls import path

from reports import api

app_name = "reports_api"

urlpatterns = [
    path("reports", api.ReportCreateApi.as_view(), name="create"),
    path("reports/<int:report_id>", api.ReportDetailApi.as_view(), name="detail"),
    path("reports/<int:report_id>/download", api.ReportDownloadApi.as_view(), name="download"),
]
