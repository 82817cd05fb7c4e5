"""The audit log: an append-only Merkle tree of events, as Certificate Transparency keeps one.

A service appends an ``AuditEvent`` in its own transaction, without any global lock; the event
has no place in the log yet (``seq`` is null). The sequencer (``audit.services.audit_sequence``,
one at a time) gives committed events consecutive places (``seq`` = leaf index + 1), stores the
leaf hash and every complete subtree it closes (``AuditTreeNode``), and signs a tree head with
the hub key (``AuditTreeHead``). Anyone can then check one event against a signed head with
log n hashes (inclusion proof), and that a later head extends an earlier one (consistency
proof), as RFC 9162 defines them. On PostgreSQL, triggers keep events, nodes and heads
append-only; the one change allowed is the sequencer setting an event's ``seq`` once
(migrations 0003 and 0004, ``audit/maintenance.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ActorType(models.TextChoices):
    USER = "user", "User"
    NODE = "node", "Node"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(
        unique=True, null=True, editable=False, help_text="leaf index + 1, once sequenced"
    )
    occurred_at = models.DateTimeField(editable=False, db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    # The canonical bytes of the event as logged (``audit.canonical.leaf_data``), written with
    # it: the leaf is SHA-256(0x00 || these bytes); the columns above must say the same.
    leaf_data = models.BinaryField(editable=False, default=b"")

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"]),
            # The sequencer's queue: only the few events not yet in the tree.
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="audit_event_unsequenced"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '?'} {self.action} {self.object_type}:{self.object_id}"

    @property
    def leaf_index(self) -> int | None:
        return None if self.seq is None else self.seq - 1


class AuditTreeNode(models.Model):
    """A complete subtree of the log's Merkle tree: ``level`` 0 are the leaf hashes; node
    ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``. Stored in
    the order appends close them (``id``), which is the order ``audit_verify`` recomputes."""

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="audit_tree_node_unique")
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class AuditTreeHead(models.Model):
    """A signed statement "the log had ``tree_size`` leaves with root ``root_hash``"."""

    tree_size = models.PositiveBigIntegerField(unique=True, editable=False)
    root_hash = models.CharField(max_length=64, editable=False)
    timestamp = models.DateTimeField(default=timezone.now, editable=False)
    kid = models.CharField(max_length=64, editable=False)
    signed = models.TextField(
        editable=False, help_text="compact JWS (typ lifes-tree-head+jwt) over the head"
    )

    class Meta:
        ordering = ["-tree_size"]

    def __str__(self) -> str:
        return f"tree head {self.tree_size} {self.root_hash[:12]}"
