"""Figures about the review process, computed from the state history and the request tables.

Time in each state comes from the stays the workflow records as it moves
(``requests_app.spans``: each ``request.*`` event's ``from`` and ``to``, kept as a
``StateSpan`` when a stay ends), not from re-reading the audit log: the figures equal the
log's (``time_in_states_from_log``, tested) at a cost that does not grow with it. The metrics
page reads them from a snapshot the beat refreshes (``reports.services.metrics_refresh``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from audit.models import AuditEvent
from requests_app.models import (
    AccessRequest,
    RequestState,
    ReviewStage,
    StageState,
    StateSpan,
)

REQUEST_LABEL = AccessRequest._meta.label_lower


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the value a reader can find in the data); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Spread:
    label: str
    count: int
    median_days: float | None
    p90_days: float | None
    state: str = ""  # the state's value, so a stored figure is labelled in the reader's language


def _spread(label: str, durations: list[float], state: str = "") -> Spread:
    median = percentile(durations, 0.5)
    p90 = percentile(durations, 0.9)
    return Spread(
        label,
        len(durations),
        round(median, 2) if median is not None else None,
        round(p90, 2) if p90 is not None else None,
        state,
    )


def state_durations(
    events: Iterable[tuple[str, datetime, dict[str, Any]]],
) -> dict[str, list[float]]:
    """Days spent in each state, from ``(object_id, occurred_at, payload)`` in seq order.

    A stay ends at the next event of the same request whose ``to`` differs from its ``from``;
    the state a request is in now has no end yet and is left out.
    """
    entered: dict[str, tuple[str, datetime]] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    for object_id, occurred_at, payload in events:
        before, after = payload.get("from"), payload.get("to")
        if not after or before == after:
            continue
        current = entered.get(object_id)
        if current is not None and current[0] != after:
            durations[current[0]].append((occurred_at - current[1]) / timedelta(days=1))
        entered[object_id] = (after, occurred_at)
    return durations


def time_in_states(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    request_ids: Iterable[int] | None = None,
) -> list[Spread]:
    """Days in each state from the stays that ended (``requests_app.StateSpan``, kept as the
    workflow moves): the figures ``state_durations`` gives over the log's events, without
    reading the log. With a period, the stays that began and ended inside it, as from the
    events inside it."""
    spans = StateSpan.objects.all()
    if since is None and until is None and request_ids is None:
        return state_spreads(spans)
    if since is not None:
        spans = spans.filter(entered_at__gte=since)
    if until is not None:
        spans = spans.filter(left_at__lt=until)
    if request_ids is not None:
        spans = spans.filter(request_id__in=list(request_ids))
    durations: dict[str, list[float]] = defaultdict(list)
    for state, duration in spans.values_list("state", "duration").iterator(chunk_size=5000):
        durations[state].append(duration / timedelta(days=1))
    labels = dict(RequestState.choices)
    return [
        _spread(str(labels.get(state, state)), durations[state], state)
        for state in RequestState.values
        if state in durations
    ]


def state_spreads(spans: Any) -> list[Spread]:
    """Count, median and 90th percentile (nearest rank) per state, each percentile one step
    along the (state, duration) index (``ORDER BY duration OFFSET rank - 1``), not a read of
    every stay."""
    labels = dict(RequestState.choices)
    counts = dict(spans.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    found = []
    for state in RequestState.values:
        count = counts.get(state, 0)
        if not count:
            continue
        ordered = spans.filter(state=state).order_by("duration").values_list("duration", flat=True)
        figures = []
        for fraction in (0.5, 0.9):
            rank = max(1, math.ceil(fraction * count))
            figures.append(round(ordered[rank - 1] / timedelta(days=1), 2))
        found.append(Spread(str(labels.get(state, state)), count, figures[0], figures[1], state))
    return found


def time_in_states_from_log(**filters: Any) -> list[Spread]:
    """The same figures straight from the audit log (every request event, streamed): the
    reference the spans are tested against. Never on a page."""
    events = AuditEvent.objects.filter(object_type=REQUEST_LABEL, action__startswith="request.")
    if filters.get("since") is not None:
        events = events.filter(occurred_at__gte=filters["since"])
    if filters.get("until") is not None:
        events = events.filter(occurred_at__lt=filters["until"])
    rows = (
        events.order_by("seq", "id")
        .values_list("object_id", "occurred_at", "payload")
        .iterator(chunk_size=2000)
    )
    durations = state_durations(rows)
    labels = dict(RequestState.choices)
    return [
        _spread(str(labels.get(state, state)), durations[state], state)
        for state in RequestState.values
        if state in durations
    ]


def requests_per_month(requests: Any = None) -> list[tuple[str, int]]:
    requests = AccessRequest.objects.all() if requests is None else requests
    rows = (
        requests.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(total=Count("pk"))
        .order_by("month")
    )
    return [(row["month"].strftime("%Y-%m"), row["total"]) for row in rows if row["month"]]


def decisions_per_board(stages: Any = None) -> list[dict[str, Any]]:
    stages = ReviewStage.objects.all() if stages is None else stages
    closed = (StageState.APPROVED, StageState.REJECTED, StageState.CHANGES_REQUESTED)
    rows = (
        stages.filter(state__in=closed)
        .values("board__name")
        .annotate(
            total=Count("pk"),
            approved=Count("pk", filter=Q(state=StageState.APPROVED)),
            rejected=Count("pk", filter=Q(state=StageState.REJECTED)),
            changes=Count("pk", filter=Q(state=StageState.CHANGES_REQUESTED)),
        )
        .order_by("board__name")
    )
    return [
        {
            "board": row["board__name"],
            "total": row["total"],
            "approved": row["approved"],
            "rejected": row["rejected"],
            "changes_requested": row["changes"],
        }
        for row in rows
    ]


def decision_days(requests: Any) -> Spread:
    """Submission to decision, for requests with both."""
    pairs = requests.filter(submitted_at__isnull=False, decided_at__isnull=False).values_list(
        "submitted_at", "decided_at"
    )
    return _spread("decision", [(end - start) / timedelta(days=1) for start, end in pairs])


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00, end+1 00:00)`` in the current time zone: the period includes ``end``."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, datetime.min.time(), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=zone),
    )


def decision_deadlines(clocks: Any = None) -> dict[str, int]:
    """Decisions within / past the EHDS decision deadline (Art. 68), from the stored facts of
    each statutory clock (``decided_at`` against ``due_at``, pauses and the extension already
    in ``due_at``), in one aggregate query; plus the clocks running, paused and overdue now."""
    from django.db.models import F
    from django.utils import timezone

    from requests_app.models import StatutoryClock

    clocks = StatutoryClock.objects.all() if clocks is None else clocks
    return clocks.aggregate(
        within=Count("pk", filter=Q(decided_at__isnull=False, decided_at__lte=F("due_at"))),
        past=Count("pk", filter=Q(decided_at__isnull=False, decided_at__gt=F("due_at"))),
        running=Count("pk", filter=Q(stopped_at__isnull=True, paused_at__isnull=True)),
        paused=Count("pk", filter=Q(stopped_at__isnull=True, paused_at__isnull=False)),
        overdue=Count(
            "pk",
            filter=Q(stopped_at__isnull=True, paused_at__isnull=True, due_at__lt=timezone.now()),
        ),
    )
