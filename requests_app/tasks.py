"""Celery tasks: thin, idempotent, each calls one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


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
    from requests_app.services import stage_reminders_send

    return stage_reminders_send(batch_size=batch_size)
