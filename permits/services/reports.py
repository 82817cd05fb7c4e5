"""Progress reports while a permit runs and a closeout report after it ends (EHDS Art. 61 and
the data-use terms the access body sets): when each is due, the holder filing it (the
``file_report`` row of ``permits.workflow``), reminders before it is due, and the list of
overdue ones that staff follow up.

A superseded permit owes nothing more: the version that replaced it carries the reports on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from lifes.errors import InvalidInput, InvalidTransition
from permits import workflow
from permits.errors import Code
from permits.models import Permit, PermitReport, PermitReportKind, PermitStatus
from permits.services.common import notify_team
from permits.services.issue import add_months
from permits.services.lifecycle import _locked

#: A permit that ended in one of these owes a closeout report from the day it ended.
ENDED = (PermitStatus.EXPIRED, PermitStatus.CLOSED, PermitStatus.REVOKED)
#: These owe reports at all (a superseded permit's next version owes them).
REPORTING = (PermitStatus.ACTIVE, PermitStatus.SUSPENDED, *ENDED)
MAX_REPORT = 10000


@dataclass(frozen=True)
class Due:
    kind: str
    due_on: dt.date


def ended_on(permit: Permit) -> dt.date:
    """The day the permit ended (or will end): its validity's end, or earlier when it was
    closed or revoked."""
    end = permit.valid_until
    if permit.status in (PermitStatus.CLOSED, PermitStatus.REVOKED) and permit.status_changed_at:
        end = min(end, permit.status_changed_at)
    return timezone.localtime(end).date()


def report_schedule(permit: Permit) -> list[Due]:
    """Every report the permit owes: a progress report each ``EHDS_PROGRESS_REPORT_MONTHS``
    from issue while it runs, and a closeout report ``EHDS_CLOSEOUT_REPORT_DAYS`` after it
    ends. Pure: the same permit gives the same schedule."""
    if permit.status not in REPORTING:
        return []
    end = ended_on(permit)
    issued = timezone.localtime(permit.issued_at)
    schedule: list[Due] = []
    step = 1
    while settings.EHDS_PROGRESS_REPORT_MONTHS > 0:
        due = add_months(issued, step * settings.EHDS_PROGRESS_REPORT_MONTHS).date()
        if due >= end:
            break
        schedule.append(Due(PermitReportKind.PROGRESS, due))
        step += 1
    closeout = end + dt.timedelta(days=settings.EHDS_CLOSEOUT_REPORT_DAYS)
    schedule.append(Due(PermitReportKind.CLOSEOUT, closeout))
    return schedule


def _has_ended(permit: Permit, now: dt.datetime) -> bool:
    return permit.status in ENDED or permit.valid_until <= now


def report_next(permit: Permit, *, now: dt.datetime | None = None) -> Due | None:
    """The report the holder files next: the closeout once the permit has ended, else the
    earliest progress report not filed yet; ``None`` when nothing is owed."""
    now = now or timezone.now()
    filed = set(
        PermitReport.objects.filter(permit=permit, filed_at__isnull=False).values_list(
            "kind", "due_on"
        )
    )
    kind = PermitReportKind.CLOSEOUT if _has_ended(permit, now) else PermitReportKind.PROGRESS
    for due in report_schedule(permit):
        if due.kind == kind and (due.kind, due.due_on) not in filed:
            return due
    return None


def permit_report_file(*, actor: Any, number: str, reason: str) -> PermitReport:
    """The holder files the next report owed (``reason`` is the report's text, as the table's
    command input). Refused when nothing is owed now (``report_already_filed``)."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(
            _("Write the report."),
            code=Code.REPORT_REQUIRED,
            errors={"reason": [_("The report is empty.")]},
        )
    with transaction.atomic():
        permit = _locked(number)
        roles = workflow.roles_on_permit(actor, permit)
        transition = workflow.authorize("file_report", permit=permit, roles=roles)
        now = timezone.now()
        due = report_next(permit, now=now)
        if due is None:
            raise InvalidTransition(
                _("Every report owed on this permit has been filed."),
                code=Code.REPORT_ALREADY_FILED,
            )
        report, _created = PermitReport.objects.update_or_create(
            permit=permit,
            kind=due.kind,
            due_on=due.due_on,
            defaults={"summary": text[:MAX_REPORT], "filed_at": now, "filed_by": actor},
        )
        audit_record(
            actor=actor,
            action=transition.audit_action,
            target=permit,
            payload={
                "number": permit.number,
                "jti": str(permit.jti),
                "kind": due.kind,
                "due_on": due.due_on,
                "late": due.due_on < timezone.localdate(),
            },
        )
    return report


def permit_reports_remind(*, now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Beat: make a row for every report due within ``EHDS_REPORT_REMINDER_DAYS`` (so staff see
    it when overdue) and remind the holder and team once per report. Returns the reminders
    sent. Safe to run twice: a reminded report is not reminded again."""
    now = now or timezone.now()
    horizon = timezone.localtime(now).date() + dt.timedelta(days=settings.EHDS_REPORT_REMINDER_DAYS)
    # Only permits that can owe something: not superseded, and not past their closeout.
    oldest_end = now - dt.timedelta(days=settings.EHDS_CLOSEOUT_REPORT_DAYS + 366)
    permits = (
        Permit.objects.filter(status__in=REPORTING, valid_until__gte=oldest_end)
        .select_related("request")
        .order_by("pk")[:batch_size]
    )
    sent = 0
    for permit in permits:
        for due in report_schedule(permit):
            if due.due_on > horizon:
                continue
            with transaction.atomic():
                report, _created = PermitReport.objects.select_for_update().get_or_create(
                    permit=permit, kind=due.kind, due_on=due.due_on
                )
                if report.filed_at is not None or report.reminded_at is not None:
                    continue
                report.reminded_at = now
                report.save(update_fields=["reminded_at"])
                notify_team(permit, template="report_due", context={"report": report})
                sent += 1
    return sent
