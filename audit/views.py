"""The audit explorer: auditors and staff browse, filter and export the whole log.

Anonymous visitors are sent to sign in; everyone else gets 404, as if the page did not exist.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from audit.exports import csv_filename, csv_lines
from audit.forms import AuditFilterForm
from audit.selectors import can_read_log, event_search, object_urls
from audit.services import audit_verify_request
from lifes.errors import NotAllowed
from lifes.pagination import page_of

PAGE_SIZE = 50


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    if not can_read_log(request.user):
        raise Http404
    query = request.GET.copy()
    query.pop("page", None)
    return AuditFilterForm(query or None)


def _render(
    request: HttpRequest, form: AuditFilterForm, *, page=None, rows=(), status: int = 200
) -> HttpResponse:
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/explorer.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query_string": query.urlencode(),
        },
        status=status,
    )


def _signed_in(view):
    """Anonymous visitors are asked to sign in (an auditor's bookmark must work); signed-in
    people who may not read the log still get 404, as if the page did not exist."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


@require_safe
@_signed_in
def explorer(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        return _render(request, form, status=400)
    events = event_search(user=request.user, **form.filters())
    page = page_of(events, request.GET.get("page"), per_page=PAGE_SIZE)
    links = object_urls(page.object_list)
    rows = [
        (
            event,
            links.get((event.object_type, event.object_id)),
            json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False),
        )
        for event in page
    ]
    return _render(request, form, page=page, rows=rows)


@require_safe
@_signed_in
def export_csv(request: HttpRequest) -> HttpResponse:
    """The filtered view as CSV, oldest first, streamed in chunks (any size, little memory)."""
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        return _render(request, form, status=400)
    events = event_search(user=request.user, **form.filters())
    response = StreamingHttpResponse(csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{csv_filename()}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@_signed_in
def verify_now(request: HttpRequest) -> HttpResponse:
    """Verify the whole log now (auditors and staff); the outcome is an event in the log, which
    the explorer then shows, filtered to the verifications."""
    try:
        audit_verify_request(actor=request.user)
    except NotAllowed as exc:
        raise Http404 from exc
    messages.success(
        request,
        _(
            "The log is being verified: every event and tree node is recomputed. The outcome is"
            " recorded in the log (audit.log_verified or audit.log_broken), shown below."
        ),
    )
    return redirect(f"{reverse('audit:explorer')}?action=audit.log_")
