"""Celery tasks: thin, safe to run twice, each calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

import outbox
from lifes.errors import DomainError

logger = logging.getLogger(__name__)


@outbox.effect("permits.issue")
@shared_task(acks_late=True)
def issue_permit_task(request_id: int) -> str | None:
    """Issue the permit of a request that was just approved (its ``permits.issue`` effect).

    A refusal (say, the ethics approval has already ended, so no validity window is left) is
    logged and leaves the request ``approved``: a data owner sees why on the request page and
    can issue it there once the cause is fixed. Retrying would not change the answer.
    """
    from permits.services import permit_issue_if_due

    try:
        permit = permit_issue_if_due(request_id=request_id)
    except DomainError as exc:
        logger.warning(
            "permit for request %s not issued: %s (%s)", request_id, exc.message, exc.code
        )
        return None
    return permit.number if permit else None


@outbox.effect("permits.close_with_request")
@shared_task(acks_late=True)
def permits_close_task(request_id: int) -> int:
    """End the permit of a request that was just closed (its outbox effect)."""
    from permits.services import permits_close_with_request

    return permits_close_with_request(request_id=request_id)


@shared_task(acks_late=True)
def permits_expire_task(batch_size: int | None = None) -> int:
    """Beat: expire permits past ``valid_until``, one bounded batch per run; a full batch queues
    the next one at once, so a backlog drains without one long transaction."""
    from permits.services import permits_expire_due

    size = batch_size or settings.PERMIT_EXPIRY_BATCH_SIZE
    expired = permits_expire_due(batch_size=size)
    if expired == size:
        permits_expire_task.apply_async(kwargs={"batch_size": size})
    return expired


@outbox.effect("permits.revocation_list_publish")
@shared_task(acks_late=True)
def revocation_list_publish_task() -> int:
    """Re-sign the revocation list (after a change, and on the beat schedule)."""
    from permits.services import revocation_list_publish

    return revocation_list_publish().entries


@shared_task(acks_late=True, ignore_result=True)
def permits_sweep_task() -> list[str]:
    """Beat: re-drive approvals that never got their permit (see the service)."""
    from permits.services import permits_redrive_missing

    return permits_redrive_missing()


@shared_task(acks_late=True, ignore_result=True)
def results_reminders_task(batch_size: int = 200) -> int:
    """Beat: remind holders of results due soon or overdue (EHDS Art. 61); the service sends
    each reminder once, ever, so a second run does nothing."""
    from permits.services import results_reminders_send

    return results_reminders_send(batch_size=batch_size)


@shared_task(acks_late=True)
def permit_reports_remind_task() -> int:
    """Beat: remind holders of progress and closeout reports coming due."""
    from permits.services import permit_reports_remind

    return permit_reports_remind()


@outbox.effect("permits.activate")
@shared_task(acks_late=True)
def permit_activate_task(request_id: int) -> str | None:
    """The team accepted the terms: activate and sign the permit waiting for it (idempotent)."""
    from permits.services import permit_activate_if_accepted

    permit = permit_activate_if_accepted(request_id=request_id)
    return permit.status if permit else None


@shared_task(acks_late=True, ignore_result=True)
def permits_acceptance_sweep_task() -> dict:
    """Beat: activate accepted permits whose effect was lost, lapse those past their window."""
    from permits.services import permits_acceptance_sweep

    return permits_acceptance_sweep()
