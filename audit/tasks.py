"""The sequencer every second (and on every commit's nudge), and a daily verification, so
events reach the signed tree promptly and a break is noticed without anyone asking."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

import outbox
from audit.services import audit_record, audit_sequence, log_verify

logger = logging.getLogger(__name__)


def _verifier():
    path = getattr(settings, "AUDIT_TREE_HEAD_VERIFIER", "")
    return import_string(path) if path else None


@shared_task(acks_late=True, ignore_result=True)
def audit_sequence_task() -> dict[str, object]:
    """Place committed events in the tree and sign the head. Safe to run twice or
    concurrently: a run that finds the sequencer busy returns at once (the busy one, or the
    next beat, takes these events)."""
    head = audit_sequence()
    if head is None:
        return {"tree_size": None}
    return {"tree_size": head.tree_size, "root_hash": head.root_hash}


@outbox.effect("audit.verify")  # "verify the log now" (audit.services.audit_verify_request)
@shared_task(acks_late=True)
def audit_verify_task() -> dict[str, object]:
    """Verify the log and record the outcome in it. Safe to run twice: it reads and appends."""
    report = log_verify(verifier=_verifier())
    with transaction.atomic():
        audit_record(
            actor=None,
            action="audit.log_verified" if report.is_intact else "audit.log_broken",
            payload={
                "count": report.count,
                "tree_size": report.head_seq,
                "root_hash": report.head_hash,
                "broken_seq": report.broken_seq,
                "tree_heads": report.heads,
                "reason": report.reason,
            },
        )
    if not report.is_intact:
        logger.error("Audit log broken at event #%s: %s", report.broken_seq, report.reason)
    return {"intact": report.is_intact, "count": report.count, "head_hash": report.head_hash}
