"""Nothing is lost when the broker, a worker or the database blinks (issue 11).

Each scenario makes an outage with the proxies, sends the four writes that matter over HTTP
(submit, vote, final grant, report) with an ``Idempotency-Key``, ends the outage, lets the
sweeps run as beat would, and then asserts:
- the HTTP answer was the truth of the commit (2xx: committed; 503 with Retry-After: nothing);
- a retry with the same key gets the first answer (or, after a 503, does the work once);
- nothing lost: no request left ``submitted`` or ``approved``, every report done or failed with
  a reason, every outbox row acknowledged;
- nothing duplicated: one checks run per round, one vote, one permit, one report build;
- ``manage.py audit_verify`` exits 0.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F

from accounts.services import api_token_create
from audit.models import AuditEvent
from demo.ehds_world import complete_after_checks
from lifes.celery import app
from outbox.models import OutboxMessage
from outbox.services import outbox_sweep
from permits.models import Permit
from permits.services import permits_redrive_missing
from reports.models import Report, ReportStatus
from reports.services import reports_sweep
from requests_app import services
from requests_app.models import AccessRequest, CheckResult, RequestState, StageState, Vote
from tests.faults.conftest import ROOT, Stack, wait_until
from tests.permits.conftest import DATASET
from tests.requests.conftest import fill_draft

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("fault_db")]

OUTAGE = {"detail", "code"}


# -- the world of each scenario ------------------------------------------------------------------


def _to_owners(request: AccessRequest) -> None:
    """Submit, check, and take every board's stage to approval: only the owner's grant is left."""
    services.request_submit(actor=request.requester, request_id=request.pk)
    complete_after_checks(request)  # the access body finds it complete: routed
    for _round in range(5):
        stage = request.stages.filter(state=StageState.OPEN).select_related("board").first()
        if stage is None:
            return
        members = list(stage.board.memberships.select_related("user").order_by("pk"))
        chair = next(m.user for m in members if m.role in ("chair", "secretary"))
        voters = [m.user for m in members if m.role == "member"][: stage.board.min_votes]
        for voter in voters:
            services.conflict_declare(actor=voter, request_id=request.pk, has_conflict=False)
            services.vote_cast(actor=voter, request_id=request.pk, choice="approve")
        services.round_close(actor=chair, request_id=request.pk)


def prepare(people: dict[str, Any], label: str) -> dict[str, Any]:
    """A draft to submit, a request in review for member1's vote, one waiting for its last
    grant; effects run inline here (the test's own process), so the world is ready at once."""
    requester, member1 = people["requester"], people["member1"]
    app.conf.task_always_eager = True
    try:
        draft = fill_draft(requester, [DATASET], title=f"Submit {label}")
        in_review = fill_draft(requester, [DATASET], title=f"Vote {label}")
        services.request_submit(actor=requester, request_id=in_review.pk)
        complete_after_checks(in_review)
        services.conflict_declare(actor=member1, request_id=in_review.pk, has_conflict=False)
        to_grant = fill_draft(requester, [DATASET], title=f"Grant {label}")
        _to_owners(to_grant)
    finally:
        app.conf.task_always_eager = False
    for request in (in_review, to_grant):
        request.refresh_from_db()
    assert in_review.state == RequestState.IN_REVIEW
    assert to_grant.requested_datasets.filter(decision="pending").count() == 1
    tokens = {
        name: api_token_create(actor=people[name], user=people[name], name="faults").key
        for name in ("requester", "member1", "owner")
    }
    return {
        "draft": draft,
        "in_review": in_review,
        "to_grant": to_grant,
        "tokens": tokens,
        "actions": {
            "submit": (f"/api/v1/requests/{draft.reference}/submit", "requester", {}),
            "vote": (
                f"/api/v1/requests/{in_review.reference}/votes",
                "member1",
                {"choice": "approve", "comment": "Sound."},
            ),
            "grant": (
                f"/api/v1/requests/{to_grant.reference}/decide",
                "owner",
                {"dataset_slug": DATASET, "decision": "granted", "conditions": "Cite us."},
            ),
            "report": (
                "/api/v1/reports",
                "requester",
                {"kind": "dossier", "subject": to_grant.reference},
            ),
        },
    }


def send(stack: Stack, world: dict, name: str, key: str):
    path, who, body = world["actions"][name]
    return stack.post(path, world["tokens"][who], body, key=key)


def committed(world: dict) -> dict[str, bool]:
    """Which of the four writes the database holds now."""
    draft, in_review, to_grant = world["draft"], world["in_review"], world["to_grant"]
    return {
        "submit": AccessRequest.objects.get(pk=draft.pk).round == 1,
        "vote": Vote.objects.filter(
            stage__request=in_review, voter__email__startswith="member1"
        ).exists(),
        "grant": not to_grant.requested_datasets.filter(decision="pending").exists(),
        "report": Report.objects.filter(subject=to_grant.reference).exists(),
    }


# -- recovery and the invariants -----------------------------------------------------------------


def beat_once() -> None:
    """What celery beat runs, run from here (its tasks go to the real worker)."""
    outbox_sweep()
    services.requests_redrive_stuck()
    permits_redrive_missing()
    reports_sweep()


def pending() -> dict[str, list]:
    """What is still waiting for an effect; empty when everything has settled. A submitted
    request whose checks ran for its round waits for a person (the completeness check), not
    for an effect: it is not pending."""
    return {
        name: rows
        for name, rows in {
            "outbox": list(
                OutboxMessage.objects.filter(acknowledged_at__isnull=True).values_list(
                    "effect", flat=True
                )
            ),
            "unchecked": list(
                AccessRequest.objects.filter(state=RequestState.SUBMITTED)
                .exclude(checks__round=F("round"))
                .values_list("reference", flat=True)
            ),
            "approved without permit": list(
                AccessRequest.objects.filter(state=RequestState.APPROVED).values_list(
                    "reference", flat=True
                )
            ),
            "reports": list(
                Report.objects.filter(
                    status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING]
                ).values_list("subject", flat=True)
            ),
        }.items()
        if rows
    }


