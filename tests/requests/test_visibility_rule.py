"""One visibility rule, every output: the request page, the API, the CSV export (page and API)
and the e-mails each show a person exactly what the rule gives them (the PDF dossier:
tests/reports/test_dossier_views.py). The scenario and the expected table are in conftest."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core import mail

from requests_app.permissions import situation_of
from tests.requests.conftest import (
    DELIBERATION_MARKERS,
    EXPECTED_SIGHT,
    PRIVATE_MARKERS,
    PUBLIC_MARKERS,
)

# Who voted what, by name (pages) and by e-mail address (API, CSV); the chair voted and closed
# the round, which the timeline shows as the board's act for those who may not see votes.
VOTER_NAMES = ("Mila Member", "member1@demo.lifes.test", "Chris Chair", "chair@demo.lifes.test")


def people(scene, name):
    return scene[name]


def assert_sight(text: str, name: str, output: str) -> None:
    private, deliberation = EXPECTED_SIGHT[name]
    where = f"{output} for {name}"
    for marker in PUBLIC_MARKERS:
        assert marker in text, f"{where}: {marker} missing"
    for marker in PRIVATE_MARKERS:
        assert (marker in text) == private, f"{where}: {marker} {'missing' if private else 'leaks'}"
    for marker in DELIBERATION_MARKERS:
        assert (marker in text) == deliberation, (
            f"{where}: {marker} {'missing' if deliberation else 'leaks'}"
        )
    if not deliberation:
        for voter in VOTER_NAMES:
            assert voter not in text, f"{where}: names the voter {voter}"
    if not private:
        assert "teammate@demo.lifes.test" not in text, f"{where}: the private team leaks"
        assert "Tina Teammate" not in text, f"{where}: the private team leaks"


@pytest.mark.django_db
def test_the_scenario_is_where_the_owners_decide(scene):
    assert situation_of(scene["request"]) == "in_review:owners"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED_SIGHT))
def test_the_request_page_shows_each_role_what_the_rule_says(scene, client, name):
    client.force_login(people(scene, name))

    page = client.get(f"/requests/{scene['request'].reference}/")

    assert page.status_code == 200
    text = page.content.decode()
    assert_sight(text, name, "page")
    # the vote itself, by name, for those who see the deliberation
    assert ("Mila Member: Approve" in text) == EXPECTED_SIGHT[name][1]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED_SIGHT))
def test_the_api_shows_each_role_what_the_rule_says(scene, token_client, name):
    api = token_client(people(scene, name))

    body = api.get(f"/api/v1/requests/{scene['request'].reference}").json()

    private, deliberation = EXPECTED_SIGHT[name]
    assert_sight(json.dumps(body), name, "API")
    answers = body["submitted_answers"]
    assert answers["funding_source"] == (
        "FUNDING-SECRET ZonMw grant 0912" if private else "(private)"
    )
    assert answers["team"] == (
        [{"email": "teammate@demo.lifes.test", "role": "Statistician"}] if private else "(private)"
    )
    assert body["team"] == (
        [{"email": "teammate@demo.lifes.test", "role": "Statistician"}] if private else None
    )
    (stage,) = body["stages"]
    assert stage["decision_note"] == "BOARD-REASON-NOTE the design is sound"
    if deliberation:
        assert stage["votes"] == 2
        assert [(v["voter"], v["choice"]) for v in stage["votes_cast"]] == [
            ("member1@demo.lifes.test", "approve"),
            ("chair@demo.lifes.test", "approve"),
        ]
        assert {(d["member"], d["has_conflict"]) for d in stage["declarations"]} == {
            ("member1@demo.lifes.test", False),
            ("member2@demo.lifes.test", True),
            ("chair@demo.lifes.test", False),
        }
    else:
        assert (stage["votes"], stage["votes_cast"], stage["declarations"]) == (None, None, None)
    assert [c["is_internal"] for c in body["comments"]] == ([True] if deliberation else [])
    kinds = sorted(a["kind"] for a in body["attachments"])
    assert kinds == (["dpia", "ethics_letter"] if private else ["ethics_letter"])


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED_SIGHT))
def test_the_csv_export_shows_each_role_what_the_rule_says(scene, client, token_client, name):
    user = people(scene, name)
    client.force_login(user)
    reference = scene["request"].reference

    page = client.get(f"/requests/{reference}/export.csv")
    api = token_client(user).get(f"/api/v1/requests/{reference}/export.csv")

    for response, output in ((page, "CSV (page)"), (api, "CSV (API)")):
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        text = response.content.decode()
        assert_sight(text, name, output)
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["part", "item", "value", "detail"]
        assert rows[1][:3] == ["view", "prepared for", f"{user.full_name} <{user.email}>"]
        votes = [row[1:3] for row in rows if row[0] == "vote"]
        expected = [["member1@demo.lifes.test", "approve"], ["chair@demo.lifes.test", "approve"]]
        assert votes == (expected if EXPECTED_SIGHT[name][1] else [])


@pytest.mark.django_db
def test_the_emails_follow_the_rule(scene):
    # given the whole review ran with e-mails sent after each commit
    sent = [(m.to[0], m.subject, m.body) for m in mail.outbox]
    reference = scene["request"].reference

    def to(subject_start: str) -> list[str]:
        return sorted(address for address, subject, _ in sent if subject.startswith(subject_start))

    # board-only news reaches no one on the team, though the teammate is the board's secretary
    assert to("Review requested") == [
        "chair@demo.lifes.test",
        "member1@demo.lifes.test",
        "member2@demo.lifes.test",
        "undeclared@demo.lifes.test",
    ]
    assert to(f"New vote on {reference}") == ["chair@demo.lifes.test"] * 2
    # the team hears the board's decision and its reasons, never who voted what
    team_mail = [
        (a, s, b)
        for a, s, b in sent
        if a in ("requester@demo.lifes.test", "teammate@demo.lifes.test")
    ]
    decision = [b for a, s, b in team_mail if s.startswith("Review decision")]
    assert len(decision) == 2
    assert all("BOARD-REASON-NOTE the design is sound" in body for body in decision)
    for _address, subject, body in team_mail:
        for secret in (*DELIBERATION_MARKERS, "VOTE-COMMENT-CHAIR", *VOTER_NAMES, "Chris Chair"):
            assert secret not in subject + body


@pytest.mark.django_db
def test_nobody_outside_the_request_gets_anything(scene, client, token_client):
    reference = scene["request"].reference
    outsider = scene["industry"]
    client.force_login(outsider)
    for url in (f"/requests/{reference}/", f"/requests/{reference}/export.csv"):
        assert client.get(url).status_code == 404
    api = token_client(outsider)
    for url in (f"/api/v1/requests/{reference}", f"/api/v1/requests/{reference}/export.csv"):
        assert api.get(url).status_code == 404


@pytest.mark.django_db
def test_the_admin_is_an_output_too_and_shows_staff_no_private_answers(scene, client):
    request = scene["request"]
    client.force_login(scene["admin"])

    change = client.get(f"/admin/requests_app/accessrequest/{request.pk}/change/")
    submission = request.submissions.get()
    snapshot = client.get(f"/admin/requests_app/submission/{submission.pk}/change/")

    assert (change.status_code, snapshot.status_code) == (200, 200)
    for response in (change, snapshot):
        text = response.content.decode()
        assert request.reference in text
        for marker in ("FUNDING-SECRET", "COMMERCIAL-SECRET", "DPIA-SECRET"):
            assert marker not in text
