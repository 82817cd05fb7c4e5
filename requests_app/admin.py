from django.contrib import admin
from django.contrib.auth.models import Group

from audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from requests_app.models import (
    AccessRequest,
    BoardMembership,
    DatasetReviewStage,
    ReviewBoard,
    ReviewStage,
    Submission,
    Vote,
)
from requests_app.selectors import requests_visible_to


class BoardMembershipInline(admin.TabularInline):
    model = BoardMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(ReviewBoard)
class ReviewBoardAdmin(AuditedModelAdmin):
    list_display = ("name", "kind", "organisation", "quorum_rule", "min_votes", "deadline_days")
    exclude = ("group",)
    inlines = (BoardMembershipInline,)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.group = Group.objects.create(name=f"board:{obj.name}"[:150])
        super().save_model(request, obj, form, change)


@admin.register(DatasetReviewStage)
class DatasetReviewStageAdmin(AuditedModelAdmin):
    list_display = ("dataset", "board", "order")


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyModelAdmin):
    list_display = ("reference", "title", "state", "round", "requester", "updated_at")
    list_filter = ("state",)
    search_fields = ("reference", "title", "requester__email")

    def get_queryset(self, request):
        return requests_visible_to(request.user)


@admin.register(ReviewStage)
class ReviewStageAdmin(ReadOnlyModelAdmin):
    list_display = ("request", "board", "round", "order", "state", "deadline")
    list_filter = ("state", "board")


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyModelAdmin):
    list_display = ("request", "round", "submitted_at", "digest")


@admin.register(Vote)
class VoteAdmin(ReadOnlyModelAdmin):
    list_display = ("stage", "voter", "choice", "cast_at")
