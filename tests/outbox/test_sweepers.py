"""Work that cannot stay stuck: the beat sweepers re-drive what lost its effect, record it in the
audit log, and two beats at once do it once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import chain_verify
from outbox.models import OutboxMessage
from outbox.registry import replaced
from outbox.services import outbox_sweep
from permits.models import Permit
from permits.services import permits_redrive_missing
from reports.models import Report, ReportStatus
from reports.services import report_request, reports_sweep
from requests_app import services
from requests_app.models import AccessRequest, RequestState
from tests.conftest import requires_postgres
from tests.permits.conftest import approve, consented, key_dir  # noqa: F401 - fixtures
from tests.requests.conftest import fill_draft, review  # noqa: F401 - fixtures

LONG_AGO = timezone.timedelta(hours=2)


def _lost(name: str):
    """The effect ``name`` runs as a no-op and is acknowledged: as if it had been lost."""
    return replaced(name, lambda **payload: None)


def _stuck_world(people) -> dict:
    """One request of each kind of stuck work, each older than every deadline."""
    requester = people["requester"]
    with TestCase.captureOnCommitCallbacks(execute=True), _lost("requests.checks_run"):
        draft = fill_draft(requester, ["leiden-diabetes-cohort"], title="Stuck in submitted")
        submitted = services.request_submit(actor=requester, request_id=draft.pk)
    with TestCase.captureOnCommitCallbacks(execute=True), _lost("permits.issue"):
        approved = approve(people, title="Approved without a permit")
    with TestCase.captureOnCommitCallbacks(execute=True), _lost("reports.build"):
        running = report_request(actor=requester, kind="dossier", subject=approved.reference)
        queued = report_request(actor=requester, kind="dossier", subject=approved.reference)
    then = timezone.now() - LONG_AGO
    AccessRequest.objects.filter(pk=submitted.pk).update(submitted_at=then)
    AccessRequest.objects.filter(pk=approved.pk).update(decided_at=then)
    Report.objects.filter(pk=running.pk).update(
        status=ReportStatus.RUNNING, progress=85, started_at=then
    )
    Report.objects.filter(pk=queued.pk).update(created_at=then)
    OutboxMessage.objects.update(created_at=then)
    return {"submitted": submitted, "approved": approved, "running": running, "queued": queued}


def _beat() -> list:
    """One beat: every sweeper once, then the outbox sweep, each as beat runs it."""
    return [
        services.requests_redrive_stuck,
        permits_redrive_missing,
        reports_sweep,
        outbox_sweep,
    ]


def _assert_each_redriven_once(stuck: dict) -> None:
    submitted, approved = stuck["submitted"], stuck["approved"]
    running, queued = stuck["running"], stuck["queued"]
    submitted.refresh_from_db()
    # checked now, and waiting for the completeness check (a person's turn: not stuck any more)
    assert submitted.state == RequestState.SUBMITTED
    assert submitted.checks.filter(round=submitted.round).exists()
    assert (
        AuditEvent.objects.filter(action="request.checks_run", object_id=str(submitted.pk)).count()
        == 1
    )
    assert Permit.objects.filter(request=approved).count() == 1
    assert AccessRequest.objects.get(pk=approved.pk).state == RequestState.PERMITTED
    redriven = AuditEvent.objects.filter(action="request.redriven").order_by("seq")
    assert sorted((e.object_id, e.payload["effect"]) for e in redriven) == sorted(
        [(str(submitted.pk), "requests.checks_run"), (str(approved.pk), "permits.issue")]
    )
    running.refresh_from_db()
    assert running.status == ReportStatus.FAILED
    assert running.message == "The build stopped before it finished; ask for the report again."
    queued.refresh_from_db()
    assert queued.status == ReportStatus.DONE
    assert AuditEvent.objects.filter(action="report.failed").count() == 1
    assert AuditEvent.objects.filter(action="report.redriven").count() == 1
    assert AuditEvent.objects.filter(action="report.generated").count() == 1
    assert redriven.first().actor_type == "system"
    assert chain_verify().is_intact


@pytest.mark.django_db(transaction=True)
def test_the_sweepers_redrive_stuck_work_once_and_record_it(consented):  # noqa: F811
    stuck = _stuck_world(consented)

    # given two beats one after the other
    for _beat_number in range(2):
        for sweep in _beat():
            sweep()

    _assert_each_redriven_once(stuck)


@pytest.mark.django_db(transaction=True)
def test_work_younger_than_the_grace_period_is_left_alone(consented, settings):  # noqa: F811
    settings.SWEEP_GRACE = 3600
    requester = consented["requester"]
    with TestCase.captureOnCommitCallbacks(execute=True), _lost("requests.checks_run"):
        draft = fill_draft(requester, ["leiden-diabetes-cohort"], title="Just submitted")
        services.request_submit(actor=requester, request_id=draft.pk)
    events = AuditEvent.objects.count()

    assert services.requests_redrive_stuck() == []
    assert AuditEvent.objects.count() == events
    assert AccessRequest.objects.get(pk=draft.pk).state == RequestState.SUBMITTED


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_do_no_harm(consented):  # noqa: F811
    stuck = _stuck_world(consented)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def beat() -> None:
        try:
            start.wait()
            for sweep in _beat():
                sweep()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    outbox_sweep()  # what a later beat would find: nothing new
    _assert_each_redriven_once(stuck)
