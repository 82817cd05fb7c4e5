"""Permit pages (HTML): the public register, a permit's page and its commands."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from lifes.errors import DomainError, NotFound
from lifes.files import private_file_response
from permits import register as register_reads
from permits import selectors, services, workflow
from permits.forms import FindingForm, ReasonForm, RegisterFilterForm, ReportForm, ResultForm
from permits.models import PermitStatus
from permits.odrl import permit_agreement
from requests_app.selectors import request_get, terms_status


def register(request: HttpRequest) -> HttpResponse:
    """Public: every permit and refusal, with no personal data (EHDS Art. 57/58)."""
    form = RegisterFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    try:
        page = register_reads.register_page(
            query=filters.get("q", ""),
            kind=filters.get("kind", ""),
            status=filters.get("status", ""),
            cursor=request.GET.get("cursor", "")[:200],
        )
    except DomainError as exc:
        raise Http404(exc.message) from exc
    params = request.GET.copy()
    params.pop("cursor", None)
    next_query = ""
    if page.next_cursor:
        params["cursor"] = page.next_cursor
        next_query = params.urlencode()
        params.pop("cursor")
    return render(
        request,
        "permits/register.html",
        {
            "form": form,
            "entries": page.entries,
            "next_query": next_query,
            "first_query": params.urlencode(),
            "is_later_page": bool(request.GET.get("cursor")),
            "delay_days": settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS,
        },
    )


def register_entry(request: HttpRequest, number: str) -> HttpResponse:
    """Public: one register entry, a permit (what a printed certificate's QR code opens) or a
    refusal with its justification."""
    try:
        entry = register_reads.register_entry(key=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    odrl = jsonld_script(permit_agreement(entry.permit)) if entry.permit else ""
    return render(request, "permits/register_entry.html", {"entry": entry, "odrl_jsonld": odrl})


def jsonld_script(document: dict) -> str:
    """JSON for a <script type="application/ld+json"> element, escaped as Django's json_script
    escapes (json_script cannot set that type)."""
    text = json.dumps(document, indent=2)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return mark_safe(text)  # noqa: S308 - escaped above; nothing can close the script element


@login_required
def permit_detail(request: HttpRequest, number: str) -> HttpResponse:
    try:
        permit = selectors.permit_get(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    roles = workflow.roles_on_permit(request.user, permit)
    return render(
        request,
        "permits/detail.html",
        {
            "permit": permit,
            "receipts": selectors.receipts_of([permit])[:200],
            "run_outputs": selectors.run_outputs_of(user=request.user, permit=permit),
            "actions": {t.action: t for t in workflow.actions_for(permit=permit, roles=roles)},
            "form": ReasonForm(),
            "results": selectors.permit_results(user=request.user, permit=permit, roles=roles),
            "result_form": ResultForm(),
            "finding_form": FindingForm(),
            "report_form": ReportForm(),
            "reports": selectors.reports_of(permit),
            "terms": selectors.permit_terms(permit),
            "pending": (
                terms_status(permit.request).pending
                if permit.status == PermitStatus.AWAITING_ACCEPTANCE
                else []
            ),
        },
    )


@login_required
@require_POST
def permit_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Suspend, resume or revoke from the permit page; refusals come back as a message."""
    transition = next((t for t in workflow.commands() if t.action == action), None)
    if transition is None:
        raise Http404("No such action.")
    try:
        permit = selectors.permit_get(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = (ReportForm if action == "file_report" else ReasonForm)(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect(permit)
    try:
        workflow.resolve(transition.service)(
            actor=request.user, number=number, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            {
                "suspend": _("The permit is suspended; nodes refuse it from the next list."),
                "resume": _("The permit is active again."),
                "revoke": _("The permit is revoked everywhere."),
                "file_report": _("Your report is filed."),
            }[action],
        )
    return redirect(permit)


@login_required
@require_POST
def permit_issue(request: HttpRequest, reference: str) -> HttpResponse:
    """A data owner issues the permit of an approved request (when the automatic issue on
    approval could not, e.g. because the ethics approval had to be renewed first)."""
    try:
        access_request = request_get(user=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    try:
        permit = services.permit_issue(actor=request.user, request_id=access_request.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(access_request)
    messages.success(request, _("Permit %(number)s is issued.") % {"number": permit.number})
    return redirect(permit)


def _form_errors(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, " ".join([exc.message, *(m for ms in exc.errors.values() for m in ms)]))


@login_required
@require_POST
def permit_result_add(request: HttpRequest, number: str) -> HttpResponse:
    """The holder records a publication of the results (EHDS Art. 61)."""
    try:
        permit = selectors.permit_get(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = ResultForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the title, the date, and a DOI or web address."))
        return redirect(permit)
    try:
        services.result_record(actor=request.user, number=number, **form.cleaned_data)
    except DomainError as exc:
        _form_errors(request, exc)
    else:
        messages.success(request, _("The publication is recorded; the register shows it."))
    return redirect(permit)


@login_required
@require_POST
def permit_finding_add(request: HttpRequest, number: str) -> HttpResponse:
    """The holder reports a significant finding to the access body (EHDS Art. 61(3))."""
    try:
        permit = selectors.permit_get(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = FindingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Describe the finding."))
        return redirect(permit)
    try:
        services.finding_report(
            actor=request.user, number=number, statement=form.cleaned_data["statement"]
        )
    except DomainError as exc:
        _form_errors(request, exc)
    else:
        messages.success(request, _("The finding is reported to the access body."))
    return redirect(permit)


@login_required
def results_overdue(request: HttpRequest) -> HttpResponse:
    """Staff: permits whose results are past due with no publication recorded (Art. 61)."""
    if not request.user.is_staff:
        raise Http404("No such page.")
    from permits.services.results import results_due_on

    rows = [(p, results_due_on(p)) for p in selectors.permits_results_overdue()]
    return render(request, "permits/results_overdue.html", {"rows": rows})


@login_required
@require_GET
def run_output_download(request: HttpRequest, number: str, output_id: int) -> HttpResponse:
    """A run result, for the permit holder's team (the visibility rule); 404 for everyone else."""
    try:
        output = selectors.run_output_get(user=request.user, number=number, output_id=output_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return private_file_response(
        request, output.file, filename=output.original_name, content_type=output.content_type
    )


@login_required
def reports_overdue(request: HttpRequest) -> HttpResponse:
    """Staff's list of progress and closeout reports past their due date."""
    if not request.user.is_staff:
        raise Http404("No such page.")
    return render(
        request, "permits/reports_overdue.html", {"reports": selectors.reports_overdue()[:500]}
    )
