"""What goes into each report: one function per kind that gathers its context.

Builders run in the Celery worker with no user (the permission was checked when the report was
asked for) and call ``progress`` between sections, so a long dossier shows how far it got.
Everything a builder reads is bounded by the chain head the report was built from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import qrcode
import qrcode.image.svg
from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.models import Organisation
from audit.models import AuditEvent
from reports import sources
from reports.metrics import REQUEST_LABEL, day_range, decision_days, time_in_states
from reports.models import Report
from requests_app.answers import display
from requests_app.models import (
    AccessRequest,
    CheckResult,
    RequestedDataset,
    RequestState,
    ReviewStage,
    Submission,
)

Progress = Callable[[int, str], None]

#: Audit events are read (and progress reported) this many at a time.
EVENT_BATCH = 200


def _events(query: Q, *, head_seq: int, batch: int = EVENT_BATCH) -> Iterator[list[AuditEvent]]:
    """Keyset batches up to the report's head: constant memory however long the trail."""
    last = 0
    while True:
        rows = list(
            AuditEvent.objects.filter(query, seq__gt=last, seq__lte=head_seq)
            .order_by("seq")
            .only(
                "seq", "occurred_at", "actor_label", "action", "object_type", "object_id", "hash"
            )[:batch]
        )
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def _trail(
    query: Q, *, head_seq: int, progress: Progress, start: int, end: int
) -> list[AuditEvent]:
    total = AuditEvent.objects.filter(query, seq__lte=head_seq).count()
    trail: list[AuditEvent] = []
    for rows in _events(query, head_seq=head_seq):
        trail.extend(rows)
        done = start + (end - start) * len(trail) // max(total, 1)
        progress(
            done,
            _("Audit trail: %(done)d of %(total)d events") % {"done": len(trail), "total": total},
        )
    return trail


def trail_lines(trail: list[AuditEvent]) -> list[str]:
    """Two fixed-width lines per event (seq, time, actor, action; then the hash).

    Preformatted text, not a table: WeasyPrint lays a thousand-row table out about six times
    slower than the same rows as lines, and a dossier is read in print, where columns of a
    monospaced font line up just as well.
    """
    lines = []
    for event in trail:
        when = timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{event.seq:>8} {when} {event.actor_label[:36]:<36} {event.action[:40]}")
        lines.append(f"{'':>8} {event.hash}")
    return lines


def dossier(report: Report, *, head_seq: int, progress: Progress) -> dict[str, Any]:
    request = AccessRequest.objects.select_related("requester", "organisation").get(
        reference=report.subject
    )
    progress(10, _("Answers"))
    rounds = [
        {
            "round": sub.round,
            "submitted_at": sub.submitted_at,
            "digest": sub.digest,
            "by": sub.submitted_by,
            "sections": display(sub.answers),
        }
        for sub in Submission.objects.filter(request=request)
        .select_related("submitted_by")
        .order_by("round")
    ]
    progress(20, _("Checks"))
    checks = list(
        CheckResult.objects.filter(request=request)
        .select_related("dataset")
        .order_by("round", "name", "dataset_id")
    )
    progress(25, _("Reviews"))
    stages = list(
        ReviewStage.objects.filter(request=request)
        .select_related("board", "closed_by")
        .prefetch_related("votes__voter", "declarations__member")
        .order_by("round", "order")
    )
    decisions = list(
        RequestedDataset.objects.filter(request=request)
        .select_related("dataset", "decided_by")
        .order_by("dataset__slug")
    )
    progress(30, _("Permits and executions"))
    permits = sources.permits_of_request(request)
    receipts = sources.receipts_of(permits)
    query = Q(object_type=REQUEST_LABEL, object_id=str(request.pk))
    if permits:
        query |= Q(
            object_type=permits[0]._meta.label_lower,
            object_id__in=[str(permit.pk) for permit in permits],
        )
    trail = _trail(query, head_seq=head_seq, progress=progress, start=35, end=80)
    return {
        "obj": request,
        "rounds": rounds,
        "checks": checks,
        "stages": stages,
        "decisions": decisions,
        "permits": permits,
        "receipts": receipts,
        "trail": trail_lines(trail),
        "trail_count": len(trail),
        "template": "reports/pdf/dossier.html",
    }


