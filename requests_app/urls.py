"""Access request pages (HTML)."""

from django.urls import path

from requests_app import views

app_name = "requests"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("new/", views.request_new, name="new"),
    path("boards/<int:board_id>/", views.board_queue_page, name="board_queue"),
    path("<str:reference>/", views.request_detail, name="detail"),
    path("<str:reference>/edit/<slug:section>/", views.request_edit, name="edit"),
    path("<str:reference>/team/", views.team_invite, name="team_invite"),
    path("<str:reference>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<str:reference>/act/<slug:action>/", views.request_act, name="act"),
    path("<str:reference>/diff/", views.request_diff, name="diff"),
]
