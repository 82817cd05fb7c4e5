"""Suspend, resume, revoke, expire: who may, what changes, what the revocation list says."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from django.utils import timezone

from accounts.services import user_create
from audit.models import AuditEvent
from lifes.errors import InvalidInput, InvalidTransition, NotAllowed
from lifes_node.verify import verify_revocation_list
from permits.models import Permit, PermitStatus, RevocationList
from permits.services import (
    permit_issue,
    permit_resume,
    permit_revoke,
    permit_suspend,
    permits_expire_due,
    revocation_list_current,
)
from permits.tasks import permits_expire_task
from requests_app.models import AccessBar

from .conftest import approve, hub_jwks


def listed(client) -> list[dict]:
    token = client.get("/api/v1/permits/revocations", HTTP_ACCEPT="application/jwt").content
    return jwt.decode(token, options={"verify_signature": False})["revoked"]


def footprint(permit: Permit) -> tuple:
    permit.refresh_from_db()
    return (
        permit.status,
        permit.status_reason,
        permit.status_changed_at,
        AuditEvent.objects.count(),
        AccessBar.objects.count(),
        RevocationList.objects.filter(is_stale=True).count(),
    )


@pytest.mark.django_db
def test_a_steward_suspends_and_resumes_and_the_list_follows(
    permit, consented, client, django_capture_on_commit_callbacks
):
    owner = consented["owner"]

    with django_capture_on_commit_callbacks(execute=True):
        permit_suspend(actor=owner, number=permit.number, reason="Data breach at the node.")

    permit.refresh_from_db()
    assert (permit.status, permit.status_reason, permit.status_changed_by) == (
        PermitStatus.SUSPENDED,
        "Data breach at the node.",
        owner,
    )
    assert [(e["jti"], e["reason"]) for e in listed(client)] == [(str(permit.jti), "suspended")]
    event = AuditEvent.objects.filter(action="permit.suspend").get()
    assert event.payload["reason"] == "Data breach at the node."

    with django_capture_on_commit_callbacks(execute=True):
        permit_resume(actor=owner, number=permit.number, reason="The node is patched.")

    permit.refresh_from_db()
    assert permit.status == PermitStatus.ACTIVE
    assert listed(client) == []


@pytest.mark.django_db
def test_the_chair_of_a_reviewing_board_revokes_and_the_holder_is_barred(
    permit, consented, client, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        permit_revoke(
            actor=consented["chair"],
            number=permit.number,
            reason="Results published without the required review.",
        )

    permit.refresh_from_db()
    assert permit.status == PermitStatus.REVOKED
    bar = AccessBar.objects.get()
    assert (bar.user, bar.dataset.slug) == (permit.holder, "leiden-diabetes-cohort")
    rlist = verify_revocation_list(
        client.get("/api/v1/permits/revocations").content,
        jwks=hub_jwks(client),
        issuer=settings.HUB_URL,
    )
    assert rlist.revoked == frozenset({str(permit.jti)})
    # the public list carries the status, never the steward's words
    assert listed(client)[0]["reason"] == "revoked"
    assert "published" not in client.get("/api/v1/permits/revocations").content.decode()
    with pytest.raises(InvalidTransition):
        permit_resume(actor=consented["owner"], number=permit.number, reason="Oops.")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["requester", "stranger", "member1", "auditor"])
@pytest.mark.parametrize("command", [permit_suspend, permit_revoke])
def test_others_are_refused_and_nothing_changes(permit, consented, who, command):
    actor = (
        user_create(actor=None, email="stranger@example.org", password="a-long-password-1")
        if who == "stranger"
        else consented[who]
    )
    before = footprint(permit)

    with pytest.raises(NotAllowed):
        command(actor=actor, number=permit.number, reason="Because I can.")

    assert footprint(permit) == before


@pytest.mark.django_db
def test_the_requester_cannot_resume_a_suspended_permit(permit, consented):
    permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")
    before = footprint(permit)

    with pytest.raises(NotAllowed):
        permit_resume(actor=consented["requester"], number=permit.number, reason="Mine.")

    assert footprint(permit) == before


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required(permit, consented, reason):
    before = footprint(permit)

    with pytest.raises(InvalidInput) as refused:
        permit_revoke(actor=consented["owner"], number=permit.number, reason=reason)

    assert refused.value.errors == {"reason": ["A reason is required."]}
    assert footprint(permit) == before


@pytest.mark.django_db
def test_a_permit_past_its_end_cannot_be_resumed(permit, consented):
    permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")
    now = timezone.now()
    Permit.objects.filter(pk=permit.pk).update(
        valid_from=now - dt.timedelta(days=2), valid_until=now
    )

    with pytest.raises(InvalidTransition) as refused:
        permit_resume(actor=consented["owner"], number=permit.number, reason="Done.")

    assert refused.value.code == "expired"


def _issue_many(consented, count: int) -> list[Permit]:
    return [
        permit_issue(actor=None, request_id=approve(consented, title=f"Study {n}").pk)
        for n in range(count)
    ]


@pytest.mark.django_db
def test_expiry_runs_in_bounded_batches(consented):
    permits = _issue_many(consented, 5)
    now = timezone.now()
    Permit.objects.filter(pk__in=[p.pk for p in permits[:4]]).update(
        valid_from=now - dt.timedelta(days=2), valid_until=now - dt.timedelta(seconds=1)
    )
    permit_suspend(actor=consented["owner"], number=permits[3].number, reason="Paused.")

    assert permits_expire_due(batch_size=3) == 3
    assert permits_expire_due(batch_size=3) == 1
    assert permits_expire_due(batch_size=3) == 0

    statuses = [Permit.objects.get(pk=p.pk).status for p in permits]
    assert statuses == ["expired"] * 4 + ["active"]
    assert AuditEvent.objects.filter(action="permit.expire").count() == 4


@pytest.mark.django_db
def test_the_expiry_task_drains_a_backlog_batch_after_batch(consented):
    permits = _issue_many(consented, 3)
    now = timezone.now()
    Permit.objects.update(
        valid_from=now - dt.timedelta(days=2), valid_until=now - dt.timedelta(seconds=1)
    )

    permits_expire_task(batch_size=2)  # eager: the full first batch queues the next at once

    assert set(Permit.objects.values_list("status", flat=True)) == {"expired"}
    assert len(permits) == 3


@pytest.mark.django_db
def test_nothing_is_usable_past_its_end_even_before_the_task_runs(permit, consented):
    now = timezone.now()
    Permit.objects.filter(pk=permit.pk).update(
        valid_from=now - dt.timedelta(days=2), valid_until=now
    )
    permit.refresh_from_db()

    assert permit.status == "active"
    assert permit.effective_status == "expired"
    assert not permit.is_usable


@pytest.mark.django_db
def test_the_endpoint_serves_the_cached_list_and_resigns_when_stale(
    permit, consented, client, settings
):
    first = client.get("/api/v1/permits/revocations")
    assert first["Content-Type"] == "application/jwt"
    again = client.get("/api/v1/permits/revocations")
    assert again.content == first.content  # served from the cache, not signed again

    permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")
    # the on-commit task never ran (no transaction commits in this test); the stale mark did
    assert RevocationList.objects.get().is_stale
    fresh = client.get("/api/v1/permits/revocations", HTTP_ACCEPT="application/json")
    assert fresh["Content-Type"] == "application/json"
    claims = jwt.decode(fresh.json()["token"], options={"verify_signature": False})
    assert [e["jti"] for e in claims["revoked"]] == [str(permit.jti)]
    assert claims["exp"] - claims["iat"] == settings.PERMIT_REVOCATION_LIST_TTL
    assert claims["iss"] == settings.HUB_URL
    header = jwt.get_unverified_header(fresh.json()["token"])
    assert header["typ"] == "lifes-revocations+jwt"


@pytest.mark.django_db
def test_a_list_past_half_its_life_is_signed_again(db, settings):
    settings.PERMIT_REVOCATION_LIST_TTL = 3600
    first = revocation_list_current()
    RevocationList.objects.filter(pk=1).update(issued_at=first.issued_at - dt.timedelta(minutes=31))

    second = revocation_list_current()

    # re-signed now (Ed25519 is deterministic: the same second gives the same token)
    assert second.issued_at >= first.issued_at
    assert RevocationList.objects.get().issued_at == second.issued_at


@pytest.mark.django_db
def test_closing_the_request_ends_its_permit_everywhere(
    permit, consented, client, django_capture_on_commit_callbacks
):
    from permits.tasks import permits_close_task
    from requests_app.services import request_close

    with django_capture_on_commit_callbacks(execute=True):
        request_close(
            actor=consented["requester"],
            request_id=permit.request_id,
            reason="The study is finished.",
        )

    permit.refresh_from_db()
    assert (permit.status, permit.status_reason) == ("closed", "the request was closed")
    assert [(e["jti"], e["reason"]) for e in listed(client)] == [(str(permit.jti), "closed")]
    assert AuditEvent.objects.filter(action="permit.close").count() == 1
    assert not AccessBar.objects.exists()  # closing is not a sanction
    assert permits_close_task(permit.request_id) == 0  # safe to run twice
