from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from audit.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from requests_app import services
from requests_app.after_models import FeeSchedule, RequestFee
from requests_app.application_form import ANSWER_COLUMNS, form_for_request, merge
from requests_app.models import (
    AccessRequest,
    BoardMembership,
    DatasetReviewStage,
    FormQuestion,
    FormSection,
    FormTemplate,
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
    """Boards and their members through the services, as everywhere else: a board gets its
    group, and a member added here joins it (and with it the view grants on the requests the
    board reviews); a member removed here leaves it."""

    list_display = ("name", "kind", "organisation", "quorum_rule", "min_votes", "deadline_days")
    exclude = ("group",)
    inlines = (BoardMembershipInline,)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)  # its settings, audited
            return
        fields = {k: v for k, v in form.cleaned_data.items() if k != "group"}
        board = services.board_create(actor=request.user, **fields)
        # The inlines save against the board the service created.
        obj.pk, obj.group = board.pk, board.group
        obj._state.adding, obj._state.db = False, board._state.db

    def save_formset(self, request, form, formset, change):
        if formset.model is not BoardMembership:
            return super().save_formset(request, form, formset, change)
        board = form.instance
        with transaction.atomic():
            for member_form in formset.forms:
                if not member_form.has_changed() or member_form.instance.pk is None:
                    continue
                previous = member_form.initial.get("user")
                if "user" in member_form.changed_data and previous:
                    services.board_member_remove(
                        actor=request.user, board=board, user=User.objects.get(pk=previous)
                    )
            memberships = formset.save(commit=False)
            for membership in formset.deleted_objects:
                services.board_member_remove(actor=request.user, board=board, user=membership.user)
            for membership in memberships:
                services.board_member_add(
                    actor=request.user, board=board, user=membership.user, role=membership.role
                )
        return None


@admin.register(DatasetReviewStage)
class DatasetReviewStageAdmin(AuditedModelAdmin):
    list_display = ("dataset", "board", "order")


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyModelAdmin):
    # Staff are not among those the visibility rule shows private answers to
    # (requests_app/visibility.py); the admin is one more output and follows it.
    list_display = ("reference", "title", "state", "round", "requester", "updated_at")
    list_filter = ("state",)
    search_fields = ("reference", "title", "requester__email")

    def get_queryset(self, request):
        return requests_visible_to(request.user)

    def get_exclude(self, request, obj=None):
        # the private questions of the request's form, and the further answers (which may
        # hold a custodian's private ones)
        if obj is None:
            return ("extra_answers",)
        private = form_for_request(obj).private_keys & ANSWER_COLUMNS
        return ("extra_answers", *sorted(private))


@admin.register(ReviewStage)
class ReviewStageAdmin(ReadOnlyModelAdmin):
    list_display = ("request", "board", "round", "order", "state", "deadline")
    list_filter = ("state", "board")


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyModelAdmin):
    list_display = ("request", "round", "submitted_at", "digest")
    exclude = ("answers",)  # they hold the private answers; the digest identifies them


@admin.register(Vote)
class VoteAdmin(ReadOnlyModelAdmin):
    list_display = ("stage", "voter", "choice", "cast_at")


class _FrozenWhenUsed:
    """Sections and questions of a version some round answered are read-only, like it."""

    def _frozen(self, obj) -> bool:
        from requests_app.services import form_template_is_used

        return obj is not None and form_template_is_used(obj)

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class FormSectionInline(_FrozenWhenUsed, admin.TabularInline):
    model = FormSection
    extra = 0
    fields = ("key", "order", "title_en", "title_nl", "intro_en", "intro_nl")


class FormQuestionInline(_FrozenWhenUsed, admin.StackedInline):
    model = FormQuestion
    extra = 0
    fields = (
        ("section", "key", "order", "type"),
        ("label_en", "label_nl"),
        ("help_en", "help_nl"),
        ("required", "is_private", "max_length"),
        ("required_when", "show_when"),
        ("required_message_en", "required_message_nl"),
        ("choices", "choices_from", "columns", "attachment_kind"),
        "rules",
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "section":
            template_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = FormSection.objects.filter(template_id=template_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(FormTemplate)
class FormTemplateAdmin(AuditedModelAdmin):
    """Staff edit application forms here, with a preview. A version some round answered is
    shown read-only with a button that makes the next version to edit (the service)."""

    list_display = ("title", "key", "version", "organisation", "is_default", "is_used")
    list_filter = ("organisation", "is_default")
    filter_horizontal = ("datasets",)
    inlines = (FormSectionInline, FormQuestionInline)
    change_form_template = "admin/requests_app/formtemplate/change_form.html"

    @admin.display(boolean=True, description=_("used"))
    def is_used(self, obj: FormTemplate) -> bool:
        from requests_app.services import form_template_is_used

        return form_template_is_used(obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and self.is_used(obj):
            return False  # immutable once used: "new version" instead
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.is_used(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="requests_app_formtemplate_preview",
            ),
            path(
                "<int:pk>/new-version/",
                self.admin_site.admin_view(require_POST(self.new_version_view)),
                name="requests_app_formtemplate_new_version",
            ),
        ]
        return own + super().get_urls()

    def preview_view(self, request, pk: int):
        from requests_app.forms import section_form

        template = get_object_or_404(FormTemplate, pk=pk)
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        form = merge([template])
        sections = [(section, section_form(form, section.key, None)) for section in form.sections]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": template,
            "title": _("Preview: %(title)s") % {"title": template},
            "sections": sections,
        }
        return TemplateResponse(request, "admin/requests_app/formtemplate/preview.html", context)

    def new_version_view(self, request, pk: int):
        from requests_app.services import form_template_new_version

        template = get_object_or_404(FormTemplate, pk=pk)
        if not super().has_change_permission(request, template):
            raise PermissionDenied
        copy = form_template_new_version(actor=request.user, template=template)
        messages.success(
            request, _("Version %(version)d made; edit it here.") % {"version": copy.version}
        )
        return redirect(reverse("admin:requests_app_formtemplate_change", args=[copy.pk]))


@admin.register(FeeSchedule)
class FeeScheduleAdmin(AuditedModelAdmin):
    """Each access body's fee (Art. 62) and its reductions by kind of requesting organisation;
    a change applies to applications submitted afterwards (each request keeps its own)."""

    list_display = (
        "organisation",
        "base_fee",
        "reduction_public_body",
        "reduction_university",
        "reduction_small_enterprise",
    )


@admin.register(RequestFee)
class RequestFeeAdmin(ReadOnlyModelAdmin):
    """Fixed at submission: read only."""

    list_display = ("request", "amount", "currency", "recorded_at")
    readonly_fields = ("request", "amount", "currency", "lines", "recorded_at")
