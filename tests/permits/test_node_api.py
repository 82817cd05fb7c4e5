"""The node API: permits, cohorts (ETag), key registration and receipts; refusals name why."""

from __future__ import annotations

import json
import uuid

import jwt
import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create, user_create
from audit.models import AuditEvent
from catalogue.models import Dataset, Node
from catalogue.services import node_create
from consent.cohort import digest_of
from consent.services import consent_withdraw
from lifes_node.keys import generate_private_key, public_jwk, write_private_key
from lifes_node.receipt import NodeSigner, receipt_claims
from permits.models import ExecutionReceipt
from permits.services import permit_suspend

from .conftest import DATASET, DEMO_NODE_TOKEN, NODE_ID, cohort_version, expected_cohort


@pytest.fixture
def node_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_NODE_TOKEN}")
    return client


@pytest.fixture
def other_node(world):
    identity = user_create(actor=None, email="erasmus-1@nodes.lifes.test", is_machine=True)
    node = node_create(
        actor=None,
        identifier="erasmus-station-1",
        name="Erasmus MC Station",
        organisation=world["owner"].memberships.get().organisation,
        identity=identity,
    )
    issued = api_token_create(actor=None, user=identity, name="node credential")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    return node, client


def cohort_url(permit, dataset: str = DATASET) -> str:
    return f"/api/v1/node/permits/{permit.number}/cohorts/{dataset}"


# --- who may call ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_people_and_strangers_are_refused_with_json(permit, token_client, consented, client):
    person = token_client(consented["owner"])

    refused = person.get("/api/v1/node/permits")
    anonymous = client.get(cohort_url(permit))

    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "Only a node's own credential may use the node API.",
        "code": "not_a_node",
    }
    assert anonymous.status_code in (401, 403)
    assert anonymous["Content-Type"] == "application/json"


# --- permits and cohorts -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_node_lists_the_permits_addressed_to_it(permit, node_client, other_node):
    mine = node_client.get("/api/v1/node/permits").json()
    theirs = other_node[1].get("/api/v1/node/permits").json()

    assert mine["count"] == 1
    assert mine["results"][0]["number"] == permit.number
    assert mine["results"][0]["token"] == permit.token
    assert mine["results"][0]["datasets"] == [{"id": DATASET, "cohort_version": cohort_version()}]
    assert theirs["count"] == 0


@pytest.mark.django_db
def test_the_cohort_comes_with_an_etag_and_a_304_when_unchanged(permit, node_client, consented):
    ids, version = expected_cohort(), cohort_version()

    response = node_client.get(cohort_url(permit))

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "permit": permit.number,
        "dataset": DATASET,
        "version": version,
        "digest": digest_of(ids),
        "count": len(ids),
        "participants": ids,
    }
    assert response["ETag"] == f'"{body["digest"]}.v{version}"'
    unchanged = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=response["ETag"])
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    consent_withdraw(
        actor=consented["owner"], dataset=Dataset.objects.get(slug=DATASET), pseudonym=ids[0]
    )
    changed = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=response["ETag"])

    assert changed.status_code == 200
    assert changed.json()["participants"] == ids[1:]
    assert changed.json()["count"] == len(ids) - 1
    assert changed.json()["version"] == version + 1


@pytest.mark.django_db
def test_cohort_refusals_say_why(permit, node_client, other_node, consented):
    cases = {
        "unknown permit": (
            node_client,
            f"/api/v1/node/permits/LIFES-P-2026-999999/cohorts/{DATASET}",
            "not_found",
        ),
        "not this node's permit": (other_node[1], cohort_url(permit), "not_found"),
        "dataset not in the permit": (
            node_client,
            cohort_url(permit, "lumc-cardiovascular-biobank"),
            "dataset_not_in_permit",
        ),
    }
    for label, (caller, url, code) in cases.items():
        response = caller.get(url)
        assert (label, response.status_code, response.json()["code"]) == (label, 404, code)

    permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")
    suspended = node_client.get(cohort_url(permit))
    assert (suspended.status_code, suspended.json()["code"]) == (404, "permit_not_active")


