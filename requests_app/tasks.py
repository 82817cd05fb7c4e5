"""Celery tasks: thin, idempotent, each calls one service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True, autoretry_for=(ConnectionError, TimeoutError), retry_backoff=True, max_retries=5
)
def send_email_task(subject: str, body: str, recipients: list[str]) -> int:
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


@shared_task(acks_late=True)
def run_checks_task(request_id: int, round_number: int | None = None) -> int:
    from requests_app.services import checks_run

    return len(checks_run(request_id=request_id, round_number=round_number))


@shared_task(acks_late=True)
def rerun_checks_for_dataset_task(dataset_id: int) -> int:
    """Consent changed in a dataset: re-run the checks of requests still under review."""
    from requests_app.selectors import requests_under_review_for_dataset

    request_ids = list(requests_under_review_for_dataset(dataset_id).values_list("pk", flat=True))
    for request_id in request_ids:
        run_checks_task.delay(request_id)
    return len(request_ids)


@shared_task(acks_late=True)
def stage_reminders_task(batch_size: int = 200) -> int:
    """Remind board members who have not voted when a deadline is near (beat, in batches)."""
    from audit.services import audit_record
    from requests_app.models import ReviewStage, StageState
    from requests_app.notifications import notify

    now = timezone.now()
    sent = 0
    due = (
        ReviewStage.objects.filter(
            state=StageState.OPEN, reminded_at__isnull=True, deadline__isnull=False
        )
        .select_related("board", "request")
        .order_by("deadline")[:batch_size]
    )
    for stage in due:
        if stage.deadline - timedelta(days=stage.board.reminder_days) > now:
            continue
        with transaction.atomic():
            locked = (
                ReviewStage.objects.select_for_update()
                .filter(pk=stage.pk, reminded_at__isnull=True)
                .first()
            )
            if locked is None:
                continue  # another run reminded them already
            voted = set(stage.votes.values_list("voter_id", flat=True))
            recipients = [
                m.user.email
                for m in stage.board.memberships.select_related("user")
                if m.user_id not in voted
            ]
            locked.reminded_at = now
            locked.save(update_fields=["reminded_at"])
            audit_record(
                actor=None,
                action="request.reminder",
                target=stage.request,
                payload={
                    "reference": stage.request.reference,
                    "board": stage.board.name,
                    "deadline": stage.deadline.isoformat(),
                    "recipients": len(recipients),
                },
            )
            notify(
                template="reminder",
                request=stage.request,
                recipients=recipients,
                context={"stage": stage},
            )
            sent += 1
    return sent
