"""Periodic verification of the chain, so a broken chain is noticed without anyone asking."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from audit.services import audit_record, chain_verify

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def audit_verify_task() -> dict[str, object]:
    """Verify the chain and record the outcome in it. Safe to run twice: it reads and appends."""
    report = chain_verify()
    with transaction.atomic():
        audit_record(
            actor=None,
            action="audit.chain_verified" if report.is_intact else "audit.chain_broken",
            payload={"count": report.count, "head_seq": report.head_seq,
                     "head_hash": report.head_hash, "broken_seq": report.broken_seq,
                     "reason": report.reason},
        )
    if not report.is_intact:
        logger.error("Audit chain broken at event #%s: %s", report.broken_seq, report.reason)
    return {"intact": report.is_intact, "count": report.count, "head_hash": report.head_hash}
