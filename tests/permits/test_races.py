"""On PostgreSQL: approving the same request twice at once issues exactly one permit, and
racing revocations leave one change and an intact audit chain."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager

import jwt
import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import chain_verify
from lifes.errors import DomainError
from outbox.registry import replaced
from permits.models import Permit, PermitStatus
from permits.services import (
    permit_issue,
    permit_revoke,
    revocation_list_current,
    revocation_list_publish,
)
from permits.tasks import issue_permit_task
from requests_app.models import RequestState
from tests.conftest import requires_postgres

from .conftest import approve


def race(calls: list[Callable[[], object]]) -> list[str]:
    """Start every call at the same moment, each in its own thread (own connection)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            result = call()
            outcomes.append("done" if isinstance(result, Permit | str) else "nothing")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@contextmanager
def without_auto_issue():
    """Keep the approval's own permit out of the way, so the test issues it (twice at once)."""
    with replaced("permits.issue", lambda **payload: None):
        yield


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_approving_the_same_request_twice_at_once_issues_one_permit(consented):
    with without_auto_issue():
        request = approve(consented)
    assert request.state == RequestState.APPROVED

    # the signal delivered twice (two tasks), and an owner pressing the button meanwhile
    outcomes = race(
        [lambda: issue_permit_task(request.pk)] * 3
        + [lambda: permit_issue(actor=None, request_id=request.pk)] * 3
    )

    assert outcomes.count("done") == 1
    assert set(outcomes) - {"done"} <= {"invalid_state", "nothing"}
    assert Permit.objects.filter(request=request).count() == 1
    assert AuditEvent.objects.filter(action="permit.issue").count() == 1
    request.refresh_from_db()
    assert request.state == RequestState.PERMITTED
    assert chain_verify().is_intact


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_racing_revocations_revoke_once_and_the_list_names_the_permit(consented):
    with without_auto_issue():
        request = approve(consented)
    permit = permit_issue(actor=None, request_id=request.pk)
    actors = [consented["owner"], consented["chair"]] * 2

    outcomes = race(
        [
            lambda actor=actor: permit_revoke(actor=actor, number=permit.number, reason="Racing.")
            for actor in actors
        ]
        + [revocation_list_publish] * 2
    )

    assert outcomes == ["done"] + ["invalid_state"] * 3 + ["nothing"] * 2
    permit.refresh_from_db()
    assert permit.status == PermitStatus.REVOKED
    assert AuditEvent.objects.filter(action="permit.revoke").count() == 1
    # whatever order the publishers ran in, the list served now names the revoked permit
    claims = jwt.decode(revocation_list_current().token, options={"verify_signature": False})
    assert [e["jti"] for e in claims["revoked"]] == [str(permit.jti)]
    assert chain_verify().is_intact