# --- the node's key ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_node_registers_its_key_once(permit, node_client):
    key = public_jwk(generate_private_key())
    node = Node.objects.get(identifier=NODE_ID)

    first = node_client.post("/api/v1/node/keys", {"jwk": key}, format="json")
    events = AuditEvent.objects.count()
    again = node_client.post("/api/v1/node/keys", {"jwk": key}, format="json")
    other = node_client.post(
        "/api/v1/node/keys", {"jwk": public_jwk(generate_private_key())}, format="json"
    )

    assert first.status_code == 200
    assert first.json() == {"node": NODE_ID, "jwk": key}
    node.refresh_from_db()
    assert node.public_key_jwk == key
    assert again.status_code == 200
    assert AuditEvent.objects.count() == events
    assert (other.status_code, other.json()["code"]) == (409, "node_key_already_set")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("jwk", "code", "field"),
    [
        (
            {"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "d": "B" * 43},
            "private_key_sent",
            "jwk.d",
        ),
        ({"kty": "EC", "crv": "P-256", "x": "A" * 43}, "invalid", "jwk"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "not base64!"}, "invalid", "jwk.x"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "kid": "chosen"}, "invalid", "jwk.kid"),
    ],
)
def test_bad_keys_are_refused_naming_the_field(world, node_client, jwk, code, field):
    response = node_client.post("/api/v1/node/keys", {"jwk": jwk}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert field in response.json()["errors"]
    assert Node.objects.get(identifier=NODE_ID).public_key_jwk == {}


# --- receipts ----------------------------------------------------------------------------------


def receipt_body(for_permit, **overrides) -> dict:
    ids = expected_cohort()
    return {
        "permit": for_permit.number,
        "permit_jti": str(for_permit.jti),
        "dataset": DATASET,
        "algorithm_digest": for_permit.permit_algorithms.get().digest,
        "started_at": "2026-11-24T10:00:00Z",
        "ended_at": "2026-11-24T10:00:03Z",
        "cohort_version": cohort_version(),
        "cohort_digest": digest_of(ids),
        "cohort_size": len(ids),
        "output_digest": "sha256:" + "ab" * 32,
        "disclosure": {"passed": True, "reason": None, "details": []},
        "status": "succeeded",
        "reason": None,
        **overrides,
    }


def signed_receipt(
    node_key, for_permit, *, node_id: str = NODE_ID, hub_url: str | None = None, **overrides
) -> tuple[str, str]:
    from django.conf import settings

    claims = receipt_claims(
        node_id=node_id,
        hub_url=hub_url or settings.HUB_URL,
        receipt=receipt_body(for_permit, **overrides),
    )
    return NodeSigner.from_file(node_key).sign(claims), claims["jti"]


@pytest.mark.django_db
def test_a_signed_receipt_is_stored_audited_and_a_replay_is_409(permit, node_key, node_client):
    token, jti = signed_receipt(node_key, permit)

    stored = node_client.post("/api/v1/node/receipts", {"receipt": token}, format="json")
    replayed = node_client.post("/api/v1/node/receipts", {"receipt": token}, format="json")

    assert stored.status_code == 201
    receipt = ExecutionReceipt.objects.get()
    assert (receipt.permit, receipt.node.identifier, receipt.dataset.slug, receipt.jti) == (
        permit,
        NODE_ID,
        DATASET,
        jti,
    )
    ids = expected_cohort()
    assert (receipt.status, receipt.cohort_size, receipt.cohort_version) == (
        "succeeded",
        len(ids),
        cohort_version(),
    )
    assert receipt.cohort_digest == digest_of(ids)
    assert receipt.is_disclosure_passed
    assert receipt.started_at.isoformat() == "2026-11-24T10:00:00+00:00"
    event = AuditEvent.objects.get(action="receipt.record")
    assert (event.actor_type, event.payload["jti"], event.payload["cohort_size"]) == (
        "node",
        jti,
        len(ids),
    )
    assert (replayed.status_code, replayed.json()["code"]) == (409, "receipt_duplicate")
    assert ExecutionReceipt.objects.count() == 1


@pytest.mark.django_db
def test_receipts_that_do_not_verify_are_refused(permit, node_key, node_client, tmp_path):
    stranger_key = tmp_path / "stranger.key"
    write_private_key(generate_private_key(), stranger_key)
    payload = signed_receipt(node_key, permit)[0].split(".")[1]
    none_header = jwt.utils.base64url_encode(
        json.dumps({"alg": "none", "typ": "lifes-receipt+jwt"}).encode()
    ).decode()
    cases = {
        "another key": (signed_receipt(stranger_key, permit)[0], 400, "receipt_unknown_key"),
        "another issuer": (
            signed_receipt(node_key, permit, node_id="erasmus-station-1")[0],
            400,
            "receipt_bad_issuer",
        ),
        "another hub": (
            signed_receipt(node_key, permit, hub_url="https://evil.example")[0],
            400,
            "receipt_wrong_audience",
        ),
        "alg none": (f"{none_header}.{payload}.", 400, "receipt_bad_algorithm"),
        "not a JWS": ("hello", 400, "receipt_malformed"),
        "unknown permit": (
            signed_receipt(node_key, permit, permit="LIFES-P-2026-999999")[0],
            404,
            "permit_not_found",
        ),
        "bad fields": (
            signed_receipt(node_key, permit, status="done", cohort_size=-1)[0],
            400,
            "invalid_receipt",
        ),
        "another permit id": (
            signed_receipt(node_key, permit, permit_jti=str(uuid.uuid4()))[0],
            400,
            "permit_mismatch",
        ),
    }
    for label, (token, status, code) in cases.items():
        response = node_client.post("/api/v1/node/receipts", {"receipt": token}, format="json")
        assert (label, response.status_code, response.json()["code"]) == (label, status, code)
    bad_fields = node_client.post(
        "/api/v1/node/receipts", {"receipt": cases["bad fields"][0]}, format="json"
    ).json()
    assert set(bad_fields["errors"]) == {"receipt.status", "receipt.cohort_size"}
    assert ExecutionReceipt.objects.count() == 0
    assert not AuditEvent.objects.filter(action="receipt.record").exists()


@pytest.mark.django_db
def test_a_receipt_about_a_permit_for_another_node_is_refused(permit, node_key, other_node):
    node, client = other_node
    key_path = node_key.parent / "other.key"
    key = generate_private_key()
    write_private_key(key, key_path)
    client.post("/api/v1/node/keys", {"jwk": public_jwk(key)}, format="json")
    token, _ = signed_receipt(key_path, permit, node_id=node.identifier)

    response = client.post("/api/v1/node/receipts", {"receipt": token}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "permit_not_addressed")


@pytest.mark.django_db
def test_a_node_without_a_key_is_told_to_register_one(permit, node_client):
    response = node_client.post("/api/v1/node/receipts", {"receipt": "a.b.c"}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "node_key_missing")


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"receipt": 5}', b"{}"])
def test_malformed_bodies_are_400_json(permit, node_key, node_client, body):
    response = node_client.post("/api/v1/node/receipts", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in ("parse_error", "invalid", "receipt_malformed")
    assert json.loads(response.content)["detail"]
