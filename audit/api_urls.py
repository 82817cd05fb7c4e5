"""The audit API under /api/v1/audit/."""

from django.urls import path

from audit import api

urlpatterns = [
    path("tree-head", api.AuditTreeHeadApi.as_view(), name="audit-tree-head"),
    path(
        "events/<int:leaf_index>/proof",
        api.AuditInclusionProofApi.as_view(),
        name="audit-inclusion-proof",
    ),
    path("consistency", api.AuditConsistencyProofApi.as_view(), name="audit-consistency"),
    path("events", api.AuditEventListApi.as_view(), name="audit-events"),
    path("events.csv", api.AuditEventCsvApi.as_view(), name="audit-events-csv"),
]
