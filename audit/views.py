"""The audit explorer: auditors and staff browse, filter and export the whole log.

Everyone else gets 404, as if the page did not exist.
"""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit.exports import csv_filename, csv_lines
from audit.forms import AuditFilterForm
from audit.selectors import can_read_log, event_search, object_urls

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


@require_safe
def explorer(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    if form.is_bound and not form.is_valid():
        return _render(request, form, status=400)
    events = event_search(user=request.user, **form.filters())
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
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
