"""Appending events: in the caller's transaction, without a global lock."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.canonical import json_safe, leaf_data
from audit.models import ActorType, AuditEvent


def _actor_fields(actor: Any) -> tuple[str, str, str]:
    """Users, nodes (machine users or Node rows) and the system (None) can act."""
    if actor is None:
        return ActorType.SYSTEM, "", "system"
    label = actor._meta.label_lower
    if label == "catalogue.node":
        return ActorType.NODE, str(actor.pk), str(actor)
    if getattr(actor, "is_machine", False):
        node = getattr(actor, "node", None)
        return ActorType.NODE, str(node.pk if node else actor.pk), str(node or actor)
    return ActorType.USER, str(actor.pk), getattr(actor, "email", str(actor))


def _object_fields(target: Any) -> tuple[str, str]:
    if target is None:
        return "", ""
    return target._meta.label_lower, str(target.pk)


_last_nudge = [0.0]  # when this process last sent one (monotonic seconds)


def _nudge() -> None:
    from audit.tasks import audit_sequence_task

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        # Under load one message per commit would cost every writer a broker round trip for
        # nothing: a run already queued takes every event committed before it starts.
        now = time.monotonic()
        if now - _last_nudge[0] < settings.AUDIT_NUDGE_INTERVAL:
            return
        _last_nudge[0] = now
    audit_sequence_task.delay()


def _nudge_on_commit(connection: Any) -> None:
    """Wake the sequencer once the change is committed: once per transaction, however many
    events it wrote, and at most every ``AUDIT_NUDGE_INTERVAL`` seconds per process (the beat
    task, every second, catches anything a skipped or lost nudge leaves behind)."""
    if any(callback is _nudge for _sids, callback, _robust in connection.run_on_commit):
        return
    transaction.on_commit(_nudge, robust=True)  # a sequencer failure must not fail the request


def sequence_inline() -> bool:
    """Whether appends sequence themselves, holding the sequencer's lock to the commit.

    Always on SQLite (one writer at a time anyway) and with eager Celery (development and
    tests, where no worker runs the beat task and pages must show events in their place at
    once); off in production, where that lock would put every write of the hub in one queue.
    """
    connection = transaction.get_connection()
    return connection.vendor != "postgresql" or settings.AUDIT_SEQUENCE_INLINE


def audit_record(
    *, actor: Any, action: str, target: Any = None, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it records, so an event
    exists exactly when its change does; the sequencer gives it its place once committed."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    actor_type, actor_id, actor_label = _actor_fields(actor)
    object_type, object_id = _object_fields(target)
    occurred_at, safe_payload = timezone.now(), json_safe(payload or {})
    event = AuditEvent.objects.create(
        occurred_at=occurred_at,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=actor_label[:255],
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=safe_payload,
        leaf_data=leaf_data(
            occurred_at, actor_type, actor_id, action, object_type, object_id, safe_payload
        ),
    )
    if sequence_inline():
        from audit.services.sequence import sequence_pending

        placed: dict[int, int] = {}
        sequence_pending(wait=True, placed=placed)
        if event.pk in placed:
            event.seq = placed[event.pk]
        else:  # not among those it placed: read what the log says
            event.refresh_from_db(fields=["seq"])
    _nudge_on_commit(connection)
    return event
