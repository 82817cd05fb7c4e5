"""Permits and node API under /api/v1/ (namespace ``permits_api``)."""

from django.urls import path

from permits import api

app_name = "permits_api"

urlpatterns = [
    path("permits/revocations", api.RevocationListApi.as_view(), name="revocations"),
    path("permits/", api.PermitListApi.as_view(), name="list"),
    path("permits/issue", api.PermitIssueApi.as_view(), name="issue"),
    path("permits/<str:number>", api.PermitDetailApi.as_view(), name="detail"),
    path("permits/<str:number>/suspend", api.PermitSuspendApi.as_view(), name="suspend"),
    path("permits/<str:number>/resume", api.PermitResumeApi.as_view(), name="resume"),
    path("permits/<str:number>/revoke", api.PermitRevokeApi.as_view(), name="revoke"),
    path("permits/<str:number>/receipts", api.PermitReceiptListApi.as_view(), name="receipts"),
    path("node/permits", api.NodePermitListApi.as_view(), name="node_permits"),
    path(
        "node/permits/<str:number>/cohorts/<str:dataset_id>",
        api.NodeCohortApi.as_view(),
        name="node_cohort",
    ),
    path("node/keys", api.NodeKeyApi.as_view(), name="node_keys"),
    path("node/receipts", api.NodeReceiptApi.as_view(), name="node_receipts"),
    path("register/", api.RegisterApi.as_view(), name="register"),
    path("ga4gh/passport", api.PassportApi.as_view(), name="passport"),
]
