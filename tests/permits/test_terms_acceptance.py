"""EHDS Art. 68: a granted permit waits, unsigned, until every named team member has accepted the
current data-use terms of its datasets personally; it lapses when nobody does in time."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import timezone

from accounts.services import user_create
from audit.models import AuditEvent
from catalogue.models import Dataset, Node
from catalogue.services import dataset_terms_publish
from demo.permits_world import approve_request
from lifes.errors import DomainError
from permits import services as permit_services
from permits.models import Permit, PermitStatus
from permits.selectors import node_permits
from permits.services.revocations import revocation_entries
from requests_app import services
from requests_app.models import TermsAcceptance
from requests_app.selectors import terms_status
from tests.requests.conftest import fill_draft

from .conftest import DATASET

TEAMMATE = "teammate@demo.lifes.test"


@pytest.fixture
def granted(consented, settings):
    """An approved request for the diabetes cohort, whose terms v1 are published, with one team
    member who has an account; nobody has accepted anything yet."""
    diabetes = Dataset.objects.get(slug=DATASET)
    dataset_terms_publish(
        actor=consented["owner"], dataset=diabetes, title="LUMC DUA", text="TERMS-V1 text"
    )
    teammate = user_create(
        actor=None, email=TEAMMATE, full_name="Tim Teammate", password="a-long-test-password"
    )
    request = fill_draft(consented["requester"], [DATASET])
    services.team_member_invite(
        actor=consented["requester"], request_id=request.pk, email=TEAMMATE, role="Statistician"
    )
    approve_request(request, accept_terms=False)
    request.refresh_from_db()
    return {**consented, "request": request, "teammate": teammate, "diabetes": diabetes}


def _issue(granted) -> Permit:
    return permit_services.permit_issue(actor=None, request_id=granted["request"].pk)


def _state(permit: Permit) -> tuple[str, bool]:
    permit.refresh_from_db()
    return permit.status, bool(permit.token)


@pytest.mark.django_db
def test_a_permit_waits_unsigned_until_every_team_member_accepted_the_current_terms(
    granted, settings
):
    requester, teammate = granted["requester"], granted["teammate"]
    request = granted["request"]

    permit = _issue(granted)

    # granted, but unsigned: no node can hold or list it, and it needs no revocation entry
    assert _state(permit) == (PermitStatus.AWAITING_ACCEPTANCE, False)
    assert permit.acceptance_due_at == permit.issued_at + dt.timedelta(
        days=settings.PERMIT_ACCEPTANCE_DAYS
    )
    node = Node.objects.get(identifier="lumc-station-1")
    assert permit not in node_permits(node)
    assert str(permit.jti) not in {e["jti"] for e in revocation_entries(timezone.now())}
    with pytest.raises(CommandError):
        call_command("permit_token", permit.number)

    # the requester alone is not the whole team
    services.terms_accept(actor=requester, request_id=request.pk)
    assert permit_services.permit_activate_if_accepted(request_id=request.pk) is None
    assert _state(permit) == (PermitStatus.AWAITING_ACCEPTANCE, False)
    assert terms_status(request).pending == [TEAMMATE]

    # a new version of the terms asks everybody again; the old acceptance stays as it was
    v2 = dataset_terms_publish(
        actor=granted["owner"], dataset=granted["diabetes"], title="LUMC DUA", text="TERMS-V2"
    )
    services.terms_accept(actor=teammate, request_id=request.pk)
    assert terms_status(request).pending == [requester.email]
    assert permit_services.permit_activate_if_accepted(request_id=request.pk) is None
    assert _state(permit) == (PermitStatus.AWAITING_ACCEPTANCE, False)
    assert list(
        TermsAcceptance.objects.filter(member__email=requester.email).values_list(
            "terms__version", flat=True
        )
    ) == [1]

    # the last acceptance activates it (its outbox effect, after commit) and signs it
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.terms_accept(actor=requester, request_id=request.pk)

    assert _state(permit) == (PermitStatus.ACTIVE, True)
    assert permit in node_permits(node)
    claims = jwt.decode(permit.token, options={"verify_signature": False})
    assert claims["permit"]["terms"] == [
        {
            "dataset": DATASET,
            "version": v2.version,
            "title": "LUMC DUA",
            "sha256": permit.terms[0]["sha256"],
        }
    ]
    assert sorted(
        TermsAcceptance.objects.filter(member__request=request).values_list(
            "member__email", "terms__version"
        )
    ) == [(requester.email, 1), (requester.email, 2), (TEAMMATE, 2)]
    assert (
        AuditEvent.objects.filter(action="permit.activate", object_id=str(permit.pk)).count() == 1
    )


@pytest.mark.django_db
def test_a_team_that_accepted_before_the_grant_gets_an_active_permit_at_once(granted):
    for person in (granted["requester"], granted["teammate"]):
        services.terms_accept(actor=person, request_id=granted["request"].pk)

    permit = _issue(granted)

    assert _state(permit) == (PermitStatus.ACTIVE, True)
    assert [t["version"] for t in permit.terms] == [1]


@pytest.mark.django_db
def test_nobody_accepts_for_someone_else_and_a_refusal_writes_nothing(granted, api_client):
    request, stranger = granted["request"], granted["member3"]
    permit = _issue(granted)
    before = (TermsAcceptance.objects.count(), AuditEvent.objects.count())

    # someone who is not on the team cannot accept (for anybody)
    with pytest.raises(DomainError):
        services.terms_accept(actor=stranger, request_id=request.pk)
    api_client.force_authenticate(stranger)
    answer = api_client.post(f"/api/v1/requests/{request.reference}/accept-terms", {})
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert (TermsAcceptance.objects.count(), AuditEvent.objects.count()) == before

    # the requester's acceptance is their own: the team member still has to accept
    services.terms_accept(actor=granted["requester"], request_id=request.pk)
    assert terms_status(request).pending == [TEAMMATE]
    assert not TermsAcceptance.objects.filter(member__email=TEAMMATE).exists()
    assert _state(permit) == (PermitStatus.AWAITING_ACCEPTANCE, False)


@pytest.mark.django_db
def test_an_unaccepted_permit_lapses_after_the_window_and_never_becomes_valid(
    granted, monkeypatch, settings
):
    request = granted["request"]
    permit = _issue(granted)
    services.terms_accept(actor=granted["requester"], request_id=request.pk)
    issued = permit.issued_at

    # a day before the end of the window: still waiting
    frozen = issued + dt.timedelta(days=settings.PERMIT_ACCEPTANCE_DAYS) - dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    assert permit_services.permits_acceptance_sweep() == {"activated": [], "lapsed": []}
    assert _state(permit) == (PermitStatus.AWAITING_ACCEPTANCE, False)

    # at its end: it lapses, once (the sweep is idempotent)
    frozen = issued + dt.timedelta(days=settings.PERMIT_ACCEPTANCE_DAYS)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    assert permit_services.permits_acceptance_sweep() == {
        "activated": [],
        "lapsed": [permit.number],
    }
    assert permit_services.permits_acceptance_sweep() == {"activated": [], "lapsed": []}
    assert _state(permit) == (PermitStatus.LAPSED, False)
    assert AuditEvent.objects.filter(action="permit.lapse", object_id=str(permit.pk)).count() == 1

    # a late acceptance does not bring it back
    services.terms_accept(actor=granted["teammate"], request_id=request.pk)
    assert permit_services.permit_activate_if_accepted(request_id=request.pk) is None
    assert _state(permit) == (PermitStatus.LAPSED, False)
    node = Node.objects.get(identifier="lumc-station-1")
    assert not node_permits(node).exists()


@pytest.mark.django_db
def test_the_permit_page_shows_the_terms_in_full_and_who_still_has_to_accept(granted, client):
    permit = _issue(granted)
    client.force_login(granted["requester"])

    page = client.get(f"/permits/{permit.number}/").content.decode()

    assert "TERMS-V1 text" in page
    assert TEAMMATE in page
    assert "Signed token" not in page
    request_page = client.get(granted["request"].get_absolute_url()).content.decode()
    assert "TERMS-V1 text" in request_page


@pytest.mark.django_db
def test_the_demo_shows_a_permit_awaiting_acceptance_and_every_dataset_has_terms(
    monkeypatch, tmp_path
):
    from demo import permits_world
    from demo.world import seed_demo

    monkeypatch.setattr(permits_world, "NODE_KEY_PATH", tmp_path / "node.key")
    seed_demo()

    waiting = Permit.objects.get(status=PermitStatus.AWAITING_ACCEPTANCE)
    assert not waiting.token
    assert "j.devries@lumc.example" in terms_status(waiting.request).pending
    for dataset in Dataset.objects.all():
        assert dataset.variables.exists(), dataset.slug
        assert dataset.terms_versions.exists(), dataset.slug
