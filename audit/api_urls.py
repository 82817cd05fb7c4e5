"""The audit API under /api/v1/audit/."""

from django.urls import path

from audit import api

urlpatterns = [
    path("head", api.AuditHeadApi.as_view(), name="audit-head"),
    path("checkpoints", api.AuditCheckpointListApi.as_view(), name="audit-checkpoints"),
    path("events", api.AuditEventListApi.as_view(), name="audit-events"),
    path("events.csv", api.AuditEventCsvApi.as_view(), name="audit-events-csv"),
]
