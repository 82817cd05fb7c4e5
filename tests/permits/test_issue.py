"""Issuing permits: what the token says, who may issue, supersession, the signal, key rotation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from types import SimpleNamespace

import jwt
import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from audit.models import AuditEvent
from catalogue.models import Algorithm, Dataset
from consent.cohort import digest_of
from lifes.errors import InvalidTransition, NotAllowed
from lifes_node.errors import VerificationError
from lifes_node.verify import verify_permit
from permits import keys
from permits.models import Permit, PermitStatus
from permits.services import permit_issue
from permits.services.issue import add_months, validity
from permits.tasks import issue_permit_task
from requests_app import services as request_services
from requests_app.models import AccessRequest, RequestState

from .conftest import DATASET, NODE_ID, approve, cohort_version, expected_cohort, hub_jwks


def decode(token: str) -> tuple[dict, dict]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


@pytest.mark.django_db
def test_an_approved_request_gets_a_permit_signed_as_the_contract_says(approved, settings):
    algorithm = Algorithm.objects.get(name="mean-bmi-by-sex")
    dataset = Dataset.objects.get(slug=DATASET)
    cohort, version = expected_cohort(), cohort_version()

    permit = permit_issue(actor=None, request_id=approved.pk)

    approved.refresh_from_db()
    assert approved.state == RequestState.PERMITTED
    header, claims = decode(permit.token)
    assert header == {"alg": "EdDSA", "kid": keys.active_key().kid, "typ": "lifes-permit+jwt"}
    today = timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=366), dt.time.min))
    assert permit.number == f"LIFES-P-{permit.issued_at.year}-{permit.pk:06d}"
    assert claims == {
        "iss": settings.HUB_URL,
        "sub": f"user:{approved.requester_id}",
        "aud": [NODE_ID],
        "jti": str(permit.jti),
        "iat": int(permit.issued_at.timestamp()),
        "nbf": int(max(start, permit.issued_at).timestamp()),
        "exp": int(end.timestamp()),
        "permit": {
            "number": permit.number,
            "request": approved.reference,
            "holder": {"organisation": "Leiden University", "ror": "027bh9e22"},
            "purpose": {
                "codes": ["DUO:0000007"],
                "diseases": ["MONDO:0005148"],
                "commercial": False,
            },
            "datasets": [{"id": DATASET, "node": NODE_ID, "cohort_version": version}],
            "algorithms": [
                {"name": "mean-bmi-by-sex", "version": "1.0.0", "digest": algorithm.digest}
            ],
            "outputs": {"aggregate_only": True, "min_cell_count": 10},
            "conditions": {
                "duties": ["DUO:0000019", "DUO:0000021"],
                "datasets": [
                    {
                        "id": DATASET,
                        "duties": ["DUO:0000019", "DUO:0000021"],
                        "values": {},
                        "owner": "Acknowledge the LUMC in publications.",
                    }
                ],
            },
            "supersedes": None,
        },
    }
    entry = permit.permit_datasets.get()
    assert (entry.dataset, entry.node_identifier, entry.cohort_version, entry.cohort_count) == (
        dataset,
        NODE_ID,
        version,
        len(cohort),
    )
    assert entry.cohort_digest == digest_of(cohort)
    assert permit.token_sha256 == hashlib.sha256(permit.token.encode()).hexdigest()
    assert permit.kid == header["kid"]
    assert permit.principal_investigator == "Rana Requester"
    actions = list(
        AuditEvent.objects.filter(
            object_id=str(approved.pk), object_type="requests_app.accessrequest"
        )
        .values_list("action", flat=True)
        .order_by("-seq")[:1]
    )
    assert actions == ["request.issue_permit"]
    event = AuditEvent.objects.get(action="permit.issue")
    assert event.payload["number"] == permit.number
    assert event.payload["token_sha256"] == permit.token_sha256


@pytest.mark.django_db
def test_the_signing_key_stays_published_until_the_permit_expires(permit):
    from permits.models import SigningKey

    assert SigningKey.objects.get(kid=permit.kid).not_after >= permit.valid_until


@pytest.mark.django_db
def test_only_granted_datasets_go_into_the_permit(consented):
    request = approve(
        consented,
        datasets=[DATASET, "lumc-cardiovascular-biobank"],
        refuse=frozenset({"lumc-cardiovascular-biobank"}),
    )
    assert request.state == RequestState.APPROVED

    permit = permit_issue(actor=None, request_id=request.pk)

    assert [e.dataset.slug for e in permit.permit_datasets.all()] == [DATASET]
    assert decode(permit.token)[1]["permit"]["datasets"] == [
        {"id": DATASET, "node": NODE_ID, "cohort_version": cohort_version()}
    ]


@pytest.mark.django_db
def test_the_data_owner_may_issue_but_the_requester_may_not(approved, consented):
    before = AuditEvent.objects.count()

    with pytest.raises(NotAllowed):
        permit_issue(actor=consented["requester"], request_id=approved.pk)

    approved.refresh_from_db()
    assert approved.state == RequestState.APPROVED
    assert Permit.objects.count() == 0
    assert AuditEvent.objects.count() == before
    permit = permit_issue(actor=consented["owner"], request_id=approved.pk)
    assert permit.issued_by == consented["owner"]


@pytest.mark.django_db
def test_issuing_twice_is_refused_and_the_task_is_safe_to_run_twice(approved):
    first = issue_permit_task(approved.pk)
    second = issue_permit_task(approved.pk)

    assert first == Permit.objects.get(request=approved).number
    assert second is None
    with pytest.raises(InvalidTransition) as refused:
        permit_issue(actor=None, request_id=approved.pk)
    assert refused.value.code == "invalid_state"


@pytest.mark.django_db
def test_the_database_refuses_a_second_live_permit_for_a_request(permit):
    with pytest.raises(IntegrityError), transaction.atomic():
        Permit.objects.create(
            number="LIFES-P-2026-999999",
            request=permit.request,
            holder=permit.holder,
            holder_organisation=permit.holder_organisation,
            min_cell_count=10,
            issued_at=permit.issued_at,
            valid_from=permit.valid_from,
            valid_until=permit.valid_until,
            status=PermitStatus.SUSPENDED,
        )


@pytest.mark.django_db(transaction=True)
def test_approval_issues_the_permit_by_itself(consented):
    # given a transactional test, the approval's on-commit signal fires as in production
    request = approve(consented)

    request.refresh_from_db()
    assert request.state == RequestState.PERMITTED
    permit = Permit.objects.get(request=request)
    assert permit.issued_by is None
    assert AuditEvent.objects.get(action="permit.issue").actor_type == "system"


@pytest.mark.django_db
def test_an_amendment_supersedes_the_permit_and_lists_the_old_one(permit, consented, client):
    request = permit.request
    request_services.request_amend(
        actor=consented["requester"],
        request_id=request.pk,
        kind="renewal",
        changes="One more year.",
        reason="The follow-up takes longer.",
        new_period_end=request.period_end + dt.timedelta(days=365),
    )
    request = approve(consented, existing=request)

    new = permit_issue(actor=None, request_id=request.pk)

    permit.refresh_from_db()
    assert permit.status == PermitStatus.SUPERSEDED
    assert new.supersedes == permit
    assert decode(new.token)[1]["permit"]["supersedes"] == permit.number
    listed = jwt.decode(
        client.get("/api/v1/permits/revocations").content, options={"verify_signature": False}
    )["revoked"]
    assert [(e["jti"], e["reason"]) for e in listed] == [(str(permit.jti), "superseded")]
    assert (
        AuditEvent.objects.filter(action="permit.supersede", object_id=str(permit.pk)).count() == 1
    )


def fake_request(**fields) -> SimpleNamespace:
    return SimpleNamespace(
        **{"period_start": None, "period_end": None, "ethics_expires_on": None, **fields}
    )


def test_validity_runs_from_the_requested_start_to_the_earliest_limit(settings):
    settings.TIME_ZONE = "UTC"
    now = dt.datetime(2026, 1, 31, 12, 0, 5, 123, tzinfo=dt.UTC)
    six_months = SimpleNamespace(slug="ts", duo_values={"DUO:0000025": 6})
    request = fake_request(
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2027, 12, 31),
        ethics_expires_on=dt.date(2028, 1, 1),
    )

    valid_from, valid_until = validity(request, [six_months], now)

    assert valid_from == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert valid_until == dt.datetime(2026, 7, 31, 12, 0, 5, tzinfo=dt.UTC)  # TS 6 months
    _, by_ethics = validity(
        fake_request(period_end=dt.date(2027, 1, 1), ethics_expires_on=dt.date(2026, 5, 3)), [], now
    )
    assert by_ethics == dt.datetime(2026, 5, 4, tzinfo=dt.UTC)  # the approval's last day counts
    _, by_period = validity(fake_request(period_end=dt.date(2026, 4, 30)), [six_months], now)
    assert by_period == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    started, default = validity(fake_request(period_start=dt.date(2025, 1, 1)), [], now)
    assert started == now.replace(microsecond=0)  # a start in the past is now
    assert default == now.replace(microsecond=0) + dt.timedelta(days=365)
    assert add_months(dt.datetime(2026, 1, 31, tzinfo=dt.UTC), 1).day == 28


def test_no_permit_when_the_ethics_approval_has_ended(settings):
    settings.TIME_ZONE = "UTC"
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    with pytest.raises(InvalidTransition) as refused:
        validity(fake_request(ethics_expires_on=dt.date(2026, 5, 1)), [], now)

    assert refused.value.code == "no_validity"
    assert "ethics approval" in refused.value.message


@pytest.mark.django_db
def test_permit_token_prints_the_compact_jws(permit, capsys):
    call_command("permit_token", permit.number)

    assert capsys.readouterr().out.strip() == permit.token


# --- verification with the published keys -----------------------------------------------------


def jwcrypto_verify(token: str, jwks: dict) -> dict:
    key_set = jwcrypto_jwk.JWKSet.from_json(json.dumps(jwks))
    header = jwt.get_unverified_header(token)
    signed = jwcrypto_jws.JWS()
    signed.deserialize(token)
    signed.verify(key_set.get_key(header["kid"]), alg="EdDSA")
    return json.loads(signed.payload)


@pytest.mark.django_db
def test_jwcrypto_verifies_a_permit_with_the_hub_jwks(permit, client):
    claims = jwcrypto_verify(permit.token, hub_jwks(client))

    assert claims["jti"] == str(permit.jti)
    assert claims["permit"]["number"] == permit.number


@pytest.mark.django_db
def test_a_permit_signed_before_a_rotation_still_verifies(permit, client, settings, consented):
    old_kid = permit.kid

    keys.rotate(actor=None)
    second = permit_issue(actor=None, request_id=approve(consented, title="Second").pk)

    jwks = hub_jwks(client)
    assert {key["kid"] for key in jwks["keys"]} == {old_kid, second.kid}
    assert second.kid != old_kid
    for token in (permit.token, second.token):
        claims = verify_permit(token, jwks=jwks, issuer=settings.HUB_URL, node_id=NODE_ID)
        assert jwcrypto_verify(token, jwks) == claims


@pytest.mark.django_db
def test_a_tampered_hub_token_fails_with_bad_signature(permit, client, settings):
    header, payload, signature = permit.token.split(".")
    claims = decode(permit.token)[1]
    claims["permit"]["outputs"]["min_cell_count"] = 1
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()

    with pytest.raises(VerificationError) as refused:
        verify_permit(
            f"{header}.{forged}.{signature}",
            jwks=hub_jwks(client),
            issuer=settings.HUB_URL,
            node_id=NODE_ID,
        )

    assert refused.value.reason == "bad_signature"


@pytest.mark.django_db
def test_the_request_model_is_untouched_by_a_refused_issue(consented):
    draft = approve(consented, submit=False)
    before = AuditEvent.objects.count()

    with pytest.raises(InvalidTransition):
        permit_issue(actor=None, request_id=draft.pk)

    assert AccessRequest.objects.get(pk=draft.pk).state == RequestState.DRAFT
    assert AuditEvent.objects.count() == before
