"""Asking for a report and building it.

``report_request`` decides who may have which report (the same people who may see its subject;
period reports for auditors and staff, and for a data holder's stewards about their own
organisation) and queues the build after commit. ``report_build``
runs in the worker: it verifies the chain, gathers the content up to the verified head, renders
the PDF and records the file's SHA-256 in the chain, so a printed report can be checked against
the live log. Progress is written in short transactions of their own so the page can poll it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

import outbox
from accounts.models import Membership, MembershipRole, Organisation, User
from audit.selectors import can_read_log, tree_head_data
from audit.services import audit_record, chain_verify, tree_head_sign
from lifes.errors import InvalidInput, NotFound, TooManyRequests
from permits.selectors import permit_get
from reports.builders import BUILDERS
from reports.errors import Code
from reports.models import Report, ReportKind, ReportStatus
from reports.pdf import html_to_pdf
from requests_app.selectors import request_get

logger = logging.getLogger(__name__)

HUB = "hub"


def can_read_period_reports(user: Any) -> bool:
    """Whether ``user`` may ask for some period report: auditors and staff (any organisation,
    or the whole hub), and a data holder's stewards and admins (their own organisation)."""
    return can_read_log(user) or bool(period_report_organisations(user))


def period_report_organisations(user: Any) -> list[int]:
    """The organisations whose period report ``user`` may have without reading the whole log:
    those where they are a data steward or an organisation admin. Such a report counts only
    the requests ``user`` may see (``builders.period``)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return list(
        Membership.objects.filter(
            user=user, role__in=(MembershipRole.STEWARD, MembershipRole.ADMIN)
        ).values_list("organisation_id", flat=True)
    )


def can_read_period_report(user: Any, organisation: Organisation | None) -> bool:
    """The one decision on a period report: auditors and staff may have any (``None`` is the
    whole hub); a steward or admin of an organisation may have that organisation's."""
    if can_read_log(user):
        return True
    return organisation is not None and organisation.pk in period_report_organisations(user)


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
        return permit_get(user=actor, number=subject).number
    if kind == ReportKind.PERIOD:
        if not can_read_period_report(actor, organisation):
            raise NotFound(_("No such report."), code=Code.NOT_FOUND)
        if period_start is None or period_end is None:
            raise InvalidInput(
                _("A period report needs a start and an end date."),
                errors={"period_end": [_("Give the start and end of the period.")]},
                code=Code.INVALID,
            )
        if period_end < period_start:
            raise InvalidInput(
                _("The period ends before it starts."),
                errors={"period_end": [_("The end must not be before the start.")]},
                code=Code.INVALID,
            )
        return str(organisation.pk) if organisation is not None else HUB
    raise InvalidInput(
        _("Unknown report kind."), errors={"kind": [_("Unknown report kind.")]}, code=Code.INVALID
    )


def _rate_check(actor: Any) -> None:
    """At most ``REPORTS_PER_HOUR`` reports per person per hour: each one is a PDF build in the
    worker, so one person cannot fill the queue for everyone. Counted from the person's own
    report rows under a lock on their user row, so two requests at once cannot both slip in."""
    User.objects.select_for_update().filter(pk=actor.pk).first()
    since = timezone.now() - timedelta(hours=1)
    if Report.objects.filter(requested_by=actor, created_at__gte=since).count() >= (
        settings.REPORTS_PER_HOUR
    ):
        raise TooManyRequests(
            _("You asked for %(limit)s reports in the last hour; wait a while and try again.")
            % {"limit": settings.REPORTS_PER_HOUR}
        )


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
        raise NotFound(_("No such report."), code=Code.NOT_FOUND)
    stored_subject = _subject_check(
        actor=actor,
        kind=kind,
        subject=subject,
        organisation=organisation,
        period_start=period_start,
        period_end=period_end,
    )
    with transaction.atomic():
        _rate_check(actor)
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
        outbox.add("reports.build", key=f"report:{report.pk}", report_id=report.pk)
    return report


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
    """Verify the log and render the report's HTML from the signed tree head at its end;
    returns it with the log report."""
    step = progress or (lambda _percent, _message: None)
    step(2, _("Verifying the audit log"))
    chain = chain_verify()
    step(5, _("Audit log verified"))
    head = tree_head_sign() if chain.is_intact else None
    if head is not None:  # the report is bounded by, and names, the signed head
        chain = dataclasses.replace(chain, head_seq=head.tree_size, head_hash=head.root_hash)
    context = BUILDERS[report.kind](report, head_seq=chain.head_seq, progress=step)
    html = render_to_string(
        context.pop("template"),
        {
            **context,
            "report": report,
            "chain": chain,
            "tree_head": tree_head_data(head) if head is not None else None,
            "generated_at": timezone.now(),
        },
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
        return _build(report, progress)
    except Exception as exc:  # noqa: BLE001 - any failure is shown on the report's page
        # Every step is inside the ``try`` (the PDF, the progress writes, the final
        # transaction), so a report never stays "running" after its build stopped. If even this
        # write fails (the database is down), the sweeper fails it at its deadline.
        logger.exception("report %s failed", report_id)
        _fail(report_id, reason=str(exc) or type(exc).__name__)
        return Report.objects.filter(pk=report_id).first()


def _fail(report_id: int, *, reason: str) -> int:
    """Mark a report failed with a reason, unless it is done (one short transaction)."""
    with transaction.atomic():
        return (
            Report.objects.filter(pk=report_id)
            .exclude(status=ReportStatus.DONE)
            .update(status=ReportStatus.FAILED, message=reason[:300], finished_at=timezone.now())
        )


def _build(report: Report, progress: Callable[[int, str], None]) -> Report:
    report_id = report.pk
    html, chain = report_render_html(report, progress=progress)
    progress(85, _("Rendering the PDF"))
    data = html_to_pdf(html)
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
                # what the verification behind the file's log section covered
                "verified_size": chain.count,
                "tree_heads_checked": chain.heads,
            },
        )
    return report