def nothing_pending() -> bool:
    return not pending()


def recover(timeout: float = 60) -> None:
    def settled() -> bool:
        beat_once()
        return nothing_pending()

    try:
        wait_until(settled, timeout=timeout, what="every effect to be acknowledged")
    except AssertionError as error:
        raise AssertionError(f"{error}; still pending: {pending()}") from None


def assert_checked_and_waiting_for_the_access_body(draft: AccessRequest) -> None:
    """The submission's follow-up ran: its checks are recorded, and it waits for the access
    body's completeness check (a person, not an effect); accepting it then routes it."""
    draft.refresh_from_db()
    assert draft.state == RequestState.SUBMITTED
    assert CheckResult.objects.filter(request=draft, round=draft.round).exists()
    assert complete_after_checks(draft).state == RequestState.IN_REVIEW
    recover()  # the routing's own effects (e-mails to the boards) are delivered too


def assert_nothing_lost_or_duplicated() -> None:
    assert not pending()
    for request in AccessRequest.objects.exclude(state=RequestState.DRAFT):
        for round_number in range(1, request.round + 1):
            runs = AuditEvent.objects.filter(
                action="request.checks_run", object_id=str(request.pk), payload__round=round_number
            ).count()
            assert runs == 1, (request.reference, round_number, runs)
            assert CheckResult.objects.filter(request=request, round=round_number).exists()
    for request in AccessRequest.objects.filter(state=RequestState.PERMITTED):
        assert Permit.objects.filter(request=request).count() == 1
    assert AuditEvent.objects.filter(action="permit.issue").count() == Permit.objects.count()
    for report in Report.objects.all():
        assert report.status in (ReportStatus.DONE, ReportStatus.FAILED)
        assert report.status == ReportStatus.DONE or report.message
    generated = AuditEvent.objects.filter(action="report.generated").count()
    assert generated == Report.objects.filter(status=ReportStatus.DONE).count()
    verify = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env=_direct_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _direct_env() -> dict[str, str]:
    import os

    database = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
    }


def assert_retries_replay(stack: Stack, world: dict, answers: dict, suffix: str) -> None:
    """A retry with the same key after recovery: the first answer again, nothing new written."""
    events = AuditEvent.objects.count()
    for name, first in answers.items():
        again = send(stack, world, name, key=f"{name}-{suffix}")
        assert again.status_code == first.status_code, (name, again.text)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.count() == events


# -- the scenarios -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["refuse", "stall"])
def test_a_broker_outage_costs_latency_never_work(stack, people, fault_settings, mode):
    world = prepare(people, f"broker {mode}")

    stack.broker_proxy.set(mode)
    try:
        health = stack.get("/healthz", timeout=3)  # within 3 s, whatever the broker does
        answers = {
            name: send(stack, world, name, key=f"{name}-broker-{mode}") for name in world["actions"]
        }
        during = committed(world)
    finally:
        stack.broker_proxy.set("pass")

    assert health.status_code == 503
    assert health.json()["database"] == "ok"
    assert health.json()["broker"] in ("error", "timeout")
    # the HTTP answer is the truth of the commit: every write committed and said so
    assert {n: a.status_code for n, a in answers.items()} == {
        "submit": 200,
        "vote": 200,
        "grant": 200,
        "report": 202,
    }
    assert during == {"submit": True, "vote": True, "grant": True, "report": True}

    recover()

    assert_checked_and_waiting_for_the_access_body(world["draft"])
    assert AccessRequest.objects.get(pk=world["to_grant"].pk).state == RequestState.PERMITTED
    assert Report.objects.get(subject=world["to_grant"].reference).status == ReportStatus.DONE
    assert Vote.objects.filter(stage__request=world["in_review"]).count() == 1
    assert_retries_replay(stack, world, answers, f"broker-{mode}")
    assert_nothing_lost_or_duplicated()


