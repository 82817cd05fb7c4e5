"""Permit pages (HTML): the public register, a permit's page and its commands."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lifes.errors import DomainError, NotFound
from permits import selectors, services, workflow
from permits.forms import ReasonForm, RegisterFilterForm
from requests_app.selectors import request_get

COMMANDS = {
    "suspend": services.permit_suspend,
    "resume": services.permit_resume,
    "revoke": services.permit_revoke,
}


def register(request: HttpRequest) -> HttpResponse:
    """Public: every permit issued, with no personal data (EHDS Art. 58)."""
    form = RegisterFilterForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(selectors.register_list(query=query), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "permits/register.html",
        {"form": form, "page": page, "query_string": f"q={query}" if query else ""},
    )


def register_entry(request: HttpRequest, number: str) -> HttpResponse:
    """Public: one permit's register entry (what a printed certificate's QR code opens)."""
    permit = selectors.register_list().filter(number=number).first()
    if permit is None:
        raise Http404("No such permit.")
    return render(request, "permits/register_entry.html", {"permit": permit})


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
            "actions": {t.action: t for t in workflow.actions_for(permit=permit, roles=roles)},
            "form": ReasonForm(),
        },
    )


@login_required
@require_POST
def permit_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Suspend, resume or revoke from the permit page; refusals come back as a message."""
    if action not in COMMANDS:
        raise Http404("No such action.")
    try:
        permit = selectors.permit_get(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect(permit)
    try:
        COMMANDS[action](actor=request.user, number=number, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            {
                "suspend": _("The permit is suspended; nodes refuse it from the next list."),
                "resume": _("The permit is active again."),
                "revoke": _("The permit is revoked everywhere."),
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
