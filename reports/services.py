"""Asking for a report and building it.

``report_request`` decides who may have which report (the same people who may see its subject;
period reports for auditors and staff only) and queues the build after commit. ``report_build``
runs in the worker: it verifies the chain, gathers the content up to the verified head, renders
the PDF and records the file's SHA-256 in the chain, so a printed report can be checked against
the live log. Progress is written in short transactions of their own so the page can poll it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from audit.selectors import can_read_log
from audit.services import audit_record, chain_verify
from lifes.errors import InvalidInput, NotFound
from reports import sources
from reports.builders import BUILDERS
from reports.models import Report, ReportKind, ReportStatus
from reports.pdf import html_to_pdf
from requests_app.selectors import request_get

logger = logging.getLogger(__name__)

HUB = "hub"


def can_read_period_reports(user: Any) -> bool:
    """Period reports cover every request of an organisation: auditors and staff only."""
    return can_read_log(user)


def _subject_check(
    *,
    actor: Any,
    kind: str,
    subject: str,
    organisation: Organisation | None,
    period_start: date | None,
    period_end: date | None,
) -> str:
    """Raise NotFound unless ``actor`` may have this report; return the subject to store."""
    if kind == ReportKind.DOSSIER:
        return request_get(user=actor, reference=subject).reference
    if kind == ReportKind.CERTIFICATE:
        return sources.permit_get(user=actor, number=subject).number
    if kind == ReportKind.PERIOD:
        if not can_read_period_reports(actor):
            raise NotFound("No such report.")
        if period_start is None or period_end is None:
            raise InvalidInput(
                "A period report needs a start and an end date.",
                errors={"period_end": [_("Give the start and end of the period.")]},
            )
        if period_end < period_start:
            raise InvalidInput(
                "The period ends before it starts.",
                errors={"period_end": [_("The end must not be before the start.")]},
            )
        return str(organisation.pk) if organisation is not None else HUB
    raise InvalidInput("Unknown report kind.", errors={"kind": [_("Unknown report kind.")]})


def report_request(
    *,
    actor: Any,
    kind: str,
    subject: str = "",
    organisation: Organisation | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Report:
    """Queue a report for ``actor``; refusals are 'not found' and change nothing."""
    if actor is None or not actor.is_authenticated:
        raise NotFound("No such report.")
    stored_subject = _subject_check(
        actor=actor,
        kind=kind,
        subject=subject,
        organisation=organisation,
        period_start=period_start,
        period_end=period_end,
    )
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind,
            subject=stored_subject,
            requested_by=actor,
            organisation=organisation if kind == ReportKind.PERIOD else None,
            period_start=period_start if kind == ReportKind.PERIOD else None,
            period_end=period_end if kind == ReportKind.PERIOD else None,
        )
        audit_record(
            actor=actor,
            action="report.requested",
            target=report,
            payload={
                "kind": kind,
                "subject": stored_subject,
                "period_start": period_start if kind == ReportKind.PERIOD else None,
                "period_end": period_end if kind == ReportKind.PERIOD else None,
            },
        )
        transaction.on_commit(lambda: _queue(report.pk))
    return report


def _queue(report_id: int) -> None:
    from reports.tasks import build_report_task

    try:
        build_report_task.delay(report_id)
    except Exception:  # noqa: BLE001 - the row stays queued; a retry of the page can requeue
        logger.exception("could not queue report %s", report_id)


def _set(report_id: int, **fields: Any) -> None:
    """One short transaction per update, so a polling page sees it at once."""
    with transaction.atomic():
        Report.objects.filter(pk=report_id).update(**fields)


def _claim(report_id: int) -> Report | None:
    """Mark the report running unless it is done (a redelivered task must not rebuild it)."""
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status == ReportStatus.DONE:
            return None
        report.status, report.progress, report.message = ReportStatus.RUNNING, 1, _("Starting")
        report.started_at = timezone.now()
        report.save(update_fields=["status", "progress", "message", "started_at"])
        return report


def report_render_html(
    report: Report, *, progress: Callable[[int, str], None] | None = None
) -> tuple[str, Any]:
    """Verify the chain and render the report's HTML; returns it with the chain report."""
    step = progress or (lambda _percent, _message: None)
    step(2, _("Verifying the audit chain"))
    chain = chain_verify()
    step(5, _("Audit chain verified"))
    context = BUILDERS[report.kind](report, head_seq=chain.head_seq, progress=step)
    html = render_to_string(
        context.pop("template"),
        {**context, "report": report, "chain": chain, "generated_at": timezone.now()},
    )
    return html, chain


def report_build(
    *, report_id: int, on_progress: Callable[[Report], None] | None = None
) -> Report | None:
    """Build one report. Safe to run twice: a done report is left as it is.

    ``on_progress`` is called with the stored row after each progress update (tests and the
    benchmark watch the build with it).
    """
    report = _claim(report_id)
    if report is None:
        return None
    last = [1]

    def progress(percent: int, message: str) -> None:
        percent = max(last[0], min(int(percent), 99))
        last[0] = percent
        _set(report_id, progress=percent, message=message[:300])
        if on_progress is not None:
            on_progress(Report.objects.get(pk=report_id))

    try:
        html, chain = report_render_html(report, progress=progress)
        progress(85, _("Rendering the PDF"))
        data = html_to_pdf(html)
    except Exception as exc:  # noqa: BLE001 - any failure is shown on the report's page
        logger.exception("report %s failed", report_id)
        _set(
            report_id,
            status=ReportStatus.FAILED,
            message=str(exc)[:300],
            finished_at=timezone.now(),
        )
        return Report.objects.get(pk=report_id)
    progress(95, _("Recording the file in the audit chain"))
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        if report.status == ReportStatus.DONE:
            return report
        report.file.save(report.filename, ContentFile(data), save=False)
        report.sha256, report.head_seq, report.head_hash = digest, chain.head_seq, chain.head_hash
        report.is_chain_intact = chain.is_intact
        report.status, report.progress, report.message = ReportStatus.DONE, 100, _("Done")
        report.finished_at = timezone.now()
        report.save(
            update_fields=[
                "file",
                "sha256",
                "head_seq",
                "head_hash",
                "is_chain_intact",
                "status",
                "progress",
                "message",
                "finished_at",
            ]
        )
        audit_record(
            actor=report.requested_by,
            action="report.generated",
            target=report,
            payload={
                "kind": report.kind,
                "subject": report.subject,
                "sha256": digest,
                "head_seq": chain.head_seq,
                "head_hash": chain.head_hash,
            },
        )
    return report
