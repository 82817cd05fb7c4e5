"""The one Celery task of the outbox, and its beat sweep."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from outbox.registry import effect


@shared_task(name="outbox.deliver", acks_late=True, ignore_result=True)
def deliver_task(message_id: int) -> str:
    """Run one outbox row's effect; idempotent by the row's id (see ``outbox_deliver``)."""
    from outbox.services import outbox_deliver

    return outbox_deliver(message_id=message_id)


@shared_task(name="outbox.sweep", acks_late=True, ignore_result=True)
def outbox_sweep_task() -> int:
    """Beat: send again what is not acknowledged yet."""
    from outbox.services import outbox_sweep

    return outbox_sweep()


@effect("mail.send")
def send_email(*, subject: str, body: str, recipients: list[str]) -> int:
    """Every app's e-mail goes through here; rendered by the service at the time of the change."""
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
