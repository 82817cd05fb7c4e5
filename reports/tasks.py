"""Report builds run in the worker: they can take long, and the page polls their progress."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def build_report_task(report_id: int) -> None:
    """Idempotent: the service skips a report that is already done."""
    from reports.services import report_build

    report_build(report_id=report_id)
