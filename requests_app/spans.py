"""Time in each state, as facts kept while the workflow moves (``StateStay``/``StateSpan``).

``move`` is called by the transition helper for every request event it writes, with the
event's ``from``/``to`` and time; it follows exactly the rule ``reports.metrics.state_durations``
applies to the log (an event whose ``to`` is empty or equals its ``from`` changes nothing; a
stay ends when the request enters a different state), so the spans say what the log says.
``replay`` rebuilds them from the log for data written before the spans existed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from requests_app.models import AccessRequest, StateSpan, StateStay

REQUEST_LABEL = AccessRequest._meta.label_lower


def move(*, request_id: int, before: str, after: str, at: datetime) -> None:
    """Record that request ``request_id`` moved ``before`` → ``after`` at ``at`` (inside the
    transition's transaction, the request row locked)."""
    if not after or before == after:
        return
    stay = StateStay.objects.filter(request_id=request_id).first()
    if stay is None:
        StateStay.objects.create(request_id=request_id, state=after, entered_at=at)
        return
    if stay.state != after:
        StateSpan.objects.create(
            request_id=request_id,
            state=stay.state,
            entered_at=stay.entered_at,
            left_at=at,
            duration=at - stay.entered_at,
        )
    stay.state, stay.entered_at = after, at
    stay.save(update_fields=["state", "entered_at"])


def replay(events: Iterable[tuple[str, datetime, dict[str, Any]]], *, batch: int = 5000) -> int:
    """Rebuild the spans and stays from ``(object_id, occurred_at, payload)`` in log order;
    replaces what is there. Returns the number of spans written."""
    StateSpan.objects.all().delete()
    StateStay.objects.all().delete()
    known = set(AccessRequest.objects.values_list("pk", flat=True))
    entered: dict[int, tuple[str, datetime]] = {}
    spans: list[StateSpan] = []
    written = 0
    for object_id, occurred_at, payload in events:
        before, after = payload.get("from"), payload.get("to")
        if not after or before == after or not str(object_id).isdigit():
            continue
        request_id = int(object_id)
        if request_id not in known:
            continue
        current = entered.get(request_id)
        if current is not None and current[0] != after:
            spans.append(
                StateSpan(
                    request_id=request_id,
                    state=current[0],
                    entered_at=current[1],
                    left_at=occurred_at,
                    duration=occurred_at - current[1],
                )
            )
            if len(spans) >= batch:
                StateSpan.objects.bulk_create(spans)
                written += len(spans)
                spans = []
        entered[request_id] = (after, occurred_at)
    StateSpan.objects.bulk_create(spans)
    StateStay.objects.bulk_create(
        [
            StateStay(request_id=pk, state=state, entered_at=at)
            for pk, (state, at) in entered.items()
        ],
        batch_size=batch,
    )
    return written + len(spans)


def log_events(*, batch: int = 100_000) -> Iterator[tuple[str, datetime, dict[str, Any]]]:
    """Every request event of the log that carries a move, in log order: read by ranges of
    ``seq`` (each an index range, so no statement runs long however big the log is), then
    the events not yet sequenced, in id order."""
    from django.db.models import Max

    from audit.models import AuditEvent

    events = AuditEvent.objects.filter(
        object_type=REQUEST_LABEL, action__startswith="request.", payload__has_key="to"
    )
    fields = ("object_id", "occurred_at", "payload")
    last = AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0
    for low in range(0, last, batch):
        chunk = events.filter(seq__gt=low, seq__lte=low + batch).order_by("seq")
        yield from chunk.values_list(*fields)
    yield from events.filter(seq__isnull=True).order_by("id").values_list(*fields)
