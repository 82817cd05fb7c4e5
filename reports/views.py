"""Report pages: my reports, one report's progress (polled), the download, and the metrics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import can_read_log
from lifes.errors import DomainError, NotFound
from lifes.files import private_file_response
from permits.selectors import permit_get
from reports import metrics, services
from reports.charts import bar_chart
from reports.forms import ReportForm
from reports.models import Report, ReportStatus
from reports.selectors import (
    can_read_metrics,
    decision_letter_get,
    is_file_for,
    metrics_snapshot,
    report_file_get,
    report_get,
    reports_of,
)
from requests_app.models import RequestState


def _get(request: HttpRequest, report_id: int) -> Report:
    try:
        return report_get(user=request.user, report_id=report_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _create(request: HttpRequest, form: ReportForm) -> Report | None:
    """Ask the service; its refusals become form errors (or 404 when the subject is unseen)."""
    data = form.cleaned_data
    try:
        return services.report_request(
            actor=request.user,
            kind=data["kind"],
            subject=data.get("subject") or "",
            organisation=data.get("organisation"),
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        for field, messages_ in exc.errors.items():
            form.add_error(field if field in form.fields else None, messages_)
        if not exc.errors:
            form.add_error(None, exc.message)
    return None


def _form(request: HttpRequest, data: Any = None, **kwargs: Any) -> ReportForm:
    """The report form, offering a data holder's steward only their own organisations for a
    period report (the service decides; this only spares them a refusal)."""
    limited = (
        None if can_read_log(request.user) else services.period_report_organisations(request.user)
    )
    return ReportForm(data, period_organisations=limited, **kwargs)


@login_required
@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest) -> HttpResponse:
    form = _form(request, request.POST or None, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        report = _create(request, form)
        if report is not None:
            return redirect(report)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reports/list.html",
        {
            "form": form,
            "reports": reports_of(request.user)[:100],
            "can_period": services.can_read_period_reports(request.user),
        },
        status=status,
    )


@login_required
@require_POST
def report_create(request: HttpRequest) -> HttpResponse:
    """The one-button forms elsewhere (the request page's dossier box) post here."""
    form = _form(request, request.POST)
    if form.is_valid():
        report = _create(request, form)
        if report is not None:
            return redirect(report)
    return render(
        request,
        "reports/list.html",
        {
            "form": form,
            "reports": reports_of(request.user)[:100],
            "can_period": services.can_read_period_reports(request.user),
        },
        status=400,
    )


@login_required
@require_GET
def permit_certificate(request: HttpRequest, number: str) -> HttpResponse:
    """The permit page's link: the report form filled in for this permit's certificate.

    A GET must not build anything, so this only checks the permit is visible and hands over
    to the form, whose POST asks for the report.
    """
    from urllib.parse import urlencode

    try:
        permit = permit_get(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    query = urlencode({"kind": "certificate", "subject": permit.number})
    return redirect(f"{reverse('reports:list')}?{query}")


def _status(report: Report, user) -> dict:
    return {
        "id": report.pk,
        "kind": report.kind,
        "subject": report.subject,
        "status": report.status,
        "status_display": str(report.get_status_display()),
        "progress": report.progress,
        "message": report.message,
        "sha256": report.sha256,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "download_url": reverse("reports:download", args=[report.pk])
        if report.status == ReportStatus.DONE and is_file_for(user, report)
        else None,
    }


@login_required
@require_GET
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _get(request, report_id)
    return render(
        request, "reports/detail.html", {"report": report, "status": _status(report, request.user)}
    )


@login_required
@require_GET
def report_status(request: HttpRequest, report_id: int) -> JsonResponse:
    report = _get(request, report_id)
    return JsonResponse(_status(report, request.user), headers={"Cache-Control": "no-store"})


@login_required
@require_GET
def report_download(request: HttpRequest, report_id: int) -> HttpResponse:
    try:
        report = report_file_get(user=request.user, report_id=report_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return private_file_response(
        request, report.file, filename=report.filename, content_type="application/pdf"
    )


def month_label(iso: str) -> str:
    """``2026-12`` as the reader's language writes a month: ``Dec 2026``, ``dec 2026``."""
    try:
        year, month = (int(part) for part in iso.split("-"))
        return date_format(dt.date(year, month, 1), "SHORT_YEAR_MONTH_FORMAT")
    except ValueError:
        return iso


@login_required
@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    if not can_read_metrics(request.user):
        raise Http404("No such page.")
    # One row the beat keeps fresh (reports.services.metrics_refresh), never the log itself.
    snapshot = metrics_snapshot()
    labels = dict(RequestState.choices)
    spreads = [
        metrics.Spread(**{**row, "label": str(labels.get(row["state"], row["label"]))})
        for row in snapshot.figures["spreads"]
    ]
    # The snapshot keeps months as ISO "2026-12"; people read "Dec 2026" / "dec 2026".
    month_rows = [(iso, month_label(iso), n) for iso, n in snapshot.figures["months"]]
    months = [(label, n) for _iso, label, n in month_rows]
    boards = snapshot.figures["boards"]
    return render(
        request,
        "reports/metrics.html",
        {
            "snapshot": snapshot,
            "spreads": spreads,
            "months": months,
            "month_rows": month_rows,
            "boards": boards,
            "median_chart": bar_chart(
                [(s.label, s.median_days or 0.0) for s in spreads],
                title=_("Median days in each state"),
                unit=" d",
            ),
            "p90_chart": bar_chart(
                [(s.label, s.p90_days or 0.0) for s in spreads],
                title=_("90th percentile of days in each state"),
                unit=" d",
            ),
            "months_chart": bar_chart(months, title=_("Requests per month")),
            "boards_chart": bar_chart(
                [(row["board"], row["total"]) for row in boards], title=_("Decisions per board")
            ),
            "deadlines": metrics.decision_deadlines(),
        },
    )


@login_required
@require_GET
def decision_letter(request: HttpRequest, reference: str) -> HttpResponse:
    """The decision letter (changes requested, or refusal) as a page; 404 for those who may
    not see the request, and when there is no such decision."""
    try:
        letter = decision_letter_get(user=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "reports/decision_letter.html", {"letter": letter})


@login_required
@require_GET
def decision_letter_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    """The same letter as a PDF (WeasyPrint, offline), rendered on request: it is short."""
    from django.template.loader import render_to_string

    from reports.pdf import html_to_pdf

    try:
        letter = decision_letter_get(user=request.user, reference=reference)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    html = render_to_string("reports/pdf/decision_letter.html", {"letter": letter}, request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    name = f"decision-letter-{letter.request.reference}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
