"""The permits API for people: read what you may see, suspend/resume/revoke, issue by hand."""

from __future__ import annotations

import pytest

from accounts.services import user_create
from audit.models import AuditEvent
from permits.models import Permit, PermitStatus


@pytest.mark.django_db
def test_the_holder_reads_the_permit_and_a_stranger_gets_404(permit, consented, token_client):
    stranger = user_create(actor=None, email="stranger@example.org", password="a-long-password-1")

    mine = token_client(consented["requester"]).get(f"/api/v1/permits/{permit.number}")
    listed = token_client(consented["auditor"]).get("/api/v1/permits/")
    hidden = token_client(stranger).get(f"/api/v1/permits/{permit.number}")

    assert mine.status_code == 200
    body = mine.json()
    assert (body["number"], body["status"], body["token"], body["request"]) == (
        permit.number,
        "active",
        permit.token,
        permit.request.reference,
    )
    assert body["outputs"] == {"aggregate_only": True, "min_cell_count": 10}
    # the purpose in words, as the register gives it: labels, not codes
    assert body["purpose_in_words"] == ["disease specific research", "type 2 diabetes mellitus"]
    assert [d["id"] for d in body["datasets"]] == ["leiden-diabetes-cohort"]
    assert [p["number"] for p in listed.json()["results"]] == [permit.number]
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "No such permit.", "code": "not_found"}


@pytest.mark.django_db
def test_suspend_resume_and_revoke_through_the_api(permit, consented, token_client):
    owner = token_client(consented["owner"])
    url = f"/api/v1/permits/{permit.number}"

    suspended = owner.post(f"{url}/suspend", {"reason": "Audit."}, format="json")
    resumed = owner.post(f"{url}/resume", {"reason": "Audit done."}, format="json")
    revoked = owner.post(f"{url}/revoke", {"reason": "Study stopped."}, format="json")

    assert [r.json()["status"] for r in (suspended, resumed, revoked)] == [
        "suspended",
        "active",
        "revoked",
    ]
    assert revoked.json()["status_reason"] == "Study stopped."
    assert list(
        AuditEvent.objects.filter(action__startswith="permit.")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["permit.issue", "permit.suspend", "permit.resume", "permit.revoke"]


@pytest.mark.django_db
def test_api_refusals_are_json_and_change_nothing(permit, consented, token_client):
    requester = token_client(consented["requester"])
    owner = token_client(consented["owner"])
    before = AuditEvent.objects.count()

    not_allowed = requester.post(
        f"/api/v1/permits/{permit.number}/revoke", {"reason": "x"}, format="json"
    )
    no_reason = owner.post(f"/api/v1/permits/{permit.number}/revoke", {}, format="json")
    unknown = owner.post(
        "/api/v1/permits/LIFES-P-2026-999999/revoke", {"reason": "x"}, format="json"
    )

    assert (not_allowed.status_code, not_allowed.json()["code"]) == (403, "permission_denied")
    assert (no_reason.status_code, list(no_reason.json()["errors"])) == (400, ["reason"])
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert Permit.objects.get(pk=permit.pk).status == PermitStatus.ACTIVE
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_an_owner_issues_through_the_api_and_the_requester_cannot(
    approved, consented, token_client
):
    refused = token_client(consented["requester"]).post(
        "/api/v1/permits/issue", {"request": approved.reference}, format="json"
    )
    issued = token_client(consented["owner"]).post(
        "/api/v1/permits/issue", {"request": approved.reference}, format="json"
    )
    twice = token_client(consented["owner"]).post(
        "/api/v1/permits/issue", {"request": approved.reference}, format="json"
    )

    assert refused.status_code == 403
    assert issued.status_code == 201
    assert issued.json()["number"] == Permit.objects.get().number
    assert (twice.status_code, twice.json()["code"]) == (409, "invalid_state")
