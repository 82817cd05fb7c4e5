"""The statutory clock's arithmetic and how it is shown (EHDS Reg. (EU) 2025/327 Art. 68).

Pure functions over the stored facts of ``StatutoryClock``: the page, the dashboard, the API
and the metric read the same ``clock_data``, so they cannot disagree about a deadline.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any

from django.utils import timezone


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, on the last day of a shorter month (31 Jan + 1 month
    = 28/29 Feb): how a period "of three months" is counted."""
    local = timezone.localtime(moment)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def clock_data(clock: Any, *, now: datetime | None = None) -> dict[str, Any] | None:
    """The ``clock`` object of the API and the pages; None before the clock started.

    ``days_left``: whole calendar days to the deadline (negative once past it); while paused,
    the days that were left when it stopped; None once the clock stopped (decision or end).
    """
    if clock is None:
        return None
    now = now or timezone.now()
    if clock.stopped_at is not None:
        days_left = None
    elif clock.paused_at is not None:
        days_left = clock.remaining.days if clock.remaining is not None else 0
    else:
        days_left = (timezone.localdate(clock.due_at) - timezone.localdate(now)).days
    return {
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "paused": clock.paused_at is not None,
        "days_left": days_left,
        "extended": clock.extended_at is not None,
        "track": clock.track,
        "stopped_at": clock.stopped_at,
        "decided_at": clock.decided_at,
        "within_deadline": (
            clock.decided_at <= clock.due_at if clock.decided_at is not None else None
        ),
    }
