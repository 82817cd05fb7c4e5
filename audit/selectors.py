"""Reads of the audit log. Auditors and staff read all of it; the head and the signed
checkpoints are public, so anyone can hold the hub to them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch

from audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent
from lifes.errors import NotAllowed


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
        raise NotAllowed("Only auditors and staff read the audit log.")
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


def chain_head() -> dict[str, Any]:
    """The last event of the chain (``seq`` 0 and the genesis hash while it is empty)."""
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash", "occurred_at").first()
    return last or {"seq": 0, "hash": GENESIS_HASH, "occurred_at": None}


def checkpoints_published() -> QuerySet[AuditCheckpoint]:
    return AuditCheckpoint.objects.order_by("-seq")
