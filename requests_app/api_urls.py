"""Access request API under /api/v1/."""

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
    path("requests/<str:reference>/diff", api.RequestDiffApi.as_view(), name="request_diff"),
    *[
        path(f"requests/<str:reference>/{name}", view.as_view(), name=f"request_{name}")
        for name, view in api.COMMANDS.items()
    ],
    path("boards/<int:board_id>/queue", api.BoardQueueApi.as_view(), name="board_queue"),
    path("waiting", api.WaitingApi.as_view(), name="waiting"),
]
