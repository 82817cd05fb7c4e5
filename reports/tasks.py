"""Report builds run in the worker: they can take long, and the page polls their progress."""

from __future__ import annotations

from celery import shared_task

import outbox


@outbox.effect("reports.build")
@shared_task(acks_late=True, ignore_result=True)
def build_report_task(report_id: int) -> None:
    """Idempotent: the service skips a report that is already done."""
    from reports.services import report_build

    report_build(report_id=report_id)


@shared_task(acks_late=True, ignore_result=True)
def reports_sweep_task() -> dict[str, list[int]]:
    """Beat: fail reports whose build was lost, re-drive those never started (see the service)."""
    from reports.services import reports_sweep

    return reports_sweep()


@shared_task(ignore_result=True)
def metrics_refresh_task() -> None:
    """Beat: the metrics page's figures, recomputed when the log has moved (see the service)."""
    from reports.services import metrics_refresh

    metrics_refresh()
