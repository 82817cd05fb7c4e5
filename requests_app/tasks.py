"""Celery tasks: thin, idempotent, each calls one service."""

from __future__ import annotations

from celery import shared_task

import outbox


@outbox.effect("requests.checks_run")
@shared_task(acks_late=True)
def run_checks_task(request_id: int, round_number: int | None = None) -> int:
    from requests_app.services import checks_run

    return len(checks_run(request_id=request_id, round_number=round_number))


@shared_task(acks_late=True)
def stage_reminders_task(batch_size: int = 200) -> int:
    """Remind board members who have not voted when a deadline is near (beat, in batches)."""
    from requests_app.services import stage_reminders_send

    return stage_reminders_send(batch_size=batch_size)


@shared_task(acks_late=True, ignore_result=True)
def requests_sweep_task() -> list[str]:
    """Beat: re-drive submitted requests whose checks never ran (see the service)."""
    from requests_app.services import requests_redrive_stuck

    return requests_redrive_stuck()


@shared_task(acks_late=True, ignore_result=True)
def incomplete_lapse_task(batch_size: int = 200) -> list[str]:
    """Beat: lapse incomplete applications past their completion window (EHDS Art. 68)."""
    from requests_app.services import incomplete_lapse_sweep

    return incomplete_lapse_sweep(batch_size=batch_size)


@shared_task(acks_late=True, ignore_result=True)
def clock_reminders_task(batch_size: int = 200) -> int:
    """Beat: remind and escalate before a decision deadline runs out (once per deadline)."""
    from requests_app.services import clock_reminders_send

    return clock_reminders_send(batch_size=batch_size)