def qr_svg(data: str) -> SafeString:
    """The QR code as inline SVG paths, so the certificate needs no image file."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return mark_safe(svg[svg.index("<svg") :])  # noqa: S308 - generated by qrcode, no user HTML


def certificate(report: Report, *, head_seq: int, progress: Progress) -> dict[str, Any]:
    permit = sources.permit_by_number(report.subject)
    progress(30, _("Permit"))
    url = sources.register_url(permit)
    entries = list(permit.permit_datasets.select_related("dataset").all())
    algorithms = list(permit.permit_algorithms.all())
    progress(60, _("QR code"))
    conditions = (
        permit.conditions if isinstance(permit.conditions, dict) else {"": permit.conditions}
    )
    return {
        "permit": permit,
        "obj": permit.request,
        "entries": entries,
        "algorithms": algorithms,
        "register_url": url,
        "qr": qr_svg(url),
        "fingerprint": sources.token_fingerprint(permit),
        "conditions": sorted(conditions.items()),
        "template": "reports/pdf/certificate.html",
    }


def period(report: Report, *, head_seq: int, progress: Progress) -> dict[str, Any]:
    since, until = day_range(report.period_start, report.period_end)
    organisation: Organisation | None = report.organisation
    requests = AccessRequest.objects.filter(created_at__gte=since, created_at__lt=until)
    decided = AccessRequest.objects.filter(decided_at__gte=since, decided_at__lt=until)
    Permit = sources.permit_model()  # noqa: N806 - a model class
    Receipt = sources.receipt_model()  # noqa: N806 - a model class
    permits = Permit.objects.all()
    receipts = Receipt.objects.filter(received_at__gte=since, received_at__lt=until)
    checks = CheckResult.objects.filter(checked_at__gte=since, checked_at__lt=until)
    if organisation is not None:
        requests = requests.filter(organisation=organisation)
        decided = decided.filter(organisation=organisation)
        permits = permits.filter(holder_organisation=organisation)
        receipts = receipts.filter(permit__holder_organisation=organisation)
        checks = checks.filter(request__organisation=organisation)
    progress(20, _("Requests"))
    by_state = Counter(requests.values_list("state", flat=True))
    states = [(label, by_state.get(value, 0)) for value, label in RequestState.choices]
    decision = decision_days(decided)
    progress(40, _("Time in each state"))
    spreads = time_in_states(
        since=since,
        until=until,
        request_ids=(
            list(
                AccessRequest.objects.filter(organisation=organisation).values_list("pk", flat=True)
            )
            if organisation is not None
            else None
        ),
    )
    progress(60, _("Permits and executions"))
    now = timezone.now()
    issued = permits.filter(issued_at__gte=since, issued_at__lt=until).count()
    revoked = permits.filter(
        status="revoked", status_changed_at__gte=since, status_changed_at__lt=until
    ).count()
    expired = (
        permits.filter(valid_until__gte=since, valid_until__lt=min(until, now))
        .exclude(status__in=("revoked", "superseded"))
        .count()
    )
    executions = Counter(receipts.values_list("status", flat=True))
    failed = list(
        checks.exclude(status="pass")
        .select_related("request", "dataset")
        .order_by("checked_at", "pk")[:500]
    )
    progress(80, _("Failed checks"))
    return {
        "organisation": organisation,
        "since": report.period_start,
        "until": report.period_end,
        "states": states,
        "total": sum(by_state.values()),
        "decision": decision,
        "spreads": spreads,
        "issued": issued,
        "revoked": revoked,
        "expired": expired,
        "executions": sorted(executions.items()),
        "executions_total": sum(executions.values()),
        "failed_checks": failed,
        "failed_checks_total": checks.exclude(status="pass").count(),
        "template": "reports/pdf/period.html",
    }


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "dossier": dossier,
    "certificate": certificate,
    "period": period,
}
