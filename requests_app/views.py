"""Pages for every role. Thin: forms check shape, services decide and write."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.selectors import events_for_object
from lifes.errors import DomainError, InvalidInput, NotFound
from requests_app import forms, services
from requests_app.answers import (
    PRIVATE_FIELDS,
    SECTION_KEYS,
    SECTIONS,
    diff,
    display,
    missing_answers,
    missing_by_section,
    redact,
)
from requests_app.models import StageState, Vote
from requests_app.permissions import can_see_private, open_stage, roles_of, situation_of
from requests_app.selectors import (
    board_queue,
    boards_of,
    request_get,
    request_list,
    waiting_for,
)
from requests_app.services.drafting import EDITABLE_FIELDS
from requests_app.workflow import BY_ACTION, Role, actions_for


def _get(request: HttpRequest, reference: str):
    try:
        return request_get(user=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _apply_errors(form, exc: DomainError | ValidationError) -> None:
    errors = exc.errors if isinstance(exc, DomainError) else exc.message_dict
    for field, messages_ in (errors or {}).items():
        form.add_error(field if field in form.fields else None, messages_)
    if isinstance(exc, DomainError) and not errors:
        form.add_error(None, exc.message)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    requests = list(request_list(user=request.user, state=request.GET.get("state", ""))[:100])
    counts: dict[str, int] = {}
    for item in requests:
        counts[item.state] = counts.get(item.state, 0) + 1
    return render(
        request,
        "requests/dashboard.html",
        {
            "waiting": waiting_for(request.user),
            "requests": requests,
            "counts": counts,
            "boards": boards_of(request.user),
        },
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    form = forms.NewRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(actor=request.user, title=form.cleaned_data["title"])
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("requests:edit", reference=created.reference, section="project")
    return render(request, "requests/new.html", {"form": form})


def _section_form(section: str, obj, data=None):
    form_class = forms.SECTION_FORMS[section]
    if section == "data":
        return form_class(data, initial={"datasets": list(obj.datasets.all())})
    return form_class(data, instance=obj)


def _save_section(request: HttpRequest, obj, section: str, form) -> bool:
    data = form.cleaned_data
    changes = {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    for key in ("gdpr_art6_basis", "gdpr_art9_basis"):
        if key in changes and changes[key] is None:
            changes[key] = ""
    try:
        services.request_update(
            actor=request.user,
            request_id=obj.pk,
            changes=changes,
            datasets=list(data["datasets"]) if "datasets" in data else None,
            algorithms=list(data["algorithms"]) if "algorithms" in data else None,
        )
    except (DomainError, ValidationError) as exc:
        _apply_errors(form, exc)
        return False
    return True


@login_required
def request_edit(request: HttpRequest, reference: str, section: str) -> HttpResponse:
    obj = _get(request, reference)
    if section not in (*SECTION_KEYS, "review"):
        raise Http404("No such section.")
    current = situation_of(obj)
    roles = roles_of(request.user, obj)
    if "edit" not in [t.action for t in actions_for(current=current, roles=roles)]:
        messages.info(request, _("This request cannot be edited now."))
        return redirect(obj.get_absolute_url())
    missing = missing_by_section(missing_answers(obj))
    context: dict[str, Any] = {
        "obj": obj,
        "section": section,
        "sections": SECTIONS,
        "missing": missing,
        "private_fields": PRIVATE_FIELDS,
    }
    if section == "review":
        context["can_submit"] = not any(missing.values())
        context["action"] = "submit" if obj.state == "draft" else "resubmit"
        return render(request, "requests/wizard_review.html", context)
    form = _section_form(section, obj, request.POST or None)
    is_autosave = request.headers.get("X-Autosave") == "1"
    if request.method == "POST":
        saved = form.is_valid() and _save_section(request, obj, section, form)
        if is_autosave:
            return JsonResponse(
                {"saved": saved, "errors": form.errors.get_json_data()},
                status=200 if saved else 400,
            )
        if saved:
            index = SECTION_KEYS.index(section)
            following = SECTION_KEYS[index + 1] if index + 1 < len(SECTION_KEYS) else "review"
            messages.success(request, _("Saved."))
            return redirect("requests:edit", reference=obj.reference, section=following)
    context["form"] = form
    if section == "people":
        context["team_form"] = forms.TeamInviteForm()
        context["team"] = obj.team.all()
    if section == "settings":
        context["attachment_form"] = forms.AttachmentForm()
        context["attachments"] = obj.attachments.filter(is_current=True)
    if section == "data":
        context["datasets"] = form.fields["datasets"].queryset
        context["compat_data"] = {
            "purpose": {
                "codes": [c for c in [obj.purpose_code, *obj.research_types] if c],
                "diseases": obj.purpose_diseases,
                "commercial": obj.is_commercial,
                "for_profit": obj.organisation.is_for_profit,
            },
            "datasets": {
                d.slug: {"codes": d.duo_codes, "diseases": d.duo_diseases, "values": d.duo_values}
                for d in context["datasets"]
            },
            "match_url": "/api/v1/consent/match",
        }
    return render(request, "requests/wizard_section.html", context)


@login_required
@require_POST
def team_invite(request: HttpRequest, reference: str) -> HttpResponse:
    obj = _get(request, reference)
    form = forms.TeamInviteForm(request.POST)
    if form.is_valid():
        try:
            services.team_member_invite(actor=request.user, request_id=obj.pk, **form.cleaned_data)
            messages.success(request, _("Invitation sent."))
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect("requests:edit", reference=obj.reference, section="people")


@login_required
@require_POST
def attachment_upload(request: HttpRequest, reference: str) -> HttpResponse:
    obj = _get(request, reference)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                actor=request.user,
                request_id=obj.pk,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
            messages.success(request, _("The file was attached."))
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose a file and its kind."))
    return redirect("requests:edit", reference=obj.reference, section="settings")


def _timeline(obj) -> list[dict[str, Any]]:
    return [
        {
            "at": e.occurred_at,
            "action": e.action.removeprefix("request."),
            "actor": e.actor_label,
            "payload": e.payload,
        }
        for e in events_for_object(obj)
    ]


@login_required
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    obj = _get(request, reference)
    roles = roles_of(request.user, obj)
    current = situation_of(obj)
    actions = {t.action: t for t in actions_for(current=current, roles=roles)}
    submission = obj.submissions.order_by("-round").first()
    private = can_see_private(request.user, obj, roles)
    is_board = bool(roles & {Role.MEMBER, Role.CHAIR, Role.AUDITOR})
    stage = open_stage(obj)
    my_declaration = stage.declarations.filter(member=request.user).first() if stage else None
    comments = obj.comments.select_related("author")
    if not is_board:
        comments = comments.filter(is_internal=False)
    context = {
        "obj": obj,
        "roles": roles,
        "situation": current,
        "actions": actions,
        "answers": (
            display(redact(submission.answers, can_see_private=private)) if submission else None
        ),
        "submission": submission,
        "can_see_private": private,
        "checks": obj.checks.filter(round=obj.round).select_related("dataset"),
        "stages": obj.stages.select_related("board").order_by("round", "order"),
        "open_stage": stage,
        "my_declaration": my_declaration,
        # Board members and auditors see this round's votes; the requester sees the outcome.
        "votes": (
            Vote.objects.filter(stage__request=obj, stage__round=obj.round)
            .select_related("voter")
            .order_by("cast_at")
            if is_board
            else []
        ),
        "items": obj.requested_datasets.select_related("dataset"),
        "my_datasets": set(
            obj.datasets.filter(stewards=request.user).values_list("slug", flat=True)
        ),
        "comments": comments,
        "team": obj.team.all(),
        "my_terms_accepted": obj.team.filter(
            email__iexact=request.user.email, accepted_terms_at__isnull=False
        ).exists(),
        "timeline": _timeline(obj),
        "rounds": list(range(1, obj.round + 1)),
        "forms": {
            "declare": forms.DeclareForm(),
            "vote": forms.VoteForm(),
            "comment": forms.CommentForm(),
            "close_round": forms.CloseRoundForm(),
            "reason": forms.ReasonForm(),
        },
        "is_board": is_board,
    }
    return render(request, "requests/detail.html", context)


ACTION_FORMS = {
    "submit": (None, services.request_submit),
    "resubmit": (None, services.request_resubmit),
    "withdraw": (forms.ReasonForm, services.request_withdraw),
    "accept_terms": (None, services.terms_accept),
    "declare_conflict": (forms.DeclareForm, services.conflict_declare),
    "vote": (forms.VoteForm, services.vote_cast),
    "comment": (forms.CommentForm, services.comment_add),
    "close_round": (forms.CloseRoundForm, services.round_close),
    "decide_dataset": (forms.DecideForm, services.dataset_decide),
    "amend": (forms.ReasonForm, services.request_amend),
    "close": (forms.ReasonForm, services.request_close),
}


@login_required
@require_POST
def request_act(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """Every command from a page. Irreversible ones ask for confirmation first."""
    obj = _get(request, reference)
    if action not in ACTION_FORMS:
        raise Http404("No such action.")
    form_class, service = ACTION_FORMS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(
            request,
            _("Please correct the form: %(errors)s")
            % {"errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())},
        )
        return redirect(obj.get_absolute_url())
    data = dict(form.cleaned_data) if form else {}
    if action == "close_round" and not data.get("decision"):
        data["decision"] = None
    transition = BY_ACTION[action]
    needs_confirmation = transition.is_irreversible and request.POST.get("confirmed") != "yes"
    if needs_confirmation and not (
        action == "decide_dataset" and data.get("decision") == "granted"
    ):
        return render(
            request,
            "requests/confirm.html",
            {
                "obj": obj,
                "transition": transition,
                "action": action,
                "fields": [(k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"],
            },
        )
    try:
        service(actor=request.user, request_id=obj.pk, **data)
    except DomainError as exc:
        messages.error(
            request,
            exc.message
            + (
                " " + "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
                if exc.errors
                else ""
            ),
        )
        if isinstance(exc, InvalidInput) and action in ("submit", "resubmit"):
            return redirect("requests:edit", reference=obj.reference, section="review")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("Done: %(label)s.") % {"label": transition.label})
    try:
        return redirect(_get(request, reference).get_absolute_url())
    except Http404:
        return redirect("requests:dashboard")


@login_required
def request_diff(request: HttpRequest, reference: str) -> HttpResponse:
    obj = _get(request, reference)
    rounds = {s.round: s.answers for s in obj.submissions.all()}
    try:
        first = int(request.GET.get("from", 1))
        second = int(request.GET.get("to", obj.round))
    except ValueError:
        first, second = 1, obj.round
    if first not in rounds or second not in rounds:
        messages.info(request, _("There is no earlier round to compare with yet."))
        return redirect(obj.get_absolute_url())
    private = can_see_private(request.user, obj, roles_of(request.user, obj))
    changes = diff(
        redact(rounds[first], can_see_private=private),
        redact(rounds[second], can_see_private=private),
    )
    return render(
        request,
        "requests/diff.html",
        {
            "obj": obj,
            "changes": changes,
            "first": first,
            "second": second,
            "rounds": sorted(rounds),
        },
    )


@login_required
def board_queue_page(request: HttpRequest, board_id: int) -> HttpResponse:
    try:
        board, stages = board_queue(user=request.user, board_id=board_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(
        request,
        "requests/board_queue.html",
        {"board": board, "stages": stages, "open": StageState.OPEN},
    )


def section_url(reference: str, section: str) -> str:
    return reverse("requests:edit", args=[reference, section])
