"""Reads of reports, scoped to who is asking: 404 alike for missing and not yours."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audit.selectors import can_read_log
from lifes.errors import NotFound
from reports.models import Report


def reports_visible_to(user: Any) -> QuerySet[Report]:
    """One's own reports; auditors and staff see every report (they audit who read what)."""
    if user is None or not user.is_authenticated:
        return Report.objects.none()
    reports = Report.objects.select_related("requested_by", "organisation")
    return reports if can_read_log(user) else reports.filter(requested_by=user)


def reports_of(user: Any) -> QuerySet[Report]:
    """The list on /reports/: what the user asked for, newest first."""
    if user is None or not user.is_authenticated:
        return Report.objects.none()
    return (
        Report.objects.filter(requested_by=user)
        .select_related("organisation")
        .order_by("-created_at", "-pk")
    )


def report_get(*, user: Any, report_id: int) -> Report:
    report = reports_visible_to(user).filter(pk=report_id).first()
    if report is None:
        raise NotFound("No such report.")
    return report


def can_read_metrics(user: Any) -> bool:
    """Managers (staff) and auditors: the same people who read the whole log."""
    return can_read_log(user)
