"""Appending to, verifying and checkpointing the audit chain.

Every service in every app calls ``audit_record`` inside its own transaction, so an event exists
exactly when its change does. ``chain_verify`` streams the chain in keyset batches (constant
memory) and checks it still passes through every signed checkpoint; ``checkpoint_create`` signs
the verified head with a signer it is given (the hub key, via ``AUDIT_CHECKPOINT_SIGNER``), so
this app never imports the one that owns the keys.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import jwt
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from audit.canonical import event_hash, json_safe
from audit.models import GENESIS_HASH, ActorType, AuditCheckpoint, AuditEvent, ChainHead
from lifes.errors import DomainError


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

    On PostgreSQL one ``SELECT ... FOR UPDATE`` locks and reads the row in one round trip (the
    lock is held through the commit, so every statement inside it costs every writer). Elsewhere
    an UPDATE comes first because it takes the write lock on every backend (SQLite ignores
    SELECT ... FOR UPDATE). Concurrent writers queue here. The head row is re-created from the
    last event if it is missing (a fresh or flushed database).
    """
    if transaction.get_connection().vendor == "postgresql":
        head = ChainHead.objects.select_for_update().filter(pk=1).first()
        if head is not None:
            return head
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


def audit_record(
    *, actor: Any, action: str, target: Any = None, payload: dict[str, Any] | None = None
) -> AuditEvent:
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
        prev_hash=head.hash,
        seq=seq,
        occurred_at=occurred_at,
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=safe_payload,
    )
    event = AuditEvent.objects.create(
        seq=seq,
        occurred_at=occurred_at,
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=actor_label[:255],
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=safe_payload,
        prev_hash=head.hash,
        hash=digest,
    )
    ChainHead.objects.filter(pk=1).update(seq=seq, hash=digest)
    return event


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    is_intact: bool
    count: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0
    broken_checkpoint: int | None = None


class ChainBroken(DomainError):
    status_code = 409
    default_code = "audit_chain_broken"

    def __init__(self, report: ChainReport) -> None:
        super().__init__(
            f"The audit chain is broken at event #{report.broken_seq}: {report.reason}"
        )
        self.report = report


class Mark(NamedTuple):
    """A published checkpoint the chain must pass through: event ``seq`` has ``hash``."""

    seq: int
    hash: str
    source: str = "checkpoint"
    token: str = ""


Verifier = Callable[[str], dict[str, Any]]
_EVENT_FIELDS = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
    "hash",
)


def _event_rows(*, after_seq: int, batch_size: int) -> Iterator[tuple]:
    """Keyset pagination over plain tuples: constant memory and no model instances."""
    last_seq = after_seq
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .values_list(*_EVENT_FIELDS)[:batch_size]
        )
        if not batch:
            return
        yield from batch
        last_seq = batch[-1][0]


def _stored_marks(*, after_seq: int, batch_size: int = 1000) -> Iterator[Mark]:
    last_seq = after_seq
    while True:
        batch = list(
            AuditCheckpoint.objects.filter(seq__gt=last_seq)
            .order_by("seq")
            .values_list("seq", "hash", "token")[:batch_size]
        )
        if not batch:
            return
        for seq, digest, token in batch:
            yield Mark(seq, digest, "checkpoint", token)
        last_seq = batch[-1][0]


def _mark_problem(mark: Mark, digest: str, verifier: Verifier | None) -> str:
    """Why the event at ``mark.seq`` (with ``digest``) contradicts the mark, or ''."""
    if mark.hash != digest:
        return (
            f"event #{mark.seq} is not the event {mark.source} #{mark.seq} was signed over "
            f"(history rewritten at or before it)"
        )
    if verifier is not None and mark.token:
        try:
            claims = verifier(mark.token)
        except (DomainError, ValueError) as exc:
            code = getattr(exc, "code", "invalid")
            return f"{mark.source} #{mark.seq} has an invalid signature ({code})"
        if claims.get("seq") != mark.seq or claims.get("hash") != mark.hash:
            return f"{mark.source} #{mark.seq} differs from what its signature covers"
    return ""


