"""Beat: forget the answers of expired Idempotency-Keys."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from idempotency.models import IdempotencyRecord


@shared_task(acks_late=True, ignore_result=True)
def idempotency_purge_task() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
