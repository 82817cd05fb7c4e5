"""What people see: the permit on the request page, the permit page, its buttons."""

from __future__ import annotations

import pytest

from accounts.services import user_create
from audit.models import AuditEvent
from permits.models import Permit, PermitStatus
from permits.services import receipt_record

from .test_node_api import signed_receipt


@pytest.fixture
def receipt(permit, node_key, world):
    from accounts.models import User

    token, _ = signed_receipt(node_key, permit)
    node_user = User.objects.get(email="lumc-station-1@nodes.lifes.test")
    return receipt_record(actor=node_user, token=token)


@pytest.mark.django_db
def test_the_request_page_shows_the_permit_and_the_runs(permit, receipt, consented, client):
    client.force_login(consented["requester"])

    page = client.get(permit.request.get_absolute_url()).content.decode()

    assert permit.number in page
    assert permit.get_absolute_url() in page
    assert "Runs at the nodes" in page
    assert f"{receipt.cohort_size} participants" in page
    assert "Issue the permit" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [("requester", 200), ("owner", 200), ("auditor", 200), ("chair", 200), ("stranger", 404)],
)
def test_the_permit_page_is_for_those_who_see_the_request(permit, consented, client, who, status):
    user = (
        user_create(actor=None, email="stranger@example.org", password="a-long-password-1")
        if who == "stranger"
        else consented[who]
    )
    client.force_login(user)

    response = client.get(permit.get_absolute_url())

    assert response.status_code == status
    if status == 200:
        assert permit.token in response.content.decode()


@pytest.mark.django_db
def test_owners_revoke_from_the_page_and_requesters_get_no_buttons(permit, consented, client):
    client.force_login(consented["requester"])
    assert "Revoke the permit" not in client.get(permit.get_absolute_url()).content.decode()
    before = AuditEvent.objects.count()
    refused = client.post(f"/permits/{permit.number}/act/revoke/", {"reason": "Mine."}, follow=True)
    assert "You may not" in refused.content.decode()
    assert AuditEvent.objects.count() == before

    client.force_login(consented["owner"])
    assert "Revoke the permit" in client.get(permit.get_absolute_url()).content.decode()
    done = client.post(
        f"/permits/{permit.number}/act/revoke/", {"reason": "The study ended early."}, follow=True
    )

    assert done.status_code == 200
    assert Permit.objects.get(pk=permit.pk).status == PermitStatus.REVOKED
    assert "revoked everywhere" in done.content.decode()


@pytest.mark.django_db
def test_an_owner_can_issue_a_permit_the_approval_did_not(approved, consented, client):
    client.force_login(consented["owner"])
    page = client.get(approved.get_absolute_url()).content.decode()
    assert "Issue the permit" in page

    response = client.post(f"/permits/issue/{approved.reference}/")

    permit = Permit.objects.get(request=approved)
    assert response.status_code == 302
    assert response["Location"] == permit.get_absolute_url()
    assert permit.issued_by == consented["owner"]
