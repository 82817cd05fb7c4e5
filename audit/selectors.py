"""Reads of the audit log. Auditors and staff read all of it; signed tree heads and the
inclusion and consistency proofs are public, so anyone can hold the hub to them (RFC 9162)."""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch
from django.utils.translation import gettext as _

from audit import merkle
from audit.canonical import millis
from audit.errors import Code
from audit.models import ActorType, AuditEvent, AuditTreeHead
from audit.services.sequence import node_hashes, tree_size
from lifes.errors import InvalidInput, NotAllowed, NotFound


def can_read_log(user: Any) -> bool:
    """The one decision on who reads the audit log: auditors, staff and superusers."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (getattr(user, "is_auditor", False) or user.is_staff or user.is_superuser)
    )


def events_for_object(target: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        object_type=target._meta.label_lower, object_id=str(target.pk)
    ).order_by("seq")


def event_search(
    *,
    user: Any,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
    actor: str = "",
    actor_type: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    seq_from: int | None = None,
    seq_to: int | None = None,
) -> QuerySet[AuditEvent]:
    """The events ``user`` may read that match every filter given, newest first.

    ``actor`` matches the actor's label (part of it) or id; ``action`` matches a prefix
    (``permit.`` finds every permit action); the rest match exactly; ranges are inclusive.
    """
    if not can_read_log(user):
        raise NotAllowed(
            _("Only auditors and staff read the audit log."), code=Code.PERMISSION_DENIED
        )
    events = AuditEvent.objects.all()
    if occurred_from is not None:
        events = events.filter(occurred_at__gte=occurred_from)
    if occurred_to is not None:
        events = events.filter(occurred_at__lte=occurred_to)
    if actor:
        events = events.filter(Q(actor_label__icontains=actor) | Q(actor_id=actor))
    if actor_type:
        events = events.filter(actor_type=actor_type)
    if action:
        events = events.filter(action__startswith=action)
    if object_type:
        events = events.filter(object_type=object_type.lower())
    if object_id:
        events = events.filter(object_id=object_id)
    if seq_from is not None:
        events = events.filter(seq__gte=seq_from)
    if seq_to is not None:
        events = events.filter(seq__lte=seq_to)
    return events.order_by("-seq")


def object_urls(events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
    """Links to the pages of the objects these events are about, where such pages exist.

    One query per object type; objects that are gone, ids that are not valid keys and models
    without ``get_absolute_url`` simply get no link.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.object_type and event.object_id:
            wanted[event.object_type].add(event.object_id)
    urls: dict[tuple[str, str], str] = {}
    for label, ids in wanted.items():
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        if not hasattr(model, "get_absolute_url"):
            continue
        keys = {}
        for object_id in ids:
            try:
                keys[model._meta.pk.to_python(object_id)] = object_id
            except (ValidationError, ValueError, TypeError):
                continue
        for pk, obj in model._default_manager.in_bulk(list(keys)).items():
            try:
                urls[(label, keys[pk])] = obj.get_absolute_url()
            except NoReverseMatch:
                continue
    return urls


def tree_head_latest() -> AuditTreeHead | None:
    return AuditTreeHead.objects.order_by("-tree_size").first()


def tree_head_get(*, tree_size: int | None = None) -> AuditTreeHead:
    """The latest signed head, or the one signed at ``tree_size``."""
    head = (
        tree_head_latest()
        if tree_size is None
        else AuditTreeHead.objects.filter(tree_size=tree_size).first()
    )
    if head is None:
        raise NotFound(
            _("No tree head was signed at that size.")
            if tree_size is not None
            else _("No tree head has been signed yet."),
            code=Code.NO_TREE_HEAD,
        )
    return head


def _hexes(plan: list[merkle.Expr]) -> list[str]:
    stored = node_hashes(merkle.nodes_of(plan))
    return [merkle.evaluate(expr, stored.__getitem__).hex() for expr in plan]


def can_read_event(user: Any, event: AuditEvent) -> bool:
    """Auditors and staff read every event; a person reads the events they are the subject of
    (they acted, or the event is about their account)."""
    if can_read_log(user):
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    me = str(user.pk)
    return (event.actor_type == ActorType.USER and event.actor_id == me) or (
        event.object_type == user._meta.label_lower and event.object_id == me
    )


