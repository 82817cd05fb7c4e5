"""One row per side effect, written in the transaction of the change that causes it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A side effect to deliver at least once.

    Lifecycle: written unacknowledged with ``available_at`` now; a send (nudge after commit or
    beat sweep) pushes ``available_at`` to the next re-delivery time; the task claims the row
    for a lease (``claimed_until``), runs the handler and sets ``acknowledged_at``. A row is
    never deleted by the relay: acknowledged rows are the record of what was done.
    """

    effect = models.CharField(max_length=100)
    key = models.CharField(max_length=200, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["available_at"],
                condition=Q(acknowledged_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.effect} #{self.pk}"

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None
