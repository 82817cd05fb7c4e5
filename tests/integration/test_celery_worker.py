"""A real Celery worker on the real broker runs the hub's tasks against the real database."""

from __future__ import annotations

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from audit.tasks import audit_verify_task
from tests.conftest import requires_broker, requires_postgres, wait_for


@requires_postgres
@requires_broker
@pytest.mark.worker
def test_worker_verifies_the_chain_and_records_it(celery_worker_process):
    with transaction.atomic():
        audit_record(actor=None, action="test.before_worker", payload={})

    result = audit_verify_task.delay()

    assert result.get(timeout=60) == {
        "intact": True, "count": 1,
        "head_hash": AuditEvent.objects.get(seq=1).hash,
    }
    event = wait_for(lambda: AuditEvent.objects.filter(action="audit.chain_verified").first())
    assert event.actor_type == "system"
    assert event.payload["count"] == 1
