"""Access request pages (HTML)."""

from django.urls import path

from requests_app import views

app_name = "requests"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("new/", views.request_new, name="new"),
    path("boards/<int:board_id>/", views.board_queue_page, name="board_queue"),
    path("bars/", views.bars_page, name="bars"),
    path("bars/<int:bar_id>/lift/", views.bar_lift, name="bar_lift"),
    path("<str:reference>/", views.request_detail, name="detail"),
    path("<str:reference>/edit/<slug:section>/", views.request_edit, name="edit"),
    path("<str:reference>/team/", views.team_invite, name="team_invite"),
    path("<str:reference>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "<str:reference>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "<str:reference>/attachments/<int:attachment_id>/remove/",
        views.attachment_remove,
        name="attachment_remove",
    ),
    path("<str:reference>/export.csv", views.request_export_csv, name="export_csv"),
    path("<str:reference>/act/<slug:action>/", views.request_act, name="act"),
    path("<str:reference>/diff/", views.request_diff, name="diff"),
]

# EHDS: a team member's single-use invitation link (its own pattern after the others: a token is
# never one of the words the request patterns above use).
urlpatterns += [path("invitations/<str:token>/", views.invitation, name="invitation")]
urlpatterns += [
    path(
        "<str:reference>/minimisation/<slug:dataset>/",
        views.minimisation_save,
        name="minimisation",
    )
]
