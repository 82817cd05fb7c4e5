"""Nobody sees what is not theirs, alike in pages, API and admin; the list is O(1) queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app import services
from requests_app.selectors import board_queue, request_list
from tests.requests.conftest import fill_draft


def submitted(review, n: int = 1, datasets=("leiden-diabetes-cohort",)):
    made = []
    for i in range(n):
        request = fill_draft(review["requester"], list(datasets), title=f"Study {i}")
        services.request_submit(actor=review["requester"], request_id=request.pk)
        services.request_route(actor=None, request_id=request.pk)
        made.append(request)
    return made


@pytest.mark.django_db
def test_who_sees_a_routed_request(client, review):
    (request,) = submitted(review)
    draft = fill_draft(review["requester"], ["leiden-diabetes-cohort"], title="Private draft")
    expectations = {
        "requester": {request.reference, draft.reference},
        "member1": {request.reference},  # routed to their board
        "chair": {request.reference},
        "owner": {request.reference},  # for their dataset, once submitted
        "auditor": {request.reference, draft.reference},
        "industry": set(),  # nobody else
        "owner2": set(),  # owner of a dataset not in the request
    }
    for name, visible in expectations.items():
        user = review[name]
        assert {r.reference for r in request_list(user=user)} == visible, name
        client.force_login(user)
        api = client.get("/api/v1/requests/").json()
        assert {r["reference"] for r in api["results"]} == visible, name
        for reference in (request.reference, draft.reference):
            page = client.get(f"/requests/{reference}/")
            detail = client.get(f"/api/v1/requests/{reference}")
            expected = 200 if reference in visible else 404
            assert (page.status_code, detail.status_code) == (expected, expected), (name, reference)


@pytest.mark.django_db
def test_team_members_see_the_request_after_accepting(client, review):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    services.team_member_invite(
        actor=review["requester"], request_id=request.pk, email="member3@demo.lifes.test"
    )
    services.terms_accept(actor=review["member3"], request_id=request.pk)
    client.force_login(review["member3"])
    assert client.get(f"/api/v1/requests/{request.reference}").status_code == 200


@pytest.mark.django_db
def test_admin_lists_only_visible_requests(client, review):
    (request,) = submitted(review)
    client.force_login(review["admin"])
    assert request.reference in client.get("/admin/requests_app/accessrequest/").content.decode()


@pytest.mark.django_db
def test_request_list_runs_a_fixed_number_of_queries(review):
    submitted(review, 2, datasets=("leiden-diabetes-cohort", "lumc-cardiovascular-biobank"))
    with CaptureQueriesContext(connection) as few:
        assert len(list(request_list(user=review["requester"]))) == 2
    submitted(review, 6, datasets=("leiden-diabetes-cohort", "lumc-cardiovascular-biobank"))
    with CaptureQueriesContext(connection) as many:
        assert len(list(request_list(user=review["requester"]))) == 8
    assert len(many) == len(few)


@pytest.mark.django_db
def test_board_queue_runs_a_fixed_number_of_queries(review):
    submitted(review, 2)
    with CaptureQueriesContext(connection) as few:
        _board, stages = board_queue(user=review["chair"], board_id=review["ethics"].pk)
        assert len([(s.request.requester.email, s.vote_count) for s in stages]) == 2
    submitted(review, 7)
    with CaptureQueriesContext(connection) as many:
        _board, stages = board_queue(user=review["chair"], board_id=review["ethics"].pk)
        assert len([(s.request.requester.email, s.vote_count) for s in stages]) == 9
    assert len(many) == len(few)


@pytest.mark.django_db
def test_board_queue_of_another_board_is_not_found(client, review):
    client.force_login(review["member1"])
    assert client.get(f"/api/v1/boards/{review['dac'].pk}/queue").status_code == 404
    assert client.get(f"/requests/boards/{review['dac'].pk}/").status_code == 404
    assert client.get(f"/api/v1/boards/{review['ethics'].pk}/queue").status_code == 200


@pytest.mark.django_db
def test_the_board_queue_counts_each_stages_votes_and_says_whose_are_cast(client, review):
    """Each open stage with its own vote count and whether the viewer voted, soonest deadline
    first (the count is read per shown stage, not grouped over the whole queue)."""
    from requests_app.models import ReviewStage

    first, second = submitted(review, 2)
    board = ReviewStage.objects.get(request=first, state="open").board
    for name in ("chair", "member1"):
        services.conflict_declare(
            actor=review[name], request_id=second.pk, has_conflict=False, statement=""
        )
        services.vote_cast(actor=review[name], request_id=second.pk, choice="approve")
    ReviewStage.objects.filter(request=second).update(deadline=timezone.now())

    client.force_login(review["member1"])
    rows = client.get(f"/api/v1/boards/{board.pk}/queue").json()["results"]

    assert [(r["reference"], r["vote_count"], r["has_my_vote"]) for r in rows] == [
        (second.reference, 2, True),
        (first.reference, 0, False),
    ]
