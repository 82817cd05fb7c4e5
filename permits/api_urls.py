"""Permits and node API under /api/v1/ (namespace ``permits_api``)."""

from django.urls import path

from permits import api

app_name = "permits_api"

urlpatterns = [
    path("permits/revocations", api.RevocationListApi.as_view(), name="revocations"),
    path("permits/", api.PermitListApi.as_view(), name="list"),
    path("permits/issue", api.PermitIssueApi.as_view(), name="issue"),
    path("permits/<str:number>", api.PermitDetailApi.as_view(), name="detail"),
    path("permits/<str:number>/odrl", api.PermitOdrlApi.as_view(), name="odrl"),
    *[
        path(f"permits/<str:number>/{action}", view.as_view(), name=action)
        for action, view in api.commands().items()
    ],
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
    path("ga4gh/token", api.PassportTokenApi.as_view(), name="ga4gh_token"),
    path("permits/<str:number>/results", api.PermitResultsApi.as_view(), name="results"),
    path("permits/<str:number>/findings", api.PermitFindingApi.as_view(), name="findings"),
    path("node/run-outputs", api.NodeRunOutputApi.as_view(), name="node_run_outputs"),
    path(
        "permits/<str:number>/run-outputs", api.PermitRunOutputListApi.as_view(), name="run_outputs"
    ),
    path(
        "permits/<str:number>/run-outputs/<int:output_id>",
        api.PermitRunOutputDownloadApi.as_view(),
        name="run_output_download",
    ),
]