def reports_sweep(*, batch_size: int = 100) -> dict[str, list[int]]:
    """Beat: no report stays queued or running past its deadline.

    A report ``running`` for longer than ``REPORT_DEADLINE`` seconds has lost its build (the
    worker died or the time limit killed it): it is failed with that reason. A report
    ``queued`` for longer than that has lost its ``reports.build`` effect: it is re-driven, at
    most once per ``SWEEP_REDRIVE_EVERY``. Each action is an audit event, each report under its
    row lock (``SKIP LOCKED`` where available), so two sweepers at once act once.
    """
    from outbox.services import outbox_has_recent

    cutoff = timezone.now() - timezone.timedelta(seconds=settings.REPORT_DEADLINE)
    stuck = list(
        Report.objects.filter(
            Q(status=ReportStatus.RUNNING, started_at__lt=cutoff)
            | Q(status=ReportStatus.QUEUED, created_at__lt=cutoff)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    done: dict[str, list[int]] = {"failed": [], "redriven": []}
    for report_id in stuck:
        with transaction.atomic():
            rows = Report.objects.filter(
                Q(status=ReportStatus.RUNNING, started_at__lt=cutoff)
                | Q(status=ReportStatus.QUEUED, created_at__lt=cutoff),
                pk=report_id,
            )
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            else:
                rows = rows.select_for_update()
            report = rows.first()
            if report is None:
                continue
            key = f"report:{report.pk}"
            if report.status == ReportStatus.RUNNING:
                reason = _("The build stopped before it finished; ask for the report again.")
                report.status, report.message = ReportStatus.FAILED, reason
                report.finished_at = timezone.now()
                report.save(update_fields=["status", "message", "finished_at"])
                action, bucket = "report.failed", "failed"
            elif outbox_has_recent(
                name="reports.build", key=key, since_seconds=settings.SWEEP_REDRIVE_EVERY
            ):
                continue
            else:
                outbox.add("reports.build", key=key, report_id=report.pk)
                action, bucket = "report.redriven", "redriven"
            audit_record(
                actor=None,
                action=action,
                target=report,
                payload={"kind": report.kind, "subject": report.subject, "status": report.status},
            )
            done[bucket].append(report.pk)
    return done


METRICS_SNAPSHOT = "hub"


def metrics_refresh(*, force: bool = False) -> Any:
    """Beat (``METRICS_REFRESH_SECONDS``): recompute the metrics page's figures when the log has
    moved since the last refresh (its newest event id is the mark), else only mark them checked.
    Time in state comes from the stays the workflow keeps (index steps, not a read of the log),
    the rest from grouped counts; the page then reads one row. Safe to run twice."""
    from audit.models import AuditEvent
    from reports import metrics
    from reports.models import MetricsSnapshot

    now = timezone.now()
    through = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    snapshot = MetricsSnapshot.objects.filter(name=METRICS_SNAPSHOT).first()
    if snapshot is not None and snapshot.through_event == through and not force:
        snapshot.checked_at = now
        snapshot.save(update_fields=["checked_at"])
        return snapshot
    figures = {
        "spreads": [dataclasses.asdict(spread) for spread in metrics.time_in_states()],
        "months": [list(pair) for pair in metrics.requests_per_month()],
        "boards": metrics.decisions_per_board(),
    }
    snapshot, _created = MetricsSnapshot.objects.update_or_create(
        name=METRICS_SNAPSHOT,
        defaults={
            "figures": figures,
            "through_event": through,
            "computed_at": now,
            "checked_at": now,
        },
    )
    return snapshot
