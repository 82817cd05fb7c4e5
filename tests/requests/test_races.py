"""On PostgreSQL, racing transitions end in exactly one effect and the chain stays intact."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.services import chain_verify
from demo.ehds_world import complete_after_checks
from lifes.errors import DomainError
from requests_app import services
from requests_app.models import AccessRequest, RequestState, Vote
from tests.conftest import requires_postgres
from tests.requests.conftest import declare_none, fill_draft


def race(*calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
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


def in_review(review, datasets=("leiden-diabetes-cohort",)):
    request = fill_draft(review["requester"], list(datasets))
    services.request_submit(actor=review["requester"], request_id=request.pk)
    # Outside a test transaction the checks ran on commit; the access body finds it complete.
    complete_after_checks(request)
    assert AccessRequest.objects.get(pk=request.pk).state == RequestState.IN_REVIEW
    return request


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_vote_counts_once(review):
    request = in_review(review)
    member = review["member1"]
    declare_none(request, member)
    outcomes = race(
        *[lambda: services.vote_cast(actor=member, request_id=request.pk, choice="approve")] * 4
    )
    assert outcomes == ["already_voted"] * 3 + ["ok"]
    assert Vote.objects.filter(voter=member).count() == 1
    assert chain_verify().is_intact


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_chairs_closing_close_once(review):
    from requests_app.services import board_member_add

    second_chair = review["member2"]
    board_member_add(
        actor=review["admin"], board=review["ethics"], user=second_chair, role="secretary"
    )
    request = in_review(review)
    declare_none(request, review["member1"], second_chair)
    for voter in (review["member1"], second_chair):
        services.vote_cast(actor=voter, request_id=request.pk, choice="approve")
    events = AuditEvent.objects.count()

    outcomes = race(
        lambda: services.round_close(actor=review["chair"], request_id=request.pk),
        lambda: services.round_close(actor=second_chair, request_id=request.pk),
    )

    assert outcomes[1] == "ok"
    assert outcomes[0] in ("invalid_state", "permission_denied")
    assert AuditEvent.objects.filter(action="request.close_round").count() == 1
    assert AuditEvent.objects.count() > events
    assert chain_verify().is_intact


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_owners_granting_at_once_approve_once(review):
    request = in_review(review, ("leiden-diabetes-cohort", "lumc-cardiovascular-biobank"))
    declare_none(request, review["member1"], review["member2"])
    for voter in (review["member1"], review["member2"]):
        services.vote_cast(actor=voter, request_id=request.pk, choice="approve")
    services.round_close(actor=review["chair"], request_id=request.pk)
    services.round_close(actor=review["owner2"], request_id=request.pk, decision="approve")

    outcomes = race(
        lambda: services.dataset_decide(
            actor=review["owner"],
            request_id=request.pk,
            dataset_slug="leiden-diabetes-cohort",
            decision="granted",
        ),
        lambda: services.dataset_decide(
            actor=review["owner2"],
            request_id=request.pk,
            dataset_slug="lumc-cardiovascular-biobank",
            decision="granted",
        ),
    )

    assert outcomes == ["ok", "ok"]
    request = AccessRequest.objects.get(pk=request.pk)
    assert request.state in (RequestState.APPROVED, RequestState.PERMITTED)
    assert AuditEvent.objects.filter(action="request.decide_dataset").count() == 2
    assert chain_verify().is_intact
