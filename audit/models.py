"""The append-only, hash-chained audit log.

Each event's ``hash`` is ``sha256(prev_hash || canonical JSON of the event)`` so that editing,
deleting, inserting or reordering any event breaks every hash after it. ``ChainHead`` is a
single row that writers lock to append one at a time: the chain never forks.

A hash chain alone does not stop someone with database access from rewriting the whole history
and every hash after the edit, or from cutting the tail off. So the head is periodically signed
with the hub key and published (``AuditCheckpoint``), and verification checks that the chain
still passes through every checkpoint. On PostgreSQL, triggers refuse UPDATE, DELETE and
TRUNCATE on events and checkpoints (migration 0003, ``audit/maintenance.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64


class ActorType(models.TextChoices):
    USER = "user", "User"
    NODE = "node", "Node"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(editable=False, db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """The last appended event, locked by every writer (one row, pk=1)."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"head #{self.seq} {self.hash[:12]}"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had head ``hash`` at event ``seq``", published so that
    anyone holding a copy can later show the live chain still extends it."""

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    kid = models.CharField(max_length=64, editable=False)
    token = models.TextField(editable=False, help_text="compact JWS over {seq, hash, iat}")

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} {self.hash[:12]}"