def _verify(
    *,
    start_seq: int,
    start_prev: str,
    marks: Iterator[Mark],
    batch_size: int,
    verifier: Verifier | None,
) -> ChainReport:
    """Recompute events from ``start_seq`` on, expecting the first to follow ``start_prev``."""
    expected_seq, expected_prev, count, checked = start_seq, start_prev, 0, 0
    mark = next(marks, None)
    for (
        seq,
        occurred_at,
        actor_type,
        actor_id,
        action,
        object_type,
        object_id,
        payload,
        prev_hash,
        digest,
    ) in _event_rows(after_seq=start_seq - 1, batch_size=batch_size):
        problem = ""
        if seq != expected_seq:
            missing = "missing or reordered" if seq > expected_seq else "out of order"
            problem = f"expected event #{expected_seq}, found #{seq} ({missing})"
        elif prev_hash != expected_prev:
            problem = "prev_hash does not match the hash of the event before it"
        elif digest != event_hash(
            prev_hash=prev_hash,
            seq=seq,
            occurred_at=occurred_at,
            actor_type=actor_type,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            payload=payload,
        ):
            problem = "content does not match its hash (edited)"
        if problem:
            return ChainReport(False, count, expected_seq - 1, expected_prev, seq, problem, checked)
        while mark is not None and mark.seq <= seq:
            problem = (
                _mark_problem(mark, digest, verifier)
                if mark.seq == seq
                else (f"{mark.source} #{mark.seq} names an event before the chain starts")
            )
            if problem:
                return ChainReport(
                    False,
                    count,
                    expected_seq - 1,
                    expected_prev,
                    mark.seq,
                    problem,
                    checked,
                    mark.seq,
                )
            checked += 1
            mark = next(marks, None)
        expected_prev, expected_seq, count = digest, expected_seq + 1, count + 1
    if mark is not None:
        return ChainReport(
            False,
            count,
            expected_seq - 1,
            expected_prev,
            expected_seq,
            f"the chain ends at #{expected_seq - 1} but {mark.source} #{mark.seq} was published "
            f"(events removed or the head cut back)",
            checked,
            mark.seq,
        )
    return ChainReport(True, count, expected_seq - 1, expected_prev, checkpoints=checked)


def chain_verify(
    *,
    batch_size: int = 10000,
    verifier: Verifier | None = None,
    published: Iterable[tuple[int, str]] = (),
) -> ChainReport:
    """Recompute every hash in order; check the chain passes through every stored checkpoint
    (and every ``published`` ``(seq, hash)`` an outsider kept); name the first thing that does
    not fit. With a ``verifier`` the checkpoints' signatures are checked too."""
    outside = sorted(Mark(seq, digest, "published checkpoint") for seq, digest in published)
    marks = heapq.merge(_stored_marks(after_seq=0), outside, key=lambda mark: mark.seq)
    return _verify(
        start_seq=1, start_prev=GENESIS_HASH, marks=marks, batch_size=batch_size, verifier=verifier
    )


def _verify_since(checkpoint: AuditCheckpoint, *, batch_size: int = 10000) -> ChainReport:
    """Only what was appended after ``checkpoint``, which must still be in the chain."""
    digest = AuditEvent.objects.filter(seq=checkpoint.seq).values_list("hash", flat=True).first()
    if digest is None:
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (
            0,
            GENESIS_HASH,
        )
        return ChainReport(
            False,
            0,
            last[0],
            last[1],
            last[0] + 1,
            f"the chain ends at #{last[0]} but checkpoint #{checkpoint.seq} was published "
            "(events removed or the head cut back)",
            0,
            checkpoint.seq,
        )
    problem = _mark_problem(Mark(checkpoint.seq, checkpoint.hash), digest, None)
    if problem:
        return ChainReport(
            False, 0, checkpoint.seq - 1, "", checkpoint.seq, problem, 0, checkpoint.seq
        )
    return _verify(
        start_seq=checkpoint.seq + 1,
        start_prev=checkpoint.hash,
        marks=iter(()),
        batch_size=batch_size,
        verifier=None,
    )


# --- checkpoints -------------------------------------------------------------------------------


def checkpoint_create(*, signer: Callable[[dict[str, Any]], str]) -> AuditCheckpoint | None:
    """Sign and store the current head, once it is verified to extend the last checkpoint.

    Safe to run twice: an unchanged head returns the existing checkpoint, and two runs racing
    for the same head meet at the unique ``seq``. A broken chain is never signed
    (``ChainBroken``). Returns ``None`` while the log is empty.
    """
    latest = AuditCheckpoint.objects.order_by("-seq").first()
    report = _verify_since(latest) if latest else chain_verify()
    if not report.is_intact:
        raise ChainBroken(report)
    if report.head_seq == 0:
        return None
    if latest is not None and report.head_seq == latest.seq:
        return latest
    created_at = timezone.now()
    token = signer(
        {"seq": report.head_seq, "hash": report.head_hash, "iat": int(created_at.timestamp())}
    )
    kid = str(jwt.get_unverified_header(token).get("kid", ""))
    try:
        with transaction.atomic():
            return AuditCheckpoint.objects.create(
                seq=report.head_seq,
                hash=report.head_hash,
                created_at=created_at,
                kid=kid,
                token=token,
            )
    except IntegrityError:
        return AuditCheckpoint.objects.get(seq=report.head_seq)
