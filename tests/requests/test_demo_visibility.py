"""The demo shows the visibility rule: the request in review carries realistic private answers,
a team member and an internal note, and each demo account sees what the rule gives it."""

from __future__ import annotations

import pytest
from django.test import TestCase

from accounts.models import User
from demo.requests_world import PRIVATE_ANSWERS, TEAM_MEMBER
from requests_app.models import AccessRequest


@pytest.mark.django_db
def test_the_demo_request_in_review_shows_the_rule(client):
    from demo.world import seed_demo

    with TestCase.captureOnCommitCallbacks(execute=True):
        seed_demo()
    request = AccessRequest.objects.get(title="Cardiovascular outcomes after statin therapy")
    assert request.state == "in_review"
    assert request.funding_source == PRIVATE_ANSWERS["funding_source"]
    assert request.dpia_summary == PRIVATE_ANSWERS["dpia_summary"]
    assert list(request.team.values_list("email", "role")) == [TEAM_MEMBER]

    def seen_by(email: str) -> dict:
        client.force_login(User.objects.get(email=email))
        return client.get(f"/api/v1/requests/{request.reference}").json()

    member1 = seen_by("member1@demo.lifes.test")  # declared no conflict, voted
    assert member1["submitted_answers"]["funding_source"] == PRIVATE_ANSWERS["funding_source"]
    assert member1["team"] == [{"email": TEAM_MEMBER[0], "role": TEAM_MEMBER[1]}]
    assert [c["is_internal"] for c in member1["comments"]] == [True]
    member2 = seen_by("member2@demo.lifes.test")  # has not declared yet
    assert member2["submitted_answers"]["funding_source"] == "(private)"
    assert member2["stages"][0]["votes_cast"][0]["voter"] == "member1@demo.lifes.test"
    for email in ("requester@demo.lifes.test", "owner@demo.lifes.test"):
        seen = seen_by(email)
        assert seen["comments"] == []
        assert seen["stages"][0]["votes_cast"] is None
    assert (
        seen_by("requester@demo.lifes.test")["submitted_answers"]["dpia_summary"]
        == (PRIVATE_ANSWERS["dpia_summary"])
    )
    assert seen_by("owner@demo.lifes.test")["submitted_answers"]["dpia_summary"] == "(private)"
