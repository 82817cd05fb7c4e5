"""Periodic verification and checkpointing of the chain, so a break is noticed without anyone
asking and the head is signed and published every hour."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from audit.services import ChainBroken, audit_record, chain_verify, checkpoint_create

logger = logging.getLogger(__name__)


def _verifier():
    path = getattr(settings, "AUDIT_CHECKPOINT_VERIFIER", "")
    return import_string(path) if path else None


@shared_task(acks_late=True)
def audit_verify_task() -> dict[str, object]:
    """Verify the chain and record the outcome in it. Safe to run twice: it reads and appends."""
    report = chain_verify(verifier=_verifier())
    with transaction.atomic():
        audit_record(
            actor=None,
            action="audit.chain_verified" if report.is_intact else "audit.chain_broken",
            payload={
                "count": report.count,
                "head_seq": report.head_seq,
                "head_hash": report.head_hash,
                "broken_seq": report.broken_seq,
                "checkpoints": report.checkpoints,
                "reason": report.reason,
            },
        )
    if not report.is_intact:
        logger.error("Audit chain broken at event #%s: %s", report.broken_seq, report.reason)
    return {"intact": report.is_intact, "count": report.count, "head_hash": report.head_hash}


@shared_task(acks_late=True)
def audit_checkpoint_task() -> dict[str, object]:
    """Sign the verified head with the hub key. Safe to run twice: an unchanged head is not
    signed again. The signer is imported by dotted path (``AUDIT_CHECKPOINT_SIGNER``), so the
    audit app does not import the app that owns the keys."""
    signer = import_string(settings.AUDIT_CHECKPOINT_SIGNER)
    try:
        checkpoint = checkpoint_create(signer=signer)
    except ChainBroken as exc:
        logger.error("Not signing a checkpoint: %s", exc.message)
        return {"intact": False, "broken_seq": exc.report.broken_seq, "reason": exc.report.reason}
    if checkpoint is None:
        return {"intact": True, "seq": 0}
    return {"intact": True, "seq": checkpoint.seq, "hash": checkpoint.hash, "kid": checkpoint.kid}
