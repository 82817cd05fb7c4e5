"""The sequencer: gives committed events their places in the Merkle tree and signs tree heads.

One runs at a time (a PostgreSQL advisory lock held for its transaction; SQLite allows one
writer anyway). It is run by the beat task every second, by an on-commit nudge from
``audit_record``, and by ``manage.py audit_sequence``; inline by ``audit_record`` itself where
``sequence_inline()`` says so. Each run takes the unsequenced events it can see (committed ones,
or the caller's own when inline), in id order, numbers them after the current tree size, and
stores the leaf hashes and every complete subtree they close. Idempotent: a second run finds
nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from audit import merkle
from audit.canonical import millis
from audit.models import AuditEvent, AuditTreeHead, AuditTreeNode

# pg_advisory_xact_lock key of the sequencer ("LIFESAUD" as 8 bytes would not fit a signed
# bigint; any constant no other code uses will do).
LOCK_KEY = 0x4C49464553

Signer = Callable[[dict[str, Any]], str]


def _lock(*, wait: bool) -> bool:
    """Take the sequencer lock for the rest of the current transaction."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        return bool(cursor.fetchone()[0])


def tree_size() -> int:
    return AuditEvent.objects.aggregate(size=Max("seq"))["size"] or 0


def node_hashes(nodes: set[merkle.Node] | list[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of complete subtrees, in one query."""
    wanted = list(nodes)
    if not wanted:
        return {}
    query = Q()
    for level, index in wanted:
        query |= Q(level=level, index=index)
    found = {
        (level, index): bytes(digest)
        for level, index, digest in AuditTreeNode.objects.filter(query).values_list(
            "level", "index", "hash"
        )
    }
    missing = [node for node in wanted if node not in found]
    if missing:
        raise LookupError(f"tree nodes missing: {missing[:3]}")
    return found


def compact_range(size: int) -> merkle.CompactRange:
    nodes = merkle.frontier(size)
    hashes = node_hashes(nodes)
    return merkle.CompactRange.from_frontier(size, [hashes[node] for node in nodes])


def _integrate(rows: list[tuple], size: int, placed: dict[int, int] | None = None) -> int:
    """Number ``rows`` (id, leaf data) after ``size``; store their leaves and the nodes they
    close, and set each event's ``seq`` (also in ``placed``, by id). Returns the new size."""
    appender = compact_range(size)
    closed: list[tuple[int, int, bytes]] = []
    for _id, data in rows:
        appender.append(merkle.leaf_hash(bytes(data)), closed)
    AuditTreeNode.objects.bulk_create(
        [AuditTreeNode(level=level, index=index, hash=digest) for level, index, digest in closed],
        batch_size=2000,
    )
    ids = [row[0] for row in rows]
    seqs = list(range(size + 1, size + 1 + len(rows)))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent AS e SET seq = u.seq "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS u(id, seq) "
                "WHERE e.id = u.id AND e.seq IS NULL",
                [ids, seqs],
            )
            if cursor.rowcount != len(ids):
                raise IntegrityError("an event was sequenced twice")
    else:
        for event_id, seq in zip(ids, seqs, strict=True):
            AuditEvent.objects.filter(pk=event_id, seq__isnull=True).update(seq=seq)
    if placed is not None:
        placed.update(zip(ids, seqs, strict=True))
    return appender.size


def sequence_pending(
    *, wait: bool, batch_size: int = 10000, placed: dict[int, int] | None = None
) -> int | None:
    """Integrate the unsequenced events visible now, in id order, in the current transaction.
    Returns the new tree size, or ``None`` when another sequencer holds the lock; ``placed``
    receives each integrated event's ``seq`` by id (so an inline append need not read it back).
    """
    if not _lock(wait=wait):
        return None
    pending = AuditEvent.objects.filter(seq__isnull=True).order_by("id")
    # The first batch carries the current size along (one query, not two: the inline append
    # runs this for every event). Read after the lock, so no other sequencer moves it.
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values("seq")[:1]
    rows = list(
        pending.annotate(size=Subquery(last)).values_list("id", "leaf_data", "size")[:batch_size]
    )
    if not rows:
        return tree_size()
    size = rows[0][2] or 0
    while True:
        size = _integrate([row[:2] for row in rows], size, placed)
        if len(rows) < batch_size:  # that was all of them: no need to ask again
            return size
        rows = list(pending.values_list("id", "leaf_data")[:batch_size])
        if not rows:
            return size


def _signer() -> Signer:
    return import_string(settings.AUDIT_TREE_HEAD_SIGNER)


def tree_head_sign(*, signer: Signer | None = None) -> AuditTreeHead | None:
    """Sign the current tree (once per size). Returns ``None`` while the log is empty."""
    size = tree_size()
    if size == 0:
        return None
    existing = AuditTreeHead.objects.filter(tree_size=size).first()
    if existing is not None:
        return existing
    root = compact_range(size).root().hex()
    moment = timezone.now()
    claims = {
        "tree_size": size,
        "root_hash": root,
        "timestamp": millis(moment),
    }
    token = (signer or _signer())(claims)
    kid = str(jwt.get_unverified_header(token).get("kid", ""))
    try:
        with transaction.atomic():
            return AuditTreeHead.objects.create(
                tree_size=size, root_hash=root, timestamp=moment, kid=kid, signed=token
            )
    except IntegrityError:
        return AuditTreeHead.objects.get(tree_size=size)


def audit_sequence(
    *, batch_size: int = 10000, sign: bool = True, signer: Signer | None = None
) -> AuditTreeHead | None:
    """One sequencer run: integrate every committed unsequenced event, then sign the head.

    Returns the head signed (or already there) at the new size, ``None`` when the log is empty
    or another run holds the lock (it will see these events too). Safe to run any number of
    times, concurrently.
    """
    with transaction.atomic():
        size = sequence_pending(wait=False, batch_size=batch_size)
    if size is None or not sign:
        return None
    # Signing is outside the sequencing transaction: a first signing key is created (and its
    # creation logged) on demand, which must not run while the tree is half written.
    return tree_head_sign(signer=signer)