@pytest.mark.parametrize("mode", ["refuse", "stall"])
def test_a_database_outage_is_a_503_and_a_retry_does_the_work_once(
    stack,
    people,
    fault_settings,
    mode,
):
    world = prepare(people, f"database {mode}")
    for _ in range(4):  # pooled connections in both gunicorn workers
        assert stack.get("/healthz").status_code == 200

    stack.db_proxy.set(mode)
    try:
        health = stack.get("/healthz", timeout=3)  # within 3 s, whatever the database does
        answers = {
            name: send(stack, world, name, key=f"{name}-db-{mode}") for name in world["actions"]
        }
    finally:
        stack.db_proxy.set("pass")

    assert health.status_code == 503
    assert health.json()["database"] in ("error", "timeout")
    for name, answer in answers.items():
        assert answer.status_code == 503, (name, answer.status_code, answer.text[:300])
        assert set(answer.json()) == OUTAGE
        assert answer.json()["code"] == "service_unavailable"
        assert int(answer.headers["Retry-After"]) > 0
    assert committed(world) == {"submit": False, "vote": False, "grant": False, "report": False}

    retried = {name: send(stack, world, name, key=f"{name}-db-{mode}") for name in world["actions"]}
    assert {n: a.status_code for n, a in retried.items()} == {
        "submit": 200,
        "vote": 200,
        "grant": 200,
        "report": 202,
    }
    recover()

    assert AccessRequest.objects.get(pk=world["to_grant"].pk).state == RequestState.PERMITTED
    assert_retries_replay(stack, world, retried, f"db-{mode}")
    assert_nothing_lost_or_duplicated()


def test_a_two_second_database_blip_then_traffic_loses_no_request(stack, people, fault_settings):
    world = prepare(people, "blip")
    token = world["tokens"]["requester"]
    for _ in range(4):  # pooled connections in both gunicorn workers
        assert stack.get("/api/v1/requests/", token).status_code == 200

    stack.db_proxy.set("refuse")
    time.sleep(2)
    stack.db_proxy.set("pass")

    # every pooled connection died; health checks replace them before use, so no request fails
    statuses = [stack.get("/api/v1/requests/", token).status_code for _ in range(6)]
    statuses.append(stack.get("/healthz").status_code)
    answers = {name: send(stack, world, name, key=f"{name}-blip") for name in world["actions"]}
    assert statuses == [200] * 7
    assert {n: a.status_code for n, a in answers.items()} == {
        "submit": 200,
        "vote": 200,
        "grant": 200,
        "report": 202,
    }
    recover()
    assert_nothing_lost_or_duplicated()


def test_a_worker_killed_during_a_report_and_a_checks_run_loses_neither(
    stack,
    people,
    fault_settings,
):
    world = prepare(people, "killed worker")

    # a report: wait until the worker builds it, hold its row so the build cannot finish, kill
    report_answer = send(stack, world, "report", key="report-killed")
    assert report_answer.status_code == 202
    report_id = report_answer.json()["id"]
    wait_until(
        lambda: Report.objects.filter(pk=report_id, status=ReportStatus.RUNNING).exists(),
        timeout=30,
        what="the worker to start the report",
    )
    with transaction.atomic():
        Report.objects.select_for_update().get(pk=report_id)
        stack.kill_worker()
    assert Report.objects.get(pk=report_id).status == ReportStatus.RUNNING
    stack.start_worker()
    recover()
    assert Report.objects.get(pk=report_id).status == ReportStatus.DONE

    # a checks run: the worker claims it, and is killed while it waits to write its results
    table = CheckResult._meta.db_table
    holder = threading.Event()
    release = threading.Event()

    def hold_the_results_table() -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # noqa: S608 - our table
            holder.set()
            release.wait(60)
        connection.close()

    locker = threading.Thread(target=hold_the_results_table)
    locker.start()
    try:
        holder.wait(10)
        submit_answer = send(stack, world, "submit", key="submit-killed")
        assert submit_answer.status_code == 200
        wait_until(
            lambda: OutboxMessage.objects.filter(
                effect="requests.checks_run",
                key=f"request:{world['draft'].pk}",
                claimed_until__isnull=False,
            ).exists(),
            timeout=30,
            what="the worker to claim the checks run",
        )
        stack.kill_worker()
    finally:
        release.set()
        locker.join(30)
    assert AccessRequest.objects.get(pk=world["draft"].pk).state == RequestState.SUBMITTED
    stack.start_worker()
    recover()

    assert_checked_and_waiting_for_the_access_body(world["draft"])
    assert_nothing_lost_or_duplicated()
