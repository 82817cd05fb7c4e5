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
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from accounts.models import Organisation
from audit.exports import EVENT_COLUMNS
from audit.models import AuditEvent
from audit.selectors import can_read_log
from consent.templatetags.consent_tags import conditions_items
from lifes.errors import NotFound
from permits.models import ExecutionReceipt, Permit
from reports.errors import Code
from reports.metrics import REQUEST_LABEL, day_range, decision_days, time_in_states
from reports.models import Report
from requests_app.models import AccessRequest, CheckResult, RequestState
from requests_app.selectors import requests_visible_to
from requests_app.visibility import request_view, timeline_for

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
            .only(*EVENT_COLUMNS)[:batch]
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


def trail_lines(trail: list[Any]) -> list[str]:
    """Two fixed-width lines per event (seq, time, actor, action; then the hash).

    Preformatted text, not a table: WeasyPrint lays a thousand-row table out about six times
    slower than the same rows as lines, and a dossier is read in print, where columns of a
    monospaced font line up just as well.
    """
    lines = []
    for event in trail:
        when = timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{event.seq:>8} {when} {event.actor[:36]:<36} {event.event_action[:40]}")
        lines.append(f"{'':>8} {event.hash}")
    return lines


def dossier(report: Report, *, head_seq: int, progress: Progress) -> dict[str, Any]:
    """The request as the person who asked for the report may see it (``RequestView``): the
    dossier says whose view it is, and leaves out what the visibility rule withholds from them
    (private answers, who voted what, conflict statements, internal notes, voters' names)."""
    request = AccessRequest.objects.select_related("requester", "organisation").get(
        reference=report.subject
    )
    progress(10, _("Answers"))
    view = request_view(user=report.requested_by, request=request)
    rounds = [
        {
            "round": item.round,
            "submitted_at": item.submitted_at,
            "digest": item.digest,
            "by": item.submitted_by,
            "sections": item.sections,
        }
        for item in view.rounds
    ]
    progress(20, _("Checks"))
    checks = list(
        CheckResult.objects.filter(request=request)
        .select_related("dataset")
        .order_by("round", "name", "dataset_id")
    )
    progress(30, _("Permits and executions"))
    permits = list(
        Permit.objects.filter(request=request)
        .select_related("holder_organisation")
        .prefetch_related("permit_datasets__dataset", "permit_algorithms")
        .order_by("issued_at", "pk")
    )
    receipts = list(
        ExecutionReceipt.objects.filter(permit__in=permits)
        .select_related("permit", "node")
        .order_by("received_at", "pk")
    )
    query = Q(object_type=REQUEST_LABEL, object_id=str(request.pk))
    if permits:
        query |= Q(
            object_type=permits[0]._meta.label_lower,
            object_id__in=[str(permit.pk) for permit in permits],
        )
    events = _trail(query, head_seq=head_seq, progress=progress, start=35, end=80)
    trail = timeline_for(view, events)
    return {
        "obj": request,
        "view": view,
        "rounds": rounds,
        "checks": checks,
        "stages": view.stages,
        "decisions": view.decisions,
        "permits": permits,
        "receipts": receipts,
        "trail": trail_lines(trail),
        "trail_count": len(trail),
        "trail_withheld": len(events) - len(trail),
        "template": "reports/pdf/dossier.html",
    }


