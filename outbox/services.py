"""The outbox relay: write, send after commit, sweep, deliver-and-acknowledge.

Written here rather than taken from a library. django-celery-outbox (the closest fit on PyPI)
intercepts every ``.delay()`` and deletes a row once the broker took it, so its guarantee ends at
the broker: a message lost by a frozen or killed worker is gone. This hub needs the row to stay
until the *task* acknowledges it (the issue's "until acknowledged"), named effects instead of
task imports (so services never import tasks), a sweep driven by Celery beat rather than one
more daemon, and inline delivery in eager mode (SQLite, ``make run``). That is a hundred lines.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from outbox.models import OutboxMessage
from outbox.registry import handler_for

logger = logging.getLogger(__name__)


def outbox_add(*, name: str, key: str = "", payload: dict[str, Any]) -> int:
    """Write the effect in the caller's transaction and nudge the relay after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.add must run inside the transaction of the change it follows")
    # Round-trip through JSON now, so a payload that cannot be sent fails in the service.
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    message = OutboxMessage.objects.create(effect=name, key=key[:200], payload=payload)
    transaction.on_commit(partial(_nudge, message.pk))
    return message.pk


def _redeliver_delay(attempts: int) -> timedelta:
    """How long a sent message may stay unacknowledged before it is sent again: the base time,
    doubling per attempt, capped (a worker may be down for a while)."""
    base = settings.OUTBOX_REDELIVER_AFTER
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_MAX_BACKOFF))


def _send(message_id: int) -> None:
    """Hand one row to Celery. In eager mode this runs the task inline (and raises its error)."""
    from outbox.tasks import deliver_task

    deliver_task.apply_async(args=[message_id], retry=False)


# After a failed send, this process leaves its nudges to the sweep for a few seconds: a request
# that commits ten effects while the broker hangs waits for one timeout, not ten.
_NUDGE_PAUSE_SECONDS = 5.0
_nudges_paused_until = 0.0


def _nudge(message_id: int) -> None:
    """After commit: send at once. A failure costs latency only; the sweep sends it again."""
    global _nudges_paused_until
    if time.monotonic() < _nudges_paused_until:
        return  # the row is due (available_at is its creation time): the sweep sends it
    OutboxMessage.objects.filter(pk=message_id, acknowledged_at__isnull=True).update(
        attempts=1, available_at=timezone.now() + _redeliver_delay(1)
    )
    try:
        _send(message_id)
    except Exception:  # noqa: BLE001 - broker down or the eager task failed: the sweep retries
        logger.warning(
            "outbox %s: not delivered now; the sweep will retry", message_id, exc_info=True
        )
        OutboxMessage.objects.filter(pk=message_id, acknowledged_at__isnull=True).update(
            available_at=timezone.now()
        )
        if not deliver_is_inline():
            _nudges_paused_until = time.monotonic() + _NUDGE_PAUSE_SECONDS


def deliver_is_inline() -> bool:
    """Eager mode (SQLite, ``make run``): a send runs the effect in this process."""
    from outbox.tasks import deliver_task

    return bool(deliver_task.app.conf.task_always_eager)


def _due(now) -> Q:
    return Q(acknowledged_at__isnull=True, available_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def outbox_sweep(*, batch_size: int | None = None) -> int:
    """Send again every unacknowledged row whose time has come; returns how many were sent.

    Two sweeps at once take disjoint rows (``SKIP LOCKED`` on PostgreSQL; SQLite serialises
    writers), and each row's next time is pushed forward before it is sent, so a row is sent
    once per period whatever the number of beats. A duplicate that still reaches a worker is
    dropped there by the claim on the row. On the first send that fails the sweep stops: the
    broker is down and every further send would wait for the same timeout.
    """
    size = batch_size or settings.OUTBOX_SWEEP_BATCH
    now = timezone.now()
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(
            _due(now), attempts__lt=settings.OUTBOX_MAX_ATTEMPTS
        ).order_by("available_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        picked = list(rows.values_list("pk", "attempts")[:size])
        for pk, attempts in picked:
            OutboxMessage.objects.filter(pk=pk).update(
                attempts=attempts + 1, available_at=now + _redeliver_delay(attempts + 1)
            )
    sent = 0
    for index, (pk, _attempts) in enumerate(picked):
        try:
            _send(pk)
        except Exception:  # noqa: BLE001 - logged; the rows not sent are due again at once
            if deliver_is_inline():
                # Eager mode: the effect itself failed (its row keeps the error); go on.
                logger.warning("outbox sweep: effect %s failed", pk, exc_info=True)
                continue
            logger.warning(
                "outbox sweep: send of %s failed; stopping this sweep", pk, exc_info=True
            )
            _reset([p for p, _a in picked[index:]])
            break
        sent += 1
    return sent


def _reset(ids: Iterable[int]) -> None:
    OutboxMessage.objects.filter(pk__in=list(ids), acknowledged_at__isnull=True).update(
        available_at=timezone.now()
    )


def outbox_deliver(*, message_id: int) -> str:
    """Run the effect of one row, once: claim it for a lease, run the handler, acknowledge.

    Returns ``"done"``, or ``"skipped"`` when the row is already acknowledged or another
    delivery holds its claim (a duplicate send). A handler error releases the claim, keeps the
    error on the row and re-raises; the sweep sends the row again later. Handlers must be safe
    to run twice: a crash between the handler's commit and the acknowledgement repeats it.
    """
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, acknowledged_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS))
    )
    if not claimed:
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        handler_for(message.effect)(**message.payload)
    except Exception as exc:
        OutboxMessage.objects.filter(pk=message_id).update(
            claimed_until=None, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    OutboxMessage.objects.filter(pk=message_id).update(
        acknowledged_at=timezone.now(), claimed_until=None, last_error=""
    )
    return "done"


def outbox_has_recent(*, name: str, key: str, since_seconds: float) -> bool:
    """Is effect ``name`` for ``key`` pending, or was one written within ``since_seconds``?
    Sweepers ask this so that a re-drive is not repeated while the first is on its way. A row
    that used up its attempts is not pending any more: the sweeper may write a new one."""
    since = timezone.now() - timedelta(seconds=since_seconds)
    return OutboxMessage.objects.filter(
        Q(effect=name, key=key)
        & (
            Q(acknowledged_at__isnull=True, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS)
            | Q(created_at__gte=since)
        )
    ).exists()
