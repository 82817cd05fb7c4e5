"""An invited team member without an account creates one from the single-use, expiring link in
the invitation email, then accepts the terms personally; the permit becomes active only then."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import TestCase
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from catalogue.models import Dataset
from catalogue.services import dataset_terms_publish
from demo.permits_world import approve_request
from outbox.models import OutboxMessage
from permits.models import Permit, PermitStatus
from permits.services import permit_issue
from requests_app import services
from requests_app.models import TeamInvitation, TermsAcceptance
from tests.requests.conftest import fill_draft

INVITEE = "newcomer@uni.example"
PASSWORD = "a-long-and-fresh-password-2026"


def _links() -> list[str]:
    """The invitation links in the emails waiting in the outbox, newest last."""
    links = []
    for message in OutboxMessage.objects.filter(effect="mail.send").order_by("pk"):
        if INVITEE in message.payload.get("recipients", []):
            links += re.findall(r"https?://\S+/requests/invitations/\S+/", message.payload["body"])
    return links


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.fixture
def awaiting(review):
    """A permit granted for a request whose team has one invited person without an account;
    the requester has accepted, the invitee has not."""
    diabetes = Dataset.objects.get(slug="leiden-diabetes-cohort")
    dataset_terms_publish(actor=None, dataset=diabetes, title="LUMC DUA", text="TERMS-IN-FULL")
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    services.team_member_invite(
        actor=review["requester"], request_id=request.pk, email=INVITEE, role="Analyst"
    )
    approve_request(request)  # the requester accepts first
    permit = permit_issue(actor=None, request_id=request.pk)
    return {**review, "request": request, "permit": permit}


@pytest.mark.django_db
def test_an_invited_person_creates_an_account_from_the_link_and_accepts(awaiting, client):
    permit, request = awaiting["permit"], awaiting["request"]
    assert permit.status == PermitStatus.AWAITING_ACCEPTANCE
    # the invitation at invite time and a fresh one when the permit started to wait
    links = _links()
    assert len(links) == 2

    page = client.get(_path(links[-1]))
    assert page.status_code == 200
    assert INVITEE in page.content.decode()

    answer = client.post(_path(links[-1]), {"full_name": "Nina Newcomer", "password": PASSWORD})

    assert answer.status_code == 302
    assert answer["Location"] == request.get_absolute_url()
    user = User.objects.get(email=INVITEE)
    assert user.check_password(PASSWORD)
    request_page = client.get(request.get_absolute_url()).content.decode()
    assert "TERMS-IN-FULL" in request_page
    assert "accept_terms" in request_page
    # a used link is refused, and writes nothing
    again = client.post(_path(links[-1]), {"full_name": "X", "password": PASSWORD})
    assert again.status_code == 410
    assert User.objects.filter(email=INVITEE).count() == 1

    with TestCase.captureOnCommitCallbacks(execute=True):
        accepted = client.post(f"/requests/{request.reference}/act/accept_terms/")
    assert accepted.status_code == 302

    permit.refresh_from_db()
    assert permit.status == PermitStatus.ACTIVE
    assert permit.token
    assert TermsAcceptance.objects.filter(member__email=INVITEE, user=user).count() == 1


@pytest.mark.django_db
def test_an_expired_invitation_is_refused_and_writes_nothing(
    awaiting, client, monkeypatch, settings
):
    link = _links()[-1]
    later = timezone.now() + dt.timedelta(days=settings.TEAM_INVITATION_DAYS, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    before = (
        User.objects.count(),
        AuditEvent.objects.count(),
        TeamInvitation.objects.filter(used_at__isnull=False).count(),
    )

    page = client.get(_path(link))
    answer = client.post(_path(link), {"full_name": "Nina Newcomer", "password": PASSWORD})

    assert page.status_code == answer.status_code == 410
    assert "expired" in answer.content.decode()
    assert (
        User.objects.count(),
        AuditEvent.objects.count(),
        TeamInvitation.objects.filter(used_at__isnull=False).count(),
    ) == before
    assert Permit.objects.get(pk=awaiting["permit"].pk).status == PermitStatus.AWAITING_ACCEPTANCE


@pytest.mark.django_db
def test_someone_signed_in_cannot_use_another_persons_invitation(awaiting, client):
    link = _links()[-1]
    client.force_login(awaiting["member3"])
    before = (User.objects.count(), AuditEvent.objects.count())

    answer = client.post(_path(link), {"full_name": "Not Me", "password": PASSWORD})

    assert answer.status_code == 409
    assert (User.objects.count(), AuditEvent.objects.count()) == before
    assert not TermsAcceptance.objects.filter(member__email=INVITEE).exists()
    assert not TeamInvitation.objects.filter(used_at__isnull=False).exists()


@pytest.mark.django_db
def test_an_unknown_link_is_refused(review, client):
    assert client.get("/requests/invitations/not-a-real-token/").status_code == 410
