"""Reads of reports, scoped to who is asking: 404 alike for missing and not yours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from audit.selectors import can_read_log
from lifes.errors import NotFound
from reports.errors import Code
from reports.models import Report, ReportKind, ReportStatus


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
        raise NotFound(_("No such report."), code=Code.NOT_FOUND)
    return report


def can_read_metrics(user: Any) -> bool:
    """Managers (staff) and auditors: the same people who read the whole log."""
    return can_read_log(user)


def report_file_get(*, user: Any, report_id: int) -> Report:
    """A finished report's file, for download. A dossier is built for the person who asked for
    it (it shows what *they* may see of the request), so only that person downloads it;
    auditors and staff read every report's record, and download certificates and period
    reports, which hold nothing private to one reader."""
    report = report_get(user=user, report_id=report_id)
    if not is_file_for(user, report):
        raise NotFound(_("No such report."), code=Code.NOT_FOUND)
    if report.status != ReportStatus.DONE or not report.file:
        raise NotFound(_("This report is not ready."), code=Code.NOT_FOUND)
    return report


def is_file_for(user: Any, report: Report) -> bool:
    """Whether ``user`` may download ``report`` (given they may see its record)."""
    return report.kind != ReportKind.DOSSIER or report.requested_by_id == user.pk


@dataclass(frozen=True)
class DecisionLetter:
    """The letter to the requester on a decision that sends the request back or refuses it:
    the boards' decisions with their reasons and the owners' refusals with theirs. Built from
    the viewer's ``RequestView`` (the one visibility rule), and names no voter."""

    request: Any
    kind: str  # "refusal" or "changes_requested"
    decided_at: Any
    stages: list[Any]
    reasons: list[Any]
    refusals: list[Any]


def decision_letter_get(*, user: Any, reference: str) -> DecisionLetter:
    """The decision letter of a request this person may see; ``NotFound`` alike for a request
    that does not exist, one they may not see, and one without such a decision."""
    from requests_app.journey import decision_letter_available
    from requests_app.models import OwnerDecision, RequestState, StageState
    from requests_app.selectors import request_get
    from requests_app.visibility import board_reasons, request_view

    request = request_get(user=user, reference=reference)
    if not decision_letter_available(request):
        raise NotFound(_("There is no decision letter for this request."))
    view = request_view(user=user, request=request)
    stages = [
        s.stage
        for s in view.stages
        if s.stage.state in (StageState.CHANGES_REQUESTED, StageState.REJECTED)
    ]
    refusals = [d for d in view.decisions if d.decision == OwnerDecision.REFUSED]
    is_refusal = request.state == RequestState.REJECTED
    latest = stages[-1].closed_at if stages else None
    return DecisionLetter(
        request=request,
        kind="refusal" if is_refusal else "changes_requested",
        decided_at=request.decided_at if is_refusal and request.decided_at else latest,
        stages=stages,
        # the letter speaks for the board: no member is named in it, whoever reads it
        reasons=board_reasons(view),
        refusals=refusals,
    )


def metrics_snapshot() -> Any:
    """The metrics page's figures as the beat last computed them; computed now the first time
    (a new hub, before the beat's first run)."""
    from reports.models import MetricsSnapshot
    from reports.services import METRICS_SNAPSHOT, metrics_refresh

    snapshot = MetricsSnapshot.objects.filter(name=METRICS_SNAPSHOT).first()
    return snapshot if snapshot is not None else metrics_refresh()