def qr_svg(data: str) -> SafeString:
    """The QR code as inline SVG paths, so the certificate needs no image file."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return mark_safe(svg[svg.index("<svg") :])  # noqa: S308 - generated by qrcode, no user HTML


def certificate(report: Report, *, head_seq: int, progress: Progress) -> dict[str, Any]:
    permit = (
        Permit.objects.select_related("request", "holder", "holder_organisation")
        .filter(number=report.subject)
        .first()
    )
    if permit is None:
        raise NotFound(_("No such permit."), code=Code.NOT_FOUND)
    progress(30, _("Permit"))
    url = settings.HUB_URL + reverse("permits:register_entry", args=[permit.number])
    entries = list(permit.permit_datasets.select_related("dataset").all())
    algorithms = list(permit.permit_algorithms.all())
    progress(60, _("QR code"))
    return {
        "permit": permit,
        "obj": permit.request,
        "entries": entries,
        "algorithms": algorithms,
        "register_url": url,
        "qr": qr_svg(url),
        "fingerprint": permit.token_sha256,
        "conditions": conditions_in_words(permit, entries),
        "template": "reports/pdf/certificate.html",
    }


def conditions_in_words(permit: Permit, entries: list[Any]) -> list[dict[str, Any]]:
    """The permit's conditions as a reader wants them: per dataset, each DUO duty as a sentence
    (with its value: months, region, date) and the owner's own conditions; never the stored
    JSON. Conditions stored in an older shape are still shown, as text."""
    stored = permit.conditions if isinstance(permit.conditions, dict) else {}
    titles = {entry.dataset.slug: entry.dataset.title for entry in entries}
    lines = []
    for item in stored.get("datasets") or []:
        if not isinstance(item, dict):
            continue
        slug = str(item.get("id", ""))
        duties = [str(code) for code in item.get("duties") or []]
        values = item.get("values") if isinstance(item.get("values"), dict) else {}
        lines.append(
            {
                "dataset": titles.get(slug, slug),
                "sentences": [entry.text for entry in conditions_items(duties, [], values)],
                "owner": str(item.get("owner") or ""),
            }
        )
    if not lines and permit.conditions and not isinstance(permit.conditions, dict):
        lines.append({"dataset": "", "sentences": [str(permit.conditions)], "owner": ""})
    return lines


def period(report: Report, *, head_seq: int, progress: Progress) -> dict[str, Any]:
    since, until = day_range(report.period_start, report.period_end)
    organisation: Organisation | None = report.organisation
    requests = AccessRequest.objects.filter(created_at__gte=since, created_at__lt=until)
    decided = AccessRequest.objects.filter(decided_at__gte=since, decided_at__lt=until)
    permits = Permit.objects.all()
    receipts = ExecutionReceipt.objects.filter(received_at__gte=since, received_at__lt=until)
    checks = CheckResult.objects.filter(checked_at__gte=since, checked_at__lt=until)
    involved_ids = None
    if organisation is not None:
        # An organisation is in a request as the requester's or as the holder of a requested
        # dataset: a data holder's report counts the requests for its data (not zeros).
        involved = AccessRequest.objects.filter(
            Q(organisation=organisation) | Q(requested_datasets__dataset__owner=organisation)
        )
        if not can_read_log(report.requested_by):
            # a data holder's steward asked: only the requests they may see (submitted ones
            # for their data, and their own), never another organisation's drafts
            involved = involved.filter(pk__in=requests_visible_to(report.requested_by))
        involved = involved.values("pk")
        involved_ids = list(involved.values_list("pk", flat=True).distinct())
        requests = requests.filter(pk__in=involved)
        decided = decided.filter(pk__in=involved)
        # pk__in, not distinct(): the counts below group values_list rows
        permits = permits.filter(
            pk__in=Permit.objects.filter(
                Q(holder_organisation=organisation)
                | Q(permit_datasets__dataset__owner=organisation),
                request__in=involved,
            ).values("pk")
        )
        receipts = receipts.filter(
            Q(permit__in=permits.values("pk")) | Q(dataset__owner=organisation)
        )
        checks = checks.filter(request__in=involved)
    progress(20, _("Requests"))
    by_state = Counter(requests.values_list("state", flat=True))
    states = [(label, by_state.get(value, 0)) for value, label in RequestState.choices]
    decision = decision_days(decided)
    progress(40, _("Time in each state"))
    spreads = time_in_states(
        since=since,
        until=until,
        request_ids=involved_ids,
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
