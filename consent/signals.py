"""Signals other apps connect to; consent services send them after their transaction commits.

``consent_changed`` (sender ``DatasetConsentState``; kwargs ``dataset_id``, ``version``): a
dataset's participant consent changed (import, withdrawal, national opt-out), so its cohorts and
the checks of requests for it may differ now. ``requests_app`` re-runs the consent and legal
checks of open requests on it.

``dataset_conditions_changed`` (sender ``Dataset``; kwarg ``dataset_id``): a dataset's DUO
conditions were set.

Receivers run after the commit; they should queue a Celery task rather than do work inline.
They are called with ``send_robust``, so a failing receiver is logged and never undoes or hides
the change that was already committed.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

consent_changed = Signal()
dataset_conditions_changed = Signal()


def send_after_commit(signal: Signal, *, sender: object, **kwargs: object) -> None:
    """Send ``signal`` with ``send_robust`` and log what receivers raised."""
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "consent signal receiver %r failed: %r",
                receiver,
                result,
                exc_info=(type(result), result, result.__traceback__),
            )
