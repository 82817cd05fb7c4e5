"""A real Celery worker on the real broker runs the hub's tasks against the real database."""

from __future__ import annotations

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from audit.services.sequence import audit_sequence, compact_range
from audit.tasks import audit_verify_task
from tests.conftest import requires_broker, requires_postgres, wait_for


@requires_postgres
@requires_broker
@pytest.mark.worker
def test_worker_verifies_the_log_and_records_it(celery_worker_process):
    with transaction.atomic():
        audit_record(actor=None, action="test.before_worker", payload={})
    # Appends here do not place themselves (a worker runs, as in production): place every
    # committed event first, here or by the worker's own nudged sequencer, whichever runs.
    audit_sequence()
    wait_for(lambda: not AuditEvent.objects.filter(seq__isnull=True).exists())
    placed = AuditEvent.objects.count()  # with the key's creation

    result = audit_verify_task.delay()

    # disable_sync_subtasks: this process is no task, but Celery's process-wide "inside a task"
    # flag can be left set by what ran earlier in it (seen on the PostgreSQL leg).
    report = result.get(timeout=60, disable_sync_subtasks=False)
    # What the worker recorded in this database, read before asserting: once on CI a worker
    # reported an intact log of 0 events here, and a failure must say what each side saw.
    recorded = AuditEvent.objects.filter(action__startswith="audit.log_").first()
    seen = {
        "report": report,
        "placed before": placed,
        "recorded here": recorded.payload if recorded else None,
        "events now": list(AuditEvent.objects.order_by("id").values_list("id", "seq", "action")),
    }
    # Every event placed before is verified; one the worker's own start appends may come too
    # (seen on the PostgreSQL leg), so the root is the stored tree's at the size it verified.
    assert report["intact"] is True, seen
    assert report["count"] >= placed, seen
    assert report["head_hash"] == compact_range(report["count"]).root().hex()
    event = wait_for(lambda: AuditEvent.objects.filter(action="audit.log_verified").first())
    assert event.actor_type == "system"
    assert event.payload["count"] == report["count"]


@requires_postgres
@requires_broker
@pytest.mark.worker
def test_a_submission_is_checked_and_routed_by_the_worker(celery_worker_process):
    """The real path: submit commits, the checks task goes through Redis to the worker, which
    stores the explained checks and routes the request to its board."""
    from demo.ehds_world import complete_after_checks
    from demo.world import seed_demo
    from requests_app import services
    from requests_app.models import AccessRequest, CheckResult
    from tests.requests.conftest import fill_draft

    seed_demo(with_requests=False)
    from accounts.models import User
    from demo.requests_world import _board

    users = {u.email: u for u in User.objects.all()}
    _board(users, users["owner@demo.lifes.test"].memberships.get().organisation)
    requester = users["requester@demo.lifes.test"]
    request = fill_draft(requester, ["leiden-diabetes-cohort"])

    services.request_submit(actor=requester, request_id=request.pk)
    wait_for(lambda: CheckResult.objects.filter(request=request, round=1).exists(), timeout=60)
    complete_after_checks(request)  # after the worker's checks, the access body finds it complete

    routed = wait_for(
        lambda: AccessRequest.objects.filter(pk=request.pk, state="in_review").first(), timeout=60
    )
    assert routed.stages.get().state == "open"
    assert CheckResult.objects.filter(request=request, round=1).count() >= 5
    assert AuditEvent.objects.filter(
        action="request.checks_run", actor_type="system", object_id=str(request.pk)
    ).exists()
