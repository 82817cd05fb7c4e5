"""Access request API under /api/v1/. The commands come from the transition table."""

from django.urls import path

from requests_app import api

urlpatterns = [
    path("requests/", api.RequestListCreateApi.as_view(), name="requests"),
    path("requests/<str:reference>", api.RequestDetailApi.as_view(), name="request"),
    path(
        "requests/<str:reference>/attachments",
        api.AttachmentUploadApi.as_view(),
        name="request_attachments",
    ),
    path(
        "requests/<str:reference>/attachments/<int:attachment_id>",
        api.AttachmentDownloadApi.as_view(),
        name="request_attachment",
    ),
    path(
        "requests/<str:reference>/export.csv",
        api.RequestExportCsvApi.as_view(),
        name="request_export_csv",
    ),
    path("requests/<str:reference>/diff", api.RequestDiffApi.as_view(), name="request_diff"),
    *[
        path(f"requests/<str:reference>/{name}", view.as_view(), name=f"request_{name}")
        for name, view in api.commands().items()
    ],
    path("boards/<int:board_id>/queue", api.BoardQueueApi.as_view(), name="board_queue"),
    path("waiting", api.WaitingApi.as_view(), name="waiting"),
    path("bars", api.BarListApi.as_view(), name="bars"),
    path("bars/<int:bar_id>/lift", api.BarLiftApi.as_view(), name="bar_lift"),
]
