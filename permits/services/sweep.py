"""Beat: approvals that never got their permit are re-driven (the ``permits.issue`` effect)."""

from __future__ import annotations

from requests_app.models import RequestState
from requests_app.services import requests_redrive


def permits_redrive_missing(*, batch_size: int = 100) -> list[str]:
    """Re-drive requests ``approved`` more than ``SWEEP_GRACE`` seconds ago and still without a
    permit; returns their references (``requests_redrive`` says how each is guarded)."""
    return requests_redrive(
        state=RequestState.APPROVED,
        waiting_since="decided_at",
        effect="permits.issue",
        effect_args=lambda request: {},
        batch_size=batch_size,
    )
