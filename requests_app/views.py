"""Pages for every role. Thin: forms check shape, services decide and write."""

from __future__ import annotations

import re
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lifes.errors import DomainError, InvalidInput, NotFound
from lifes.files import private_file_response
from lifes.pagination import page_of
from requests_app import forms, services, workflow
from requests_app.answers import (
    current_answers,
    diff,
    missing_answers,
    missing_by_section,
    readable_diff,
)
from requests_app.application_form import (
    QuestionType,
    context_of,
    form_for_request,
    is_shown,
)
from requests_app.clock import clock_data
from requests_app.exports import csv_filename, csv_text
from requests_app.fees import fee_quote
from requests_app.journey import (
    answer_summary,
    complete_sections,
    decision_letter_available,
    next_steps,
    quorum_preview,
    saved_keys,
    timeline_lines,
)
from requests_app.models import StageState, VoteChoice
from requests_app.permissions import (
    declarations_of,
    may_write_internal_notes,
    open_stage,
    roles_of,
    situation_of,
    stewarded_in,
)
from requests_app.selectors import (
    after_decision_of,
    bars_liftable_by,
    board_queue,
    boards_of,
    clocks_attach,
    request_get,
    request_get_for_page,
    request_list,
    terms_status,
    waiting_page,
)
from requests_app.services.ehds import latest_check
from requests_app.visibility import (
    attachment_visible,
    board_reasons,
    known_titles,
    minimisation_of,
    request_view,
)
from requests_app.workflow import Role, actions_for, resolve


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
    clocks_attach(requests)
    counts: dict[str, int] = {}
    for item in requests:
        counts[item.state] = counts.get(item.state, 0) + 1
    waiting = waiting_page(request.user)
    return render(
        request,
        "requests/dashboard.html",
        {
            "waiting": waiting.items,
            "waiting_page": waiting,
            "requests": requests,
            "counts": counts,
            "boards": boards_of(request.user),
            "has_bars": bars_liftable_by(request.user).exists(),
        },
    )


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    """A new draft; ``?dataset=<slug>`` (the dataset page's "Request access") preselects it."""
    form = forms.NewRequestForm(
        request.POST or None, initial={"dataset": request.GET.get("dataset", "")}
    )
    if request.method == "POST" and form.is_valid():
        dataset = form.cleaned_data.get("dataset")
        try:
            created = services.request_create(
                actor=request.user,
                title=form.cleaned_data["title"],
                datasets=[dataset] if dataset is not None else None,
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("requests:edit", reference=created.reference, section="project")
    chosen = form.chosen_dataset()
    return render(request, "requests/new.html", {"form": form, "dataset": chosen})


def _save_section(request: HttpRequest, obj, form) -> bool:
    changes = dict(form.cleaned_data)
    datasets = changes.pop("datasets", None)
    algorithms = changes.pop("algorithms", None)
    try:
        services.request_update(
            actor=request.user,
            request_id=obj.pk,
            changes=changes,
            datasets=list(datasets) if datasets is not None else None,
            algorithms=list(algorithms) if algorithms is not None else None,
        )
    except (DomainError, ValidationError) as exc:
        _apply_errors(form, exc)
        return False
    return True


@login_required
def request_edit(request: HttpRequest, reference: str, section: str) -> HttpResponse:
    obj = _get(request, reference)
    application = form_for_request(obj)
    keys = application.section_keys
    if section not in (*keys, "review"):
        raise Http404("No such section.")
    current = situation_of(obj)
    roles = roles_of(request.user, obj)
    if "edit" not in [t.action for t in actions_for(current=current, roles=roles)]:
        messages.info(request, _("This request cannot be edited now."))
        return redirect(obj.get_absolute_url())
    missing = missing_by_section(missing_answers(obj, application), application)
    answers_now = current_answers(obj, application)
    context: dict[str, Any] = {
        "obj": obj,
        "section": section,
        "sections": application.sections,
        "missing": missing,
        "complete": complete_sections(keys, missing, saved_keys(obj), application),
        "private_fields": application.private_keys,
    }
    if section == "review":
        context["can_submit"] = not any(missing.values())
        context["action"] = "submit" if obj.state == "draft" else "resubmit"
        context["summary"] = answer_summary(answers_now, application)
        context["attachments"] = obj.attachments.filter(is_current=True)
        # The fee (Art. 62) is shown before submission; the first submission fixes it.
        context["fee"] = fee_quote(organisation=obj.organisation, datasets=list(obj.datasets.all()))
        # EHDS: what of each dataset is needed (Art. 66) and the terms in full (Art. 68).
        status = terms_status(obj)
        context["minimisation"] = [
            (m, forms.MinimisationForm(minimisation=m)) for m in minimisation_of(obj)
        ]
        context["terms"] = status.terms
        context["my_terms_accepted"] = (request.user.email.lower(), True) in status.people
        return render(request, "requests/wizard_review.html", context)
    form = forms.section_form(application, section, obj, request.POST or None)
    is_autosave = request.headers.get("X-Autosave") == "1"
    if request.method == "POST":
        saved = form.is_valid() and _save_section(request, obj, form)
        if is_autosave:
            return JsonResponse(
                {"saved": saved, "errors": form.errors.get_json_data()},
                status=200 if saved else 400,
            )
        if saved:
            # the datasets may have brought custodians' sections: ask the form again
            keys = form_for_request(obj).section_keys
            index = keys.index(section) if section in keys else len(keys)
            following = keys[index + 1] if index + 1 < len(keys) else "review"
            messages.success(request, _("Saved."))
            return redirect("requests:edit", reference=obj.reference, section=following)
    answers = current_answers(obj, application)
    conditions = context_of(obj)
    this_section = application.section(section)
    context["form"] = form
    context["current_section"] = this_section
    # Conditional questions: hidden now are rendered hidden; wizard.js shows them on change.
    context["hidden_fields"] = {
        q.key for q in this_section.questions if not is_shown(application, q, answers, conditions)
    }
    context["required_fields"] = {q.key for q in this_section.questions if q.required}
    context["show_when"] = {
        q.key: q.show_when
        for q in this_section.questions
        if q.show_when and "question" in (q.show_when)
    }
    types = {q.type for q in this_section.questions}
    if QuestionType.TEAM in types:
        context["team_form"] = forms.TeamInviteForm()
        context["team"] = obj.team.all()
    if QuestionType.ATTACHMENT in types:
        context["attachment_form"] = forms.AttachmentForm()
        context["attachments"] = obj.attachments.filter(is_current=True)
    if QuestionType.MONDO_DISEASES in types:
        context["mondo_url"] = reverse("consent_api:mondo_search")
    if QuestionType.DATASETS in types:
        context["datasets"] = next(
            f.queryset for f in form.fields.values() if f.question.type == QuestionType.DATASETS
        )
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


def _back(request: HttpRequest, default: str) -> str:
    """The wizard section the form was on (a custodian's section may ask for a file too)."""
    section = request.POST.get("section", "")
    return section if re.fullmatch(r"[-a-zA-Z0-9_]{1,60}", section) else default


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
    return redirect("requests:edit", reference=obj.reference, section=_back(request, "people"))


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
                replaces=form.cleaned_data.get("replaces"),
            )
            messages.success(
                request,
                _("The file was replaced.")
                if form.cleaned_data.get("replaces")
                else _("The file was attached."),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose a file and its kind."))
    return redirect("requests:edit", reference=obj.reference, section=_back(request, "settings"))


# The actions requests/detail.html lays out itself (submit and resubmit: the wizard's review).
LAID_OUT = frozenset(
    {
        "submit",
        "resubmit",
        "withdraw",
        "accept_terms",
        "comment",
        "declare_conflict",
        "vote",
        "close_round",
        "decide_dataset",
        "close",
    }
)


# The page's forms by the action that posts them: a refused post comes back in its own form,
# with the person's text kept and the error next to it.
PAGE_FORMS = {
    "declare_conflict": "declare",
    "vote": "vote",
    "comment": "comment",
    "close_round": "close_round",
}


def _detail_context(
    request: HttpRequest, obj, bound: tuple[str, Any] | None = None
) -> dict[str, Any]:
    view = request_view(user=request.user, request=obj)
    roles = set(view.roles)
    current = situation_of(obj)
    actions = {t.action: t for t in actions_for(current=current, roles=roles)}
    stage = open_stage(obj)
    my_declaration = next(iter(declarations_of(request.user, stage)), None) if stage else None
    mine = [v for v in stage.votes.all() if v.voter_id == request.user.pk] if stage else []
    my_vote = mine[0] if mine else None
    latest = view.latest
    can_write_internal = may_write_internal_notes(roles)
    page_forms: dict[str, Any] = {
        "declare": forms.DeclareForm(),
        "vote": forms.VoteForm(),
        "comment": forms.CommentForm(can_write_internal=can_write_internal),
        "close_round": forms.CloseRoundForm(),
        "reason": forms.ReasonForm(),
    }
    if bound is not None:
        page_forms[bound[0]] = bound[1]
    is_team = bool(roles & {Role.REQUESTER, Role.TEAM})
    return {
        "obj": obj,
        "view": view,
        "roles": roles,
        "situation": current,
        "actions": actions,
        "answers": latest.sections if latest else None,
        "submission": latest,
        "can_see_private": view.sight.private_answers,
        "checks": view.checks,
        "stages": view.stages,
        "open_stage": stage,
        "my_declaration": my_declaration,
        "my_vote": my_vote,
        "quorum": quorum_preview(stage) if "close_round" in actions else None,
        "items": view.decisions,
        "my_datasets": stewarded_in(request.user, obj),
        "comments": view.comments,
        "board_reasons": board_reasons(view),
        "team": view.team,
        "attachments": view.attachments,
        # Accepted the current version of every dataset's terms (a new version asks again).
        "my_terms_accepted": (request.user.email.lower(), True) in terms_status(obj).people,
        "timeline": timeline_lines(
            view.timeline(),
            can_see_private=view.sight.private_answers,
            titles=known_titles(obj),
        ),
        "next_steps": next_steps(view) if is_team else None,
        "has_letter": decision_letter_available(obj, [s.stage for s in view.stages]),
        # Actions this page has no block of its own for get a generic one from their row.
        "other_actions": [
            (t, resolve(t.form)() if t.form else None)
            for t in actions.values()
            if t.html and t.action not in LAID_OUT
        ],
        "rounds": list(range(1, obj.round + 1)),
        # The EHDS completeness check and statutory clock (services/ehds.py).
        "clock": clock_data(getattr(obj, "statutory_clock", None)),
        "clock_extension_reason": getattr(
            getattr(obj, "statutory_clock", None), "extension_reason", ""
        ),
        "completeness": latest_check(obj),
        "forms": page_forms,
        "after": after_decision_of(obj),
    }


@login_required
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        obj = request_get_for_page(user=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "requests/detail.html", _detail_context(request, obj))


@login_required
@require_GET
def attachment_download(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponse:
    """An attachment, for whoever the visibility rule lets read it; 404 for everyone else."""
    obj = _get(request, reference)
    attachment = attachment_visible(user=request.user, request=obj, attachment_id=attachment_id)
    if attachment is None:
        raise Http404(_("No such attachment."))
    return private_file_response(
        request,
        attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )


@login_required
@require_GET
def request_export_csv(request: HttpRequest, reference: str) -> HttpResponse:
    """The request as this person may see it, as CSV (the same view the page renders)."""
    obj = _get(request, reference)
    view = request_view(user=request.user, request=obj)
    response = HttpResponse(csv_text(view), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_filename(view)}"'
    return response


def _needs_confirmation(form, transition) -> bool:
    """Irreversible actions ask first; a form may say its input makes it reversible enough."""
    if not transition.is_irreversible:
        return False
    check = getattr(form, "needs_confirmation", None)
    return check() if check is not None else True


def _refused(request: HttpRequest, obj, action: str, form, message: str) -> HttpResponse:
    """A refused post: the page again, with the person's input kept in its form and the error
    beside it (never a redirect that loses what they wrote)."""
    messages.error(request, message)
    key = PAGE_FORMS.get(action)
    if form is None or key is None or not _has_written_text(form):
        return redirect(obj.get_absolute_url())  # nothing typed to lose: the page, as before
    if action == "comment":  # the same form the page offers this person
        form = forms.CommentForm(
            request.POST,
            can_write_internal=may_write_internal_notes(set(roles_of(request.user, obj))),
        )
        form.is_valid()
    if not form.non_field_errors() and not any(form.errors.values()):
        form.add_error(None, message)
    context = _detail_context(request, obj, bound=(key, form))
    return render(request, "requests/detail.html", context, status=400)


def _has_written_text(form) -> bool:
    """Whether the post carries text the person typed (a comment, a reason, a statement)."""
    return any(
        isinstance(field.widget, django_forms.Textarea) and str(form.data.get(name, "")).strip()
        for name, field in form.fields.items()
    )


def _errors_text(errors: dict) -> str:
    return "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in errors.items())


def done_message(action: str, data: dict[str, Any]) -> str:
    """What the page says after an action succeeded, in words."""
    if action == "vote":
        choice = dict(VoteChoice.choices).get(data.get("choice", ""), "")
        return _("You voted %(choice)s.") % {"choice": choice}
    text = workflow.DONE_MESSAGES.get(action)
    if text is None:
        transition = workflow.BY_ACTION.get(action)
        return str(transition.label) if transition else _("Saved.")
    return str(text)


@login_required
@require_POST
def request_act(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """Every command from a page, dispatched through the transition table: the row names the
    form that checks the input and the service that acts. Irreversible ones confirm first."""
    obj = _get(request, reference)
    transition = next(
        (t for t in workflow.TRANSITIONS if t.action == action and t.html and t.service), None
    )
    if transition is None:
        raise Http404("No such action.")
    form = resolve(transition.form)(request.POST) if transition.form else None
    if form is not None and not form.is_valid():
        return _refused(
            request,
            obj,
            action,
            form,
            _("Please correct the form: %(errors)s") % {"errors": _errors_text(form.errors)},
        )
    data = dict(form.cleaned_data) if form else {}
    if _needs_confirmation(form, transition) and request.POST.get("confirmed") != "yes":
        stage = open_stage(obj)
        return render(
            request,
            "requests/confirm.html",
            {
                "obj": obj,
                "transition": transition,
                "action": action,
                "fields": [(k, v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"],
                "quorum": quorum_preview(stage) if action == "close_round" else None,
                "open_stage": stage,
            },
        )
    try:
        resolve(transition.service)(actor=request.user, request_id=obj.pk, **data)
    except DomainError as exc:
        message = exc.message + (" " + _errors_text(exc.errors) if exc.errors else "")
        if isinstance(exc, InvalidInput) and exc.code == "incomplete":
            messages.error(request, message)
            return redirect("requests:edit", reference=obj.reference, section="review")
        if form is not None and exc.errors:
            for field, messages_ in exc.errors.items():
                form.add_error(field if field in form.fields else None, messages_)
        return _refused(request, obj, action, form, message)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, done_message(action, data))
    try:
        return redirect(_get(request, reference).get_absolute_url())
    except Http404:
        return redirect("requests:dashboard")


@login_required
def request_diff(request: HttpRequest, reference: str) -> HttpResponse:
    obj = _get(request, reference)
    view = request_view(user=request.user, request=obj)
    rounds = {r.round for r in view.rounds}
    try:
        first = int(request.GET.get("from", 1))
        second = int(request.GET.get("to", obj.round))
    except ValueError:
        first, second = 1, obj.round
    if first not in rounds or second not in rounds:
        messages.info(request, _("There is no earlier round to compare with yet."))
        return redirect(obj.get_absolute_url())
    form = view.round_form(second)
    changes = readable_diff(diff(view.round_answers(first), view.round_answers(second), form), form)
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
    page = page_of(stages, request.GET.get("page"))
    return render(
        request,
        "requests/board_queue.html",
        {"board": board, "stages": page.object_list, "page": page, "open": StageState.OPEN},
    )


def section_url(reference: str, section: str) -> str:
    return reverse("requests:edit", args=[reference, section])


@login_required
def bars_page(request: HttpRequest) -> HttpResponse:
    """Stewards' list of the bars in force on their datasets, each with its lift button."""
    return render(request, "requests/bars.html", {"bars": bars_liftable_by(request.user)})


@login_required
@require_POST
def bar_lift(request: HttpRequest, bar_id: int) -> HttpResponse:
    services.access_bar_lift(actor=request.user, bar_id=bar_id)
    messages.success(request, _("The bar is lifted."))
    return redirect("requests:bars")


@login_required
@require_POST
def attachment_remove(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponse:
    """The requester takes a file off the request while it is editable (earlier rounds keep
    the version they were submitted with)."""
    obj = _get(request, reference)
    try:
        services.attachment_remove(
            actor=request.user, request_id=obj.pk, attachment_id=attachment_id
        )
        messages.success(request, _("The file was removed."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("requests:edit", reference=obj.reference, section=_back(request, "settings"))


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """A team member's invitation link: create the account it is for, sign in, and go to the
    request to accept its terms. A used, expired or unknown link, or someone else signed in,
    is refused and nothing is written."""
    from django.contrib.auth import login

    try:
        invite = services.invitation_get(token=token)
    except DomainError as exc:
        return render(
            request,
            "requests/invitation.html",
            {"error": exc.message, "code": exc.code},
            status=410,
        )
    member = invite.member
    signed_in = request.user.is_authenticated
    form = forms.InvitationForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                actor=request.user if signed_in else None,
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except DomainError as exc:
            for field, problems in (exc.errors or {}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
            if not exc.errors:
                form.add_error(None, exc.message)
            status = 409 if exc.code != "invalid" else 400
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("Your account is ready. Read the terms below and accept them.")
            )
            return redirect(member.request.get_absolute_url())
    return render(
        request,
        "requests/invitation.html",
        {"form": form, "member": member, "invite": invite, "signed_in": signed_in},
        status=status,
    )


@login_required
@require_POST
def minimisation_save(request: HttpRequest, reference: str, dataset: str) -> HttpResponse:
    """The wizard's minimisation form for one dataset (part of editing the request)."""
    obj = _get(request, reference)
    form = forms.MinimisationForm(request.POST)
    if form.is_valid():
        try:
            services.minimisation_set(
                actor=request.user, request_id=obj.pk, dataset_slug=dataset, **form.cleaned_data
            )
            messages.success(request, _("Saved what you need of this dataset."))
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
    else:
        messages.error(request, _("Please correct the form."))
    return redirect("requests:edit", reference=obj.reference, section="review")
