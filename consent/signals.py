"""Signals other apps connect to; consent services send them after their transaction commits.

``consent_changed`` (sender ``DatasetConsentState``; kwargs ``dataset_id``, ``version``): a
dataset's participant consent changed (import, withdrawal, national opt-out), so its cohorts and
the checks of requests for it may differ now. ``requests_app`` re-runs the consent and legal
checks of open requests on it.

``dataset_conditions_changed`` (sender ``Dataset``; kwarg ``dataset_id``): a dataset's DUO
conditions were set.

They are sent after the commit by the ``consent.changed`` / ``consent.conditions_changed``
outbox effects (consent/tasks.py): a receiver that raises leaves the effect unacknowledged and it
is delivered again, so receivers must be idempotent and should write outbox rows, not do the work.
"""

from __future__ import annotations

from django.dispatch import Signal

consent_changed = Signal()
dataset_conditions_changed = Signal()
