"""Amendment and renewal (EHDS Art. 68): a form of what changes and why, reviewed by the same
boards and owners, producing the next permit version that supersedes the old one on the signed
revocation list, as the node verifies it."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from django.utils import timezone

from audit.models import AuditEvent
from catalogue.models import Algorithm
from lifes.errors import InvalidInput, InvalidTransition, NotAllowed
from lifes_node.errors import VerificationError
from lifes_node.verify import verify_permit
from permits.models import Permit, PermitStatus
from permits.services import permit_issue
from requests_app import services as request_services
from requests_app.models import Amendment, RequestState

from .conftest import NODE_ID, approve, hub_jwks, revocations


def renew(permit, people, *, months: int = 6, **extra):
    request = permit.request
    new_end = request.period_end + dt.timedelta(days=30 * months)
    return request_services.request_amend(
        actor=people["requester"],
        request_id=request.pk,
        kind="renewal",
        changes="Six more months for the follow-up analysis.",
        reason="Recruitment took longer than planned.",
        new_period_end=new_end,
        **extra,
    )


def reviewed(request, people):
    """The same boards and owners review the amendment's round; the permit follows."""
    request = approve(people, existing=request)
    assert request.state == RequestState.APPROVED
    return permit_issue(actor=None, request_id=request.pk)


@pytest.mark.django_db
def test_a_renewal_issues_v2_that_supersedes_v1_and_the_node_refuses_v1(
    permit, consented, client, settings
):
    v1 = permit
    jwks = hub_jwks(client)
    assert verify_permit(v1.token, jwks=jwks, issuer=settings.HUB_URL, node_id=NODE_ID)

    # when the holder asks for a renewal with the form, and the boards and owners approve it
    request = renew(v1, consented)
    assert request.state == RequestState.SUBMITTED  # not "changes requested": a new round
    assert request.round == 2
    v2 = reviewed(request, consented)

    # then v2 is the next version of v1's number and supersedes it
    assert v2.number == f"{v1.number}-v2"
    assert v2.supersedes == v1
    v1.refresh_from_db()
    assert v1.status == PermitStatus.SUPERSEDED
    listed = revocations(client)
    entries = jwt.decode(listed, options={"verify_signature": False})["revoked"]
    assert [(e["jti"], e["reason"]) for e in entries] == [(str(v1.jti), "superseded")]
    # and the node, with the hub's keys and signed list, refuses v1 and accepts v2
    jwks = hub_jwks(client)
    with pytest.raises(VerificationError) as refused:
        verify_permit(
            v1.token, jwks=jwks, issuer=settings.HUB_URL, node_id=NODE_ID, revocations=listed
        )
    assert refused.value.reason == "revoked"
    claims = verify_permit(
        v2.token, jwks=jwks, issuer=settings.HUB_URL, node_id=NODE_ID, revocations=listed
    )
    assert claims["permit"]["number"] == f"{v1.number}-v2"
    assert claims["permit"]["supersedes"] == v1.number
    assert claims["exp"] > int(v1.valid_until.timestamp())  # the period is longer
    amendment = Amendment.objects.get(request=request)
    assert (amendment.outcome, amendment.new_permit_number) == ("granted", v2.number)
    event = AuditEvent.objects.get(action="request.amend")
    assert event.payload["kind"] == "renewal"
    assert event.payload["permit"] == v1.number


@pytest.mark.django_db
def test_only_one_renewal(permit, consented, settings):
    v2 = reviewed(renew(permit, consented), consented)
    request = v2.request
    events = AuditEvent.objects.count()

    with pytest.raises(InvalidTransition) as refused:
        renew(v2, consented, months=12)

    assert refused.value.code == "renewal_limit"
    request.refresh_from_db()
    assert request.state == RequestState.PERMITTED
    assert Amendment.objects.filter(request=request).count() == 1
    assert AuditEvent.objects.count() == events
    # a setting allows more
    settings.EHDS_MAX_RENEWALS = 2
    assert renew(v2, consented, months=12).state == RequestState.SUBMITTED