def inclusion_proof(*, leaf_index: int, tree_size: int | None, user: Any) -> dict[str, Any]:
    """RFC 9162 inclusion proof of leaf ``leaf_index`` in the tree of ``tree_size`` leaves (the
    latest signed head when not given); the event's canonical bytes for those who may read it."""
    if leaf_index < 0:
        raise InvalidInput(_("leaf_index must not be negative."), code=Code.INVALID_LEAF_INDEX)
    if tree_size is None:
        head = tree_head_latest()
        if head is None or leaf_index >= head.tree_size:
            raise NotFound(_("That event is not in a signed tree head yet."), code=Code.NOT_LOGGED)
        tree_size = head.tree_size
    if not 0 < tree_size <= tree_size_now() or leaf_index >= tree_size:
        raise InvalidInput(
            _("tree_size must be at most the size of the log and greater than leaf_index."),
            code=Code.INVALID_TREE_SIZE,
        )
    event = AuditEvent.objects.get(seq=leaf_index + 1)
    stored = node_hashes([(0, leaf_index)])
    answer: dict[str, Any] = {
        "leaf_index": leaf_index,
        "tree_size": tree_size,
        "leaf_hash": stored[(0, leaf_index)].hex(),
        "audit_path": _hexes(merkle.inclusion_plan(leaf_index, tree_size)),
    }
    if can_read_event(user, event):
        answer["leaf_data"] = leaf_data_of(event)
    return answer


def consistency_proof(*, first: int, second: int) -> dict[str, Any]:
    """RFC 9162 consistency proof that the tree of ``second`` leaves extends that of ``first``."""
    if not 0 < first <= second <= tree_size_now():
        raise InvalidInput(
            _("Need 0 < first <= second <= the size of the log."), code=Code.INVALID_TREE_SIZE
        )
    return {
        "first": first,
        "second": second,
        "proof": _hexes(merkle.consistency_plan(first, second)),
    }


def event_log_entry(event: AuditEvent, *, with_data: bool = False) -> dict[str, Any]:
    """Where ``event`` stands in the log: ``leaf_index`` (``None`` until sequenced) and, once a
    signed head covers it, the inclusion proof against the latest head (``tree_size``,
    ``leaf_hash``, ``audit_path``; ``leaf_data`` base64 when ``with_data``) and that head
    (``tree_head``). Proof fields are ``None`` until then."""
    entry: dict[str, Any] = {
        "leaf_index": event.leaf_index,
        "tree_size": None,
        "leaf_hash": None,
        "audit_path": None,
        "tree_head": None,
    }
    head = tree_head_latest()
    if event.seq is not None and head is not None and head.tree_size >= event.seq:
        proof = inclusion_proof(leaf_index=event.seq - 1, tree_size=head.tree_size, user=None)
        entry.update(proof, tree_head=tree_head_data(head))
        if with_data:
            entry["leaf_data"] = base64.b64encode(leaf_data_of(event)).decode("ascii")
    return entry


def leaf_data_of(event: AuditEvent) -> bytes:
    return bytes(event.leaf_data)


def tree_head_data(head: AuditTreeHead) -> dict[str, Any]:
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "timestamp": millis(head.timestamp),
        "signed": head.signed,
    }


tree_size_now = tree_size


def event_log_entries(
    events: Iterable[AuditEvent], *, with_data: bool = False
) -> dict[int, dict[str, Any]]:
    """``event_log_entry`` for many events at once (by event id), in two queries whatever
    their number: the latest head, then every stored node their proofs read. Lists use it, so
    a page of permits or receipts does not query per row."""
    events = list(events)
    head = tree_head_latest()
    covered = [e for e in events if e.seq is not None and head is not None]
    covered = [e for e in covered if head.tree_size >= e.seq]
    plans = {e.id: merkle.inclusion_plan(e.seq - 1, head.tree_size) for e in covered}
    wanted: set[merkle.Node] = {(0, e.seq - 1) for e in covered}
    for plan in plans.values():
        wanted |= merkle.nodes_of(plan)
    stored = node_hashes(wanted) if wanted else {}
    entries: dict[int, dict[str, Any]] = {}
    for event in events:
        entry: dict[str, Any] = {
            "leaf_index": event.leaf_index,
            "tree_size": None,
            "leaf_hash": None,
            "audit_path": None,
            "tree_head": None,
        }
        if event.id in plans:
            entry.update(
                leaf_index=event.seq - 1,
                tree_size=head.tree_size,
                leaf_hash=stored[(0, event.seq - 1)].hex(),
                audit_path=[
                    merkle.evaluate(expr, stored.__getitem__).hex() for expr in plans[event.id]
                ],
                tree_head=tree_head_data(head),
            )
            if with_data:
                entry["leaf_data"] = base64.b64encode(leaf_data_of(event)).decode("ascii")
        entries[event.id] = entry
    return entries
