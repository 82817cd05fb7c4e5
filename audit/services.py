"""Appending to and verifying the audit chain. Every service in every app calls ``audit_record``
inside its own transaction, so an event exists exactly when its change does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from audit.canonical import event_hash, json_safe
from audit.models import GENESIS_HASH, ActorType, AuditEvent, ChainHead


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


def _lock_head() -> ChainHead:
    """Take the chain's write lock and return the head.

    The UPDATE comes first because it takes the write lock on every backend (SQLite ignores
    SELECT ... FOR UPDATE); concurrent writers queue here. The head row is re-created from the
    last event if it is missing (a fresh or flushed database).
    """
    if not ChainHead.objects.filter(pk=1).update(seq=models.F("seq")):
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        try:
            with transaction.atomic():
                ChainHead.objects.create(
                    pk=1, seq=last.seq if last else 0, hash=last.hash if last else GENESIS_HASH
                )
        except IntegrityError:
            pass  # another writer created it first; the lock below waits for it
    return ChainHead.objects.select_for_update().get(pk=1)


def chain_lock() -> ChainHead:
    """Take the chain's write lock for the rest of the caller's transaction.

    For writes that must be serialised with the log itself (creating a signing key, say):
    taking this lock first keeps one lock order (chain head, then the caller's rows) with every
    other writer, so they queue instead of deadlocking.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("chain_lock must run inside a transaction")
    return _lock_head()


def audit_record(*, actor: Any, action: str, target: Any = None,
                 payload: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    actor_type, actor_id, actor_label = _actor_fields(actor)
    object_type, object_id = _object_fields(target)
    safe_payload = json_safe(payload or {})
    head = _lock_head()
    occurred_at = timezone.now()
    seq = head.seq + 1
    digest = event_hash(
        prev_hash=head.hash, seq=seq, occurred_at=occurred_at, actor_type=actor_type,
        actor_id=actor_id, action=action, object_type=object_type, object_id=object_id,
        payload=safe_payload,
    )
    event = AuditEvent.objects.create(
        seq=seq, occurred_at=occurred_at, actor_type=actor_type, actor_id=actor_id,
        actor_label=actor_label[:255], action=action, object_type=object_type,
        object_id=object_id, payload=safe_payload, prev_hash=head.hash, hash=digest,
    )
    ChainHead.objects.filter(pk=1).update(seq=seq, hash=digest)
    return event


@dataclass(frozen=True)
class ChainReport:
    is_intact: bool
    count: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""


def _events_in_batches(batch_size: int) -> Iterator[AuditEvent]:
    """Keyset pagination: constant memory for any chain length."""
    last_seq = 0
    fields = ("seq", "occurred_at", "actor_type", "actor_id", "action", "object_type",
              "object_id", "payload", "prev_hash", "hash")
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq").only(*fields)[:batch_size]
        )
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def chain_verify(*, batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in order; name the first event that does not fit."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in _events_in_batches(batch_size):
        if event.seq != expected_seq:
            missing = "missing or reordered" if event.seq > expected_seq else "out of order"
            return ChainReport(False, count, expected_seq - 1, expected_prev, event.seq,
                               f"expected event #{expected_seq}, found #{event.seq} ({missing})")
        if event.prev_hash != expected_prev:
            return ChainReport(False, count, expected_seq - 1, expected_prev, event.seq,
                               "prev_hash does not match the hash of the event before it")
        recomputed = event_hash(
            prev_hash=event.prev_hash, seq=event.seq, occurred_at=event.occurred_at,
            actor_type=event.actor_type, actor_id=event.actor_id, action=event.action,
            object_type=event.object_type, object_id=event.object_id, payload=event.payload,
        )
        if recomputed != event.hash:
            return ChainReport(False, count, expected_seq - 1, expected_prev, event.seq,
                               "content does not match its hash (edited)")
        expected_prev = event.hash
        expected_seq += 1
        count += 1
    return ChainReport(True, count, expected_seq - 1, expected_prev)