@pytest.mark.django_db
def test_an_amendment_adds_people_and_algorithms_and_issues_the_next_version(permit, consented):
    extra = Algorithm.objects.create(
        name="count-by-sex", version="1.0.0", digest="sha256:" + "a" * 64
    )
    request = request_services.request_amend(
        actor=consented["requester"],
        request_id=permit.request.pk,
        kind="amendment",
        changes="A statistician joins; a counting algorithm is added.",
        reason="The analysis plan needs counts by sex.",
        team=["statistician@leiden.example"],
        algorithms=[extra],
    )
    v2 = reviewed(request, consented)

    assert v2.number == f"{permit.number}-v2"
    assert {a.name for a in v2.permit_algorithms.all()} == {"mean-bmi-by-sex", "count-by-sex"}
    assert request.team.filter(email="statistician@leiden.example").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"kind": "renewal", "new_period_end": None}, "period_not_extended"),
        ({"kind": "amendment"}, "nothing_changes"),
        ({"kind": "amendment", "new_period_end": dt.date(2099, 1, 1)}, "extension_is_renewal"),
        ({"kind": "renewal", "reason": "  "}, "reason_required"),
    ],
)
def test_amendment_refusals_have_stable_codes(permit, consented, fields, code):
    events = AuditEvent.objects.count()
    arguments = {
        "changes": "Something.",
        "reason": "Because.",
        "new_period_end": None,
        **fields,
    }

    with pytest.raises(InvalidInput) as refused:
        request_services.request_amend(
            actor=consented["requester"], request_id=permit.request.pk, **arguments
        )

    assert refused.value.code == code
    permit.request.refresh_from_db()
    assert permit.request.state == RequestState.PERMITTED
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_only_the_requester_amends(permit, consented):
    with pytest.raises(NotAllowed):
        request_services.request_amend(
            actor=consented["chair"],
            request_id=permit.request.pk,
            kind="renewal",
            changes="x",
            reason="y",
            new_period_end=dt.date(2099, 1, 1),
        )


@pytest.mark.django_db
def test_a_refused_amendment_leaves_the_permit_as_it_was(permit, consented):
    request = renew(permit, consented)

    request = approve(consented, existing=request, refuse=frozenset({permit.datasets.get().slug}))

    assert request.state == RequestState.PERMITTED
    permit.refresh_from_db()
    assert permit.status == PermitStatus.ACTIVE
    assert Permit.objects.filter(request=request).count() == 1
    assert Amendment.objects.get(request=request).outcome == "refused"
    # the refused renewal did not use up the renewal
    assert renew(permit, consented).state == RequestState.SUBMITTED


@pytest.mark.django_db
def test_a_withdrawn_amendment_returns_to_the_permit(permit, consented):
    request = renew(permit, consented)

    request_services.request_withdraw(actor=consented["requester"], request_id=request.pk)

    request.refresh_from_db()
    assert request.state == RequestState.PERMITTED
    assert request.period_end == timezone.localdate() + dt.timedelta(days=365)  # as permitted
    permit.refresh_from_db()
    assert permit.status == PermitStatus.ACTIVE
    assert Amendment.objects.get(request=request).outcome == "withdrawn"


@pytest.mark.django_db
def test_the_amend_command_through_the_api(permit, consented, client):
    client.force_login(consented["requester"])
    url = f"/api/v1/requests/{permit.request.reference}/amend"

    unknown = client.post(
        url,
        {"kind": "amendment", "changes": "x", "reason": "y", "algorithms": ["nope"]},
        content_type="application/json",
    )
    done = client.post(
        url,
        {
            "kind": "renewal",
            "changes": "Six more months.",
            "reason": "Slow recruitment.",
            "new_period_end": "2099-12-31",
        },
        content_type="application/json",
    )

    assert unknown.status_code == 400
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["state"] == "submitted"
    assert body["amendments"][0]["kind"] == "renewal"
    assert body["amendments"][0]["permit"] == permit.number
    assert body["renewals_left"] == 0
