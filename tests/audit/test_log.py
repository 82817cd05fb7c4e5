"""The log itself: appends take their places in order, the sequencer signs one head per size,
and the public API answers tree heads and proofs exactly as CONTRACTS.md says, with clear 4xx
for bad input. (RFC vectors and the independent verifier: test_rfc9162.py.)"""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from django.core.management import call_command
from django.db import transaction
from jwt.algorithms import OKPAlgorithm

from audit.models import AuditEvent, AuditTreeHead, AuditTreeNode
from audit.services import audit_record, audit_sequence, log_verify
from audit.tasks import audit_sequence_task, audit_verify_task
from permits.keys import active_key


def append(n: int, **payload) -> list[AuditEvent]:
    made = []
    for i in range(n):
        with transaction.atomic():
            made.append(audit_record(actor=None, action="test.event", payload={"i": i, **payload}))
    return made


@pytest.fixture
def signed(db):
    """Five events (the key's creation first) under a signed head of size 5."""
    active_key()
    append(4)
    return audit_sequence()


@pytest.mark.django_db
def test_events_take_consecutive_places_with_their_leaves_stored():
    events = append(5)

    assert [event.seq for event in events] == [1, 2, 3, 4, 5]
    assert [event.leaf_index for event in events] == [0, 1, 2, 3, 4]
    assert AuditTreeNode.objects.filter(level=0).count() == 5
    # 5 leaves close 2 + 1 interior nodes: (1, 0), (1, 1), (2, 0)
    assert sorted(AuditTreeNode.objects.filter(level__gt=0).values_list("level", "index")) == [
        (1, 0),
        (1, 1),
        (2, 0),
    ]
    report = log_verify()
    assert (report.is_intact, report.count, report.head_seq) == (True, 5, 5)


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="must run inside the transaction"):
        audit_record(actor=None, action="test.event")
    assert AuditEvent.objects.count() == 0


def test_the_sequencer_signs_one_head_per_size(signed):
    assert (signed.tree_size, signed.kid) == (5, active_key().kid)
    assert audit_sequence() == signed  # nothing new: the same head
    append(2)
    assert audit_sequence_task() == {
        "tree_size": 7,
        "root_hash": AuditTreeHead.objects.get(tree_size=7).root_hash,
    }
    assert list(AuditTreeHead.objects.values_list("tree_size", flat=True)) == [7, 5]


def test_manage_audit_sequence_prints_the_head(signed, capsys):
    append(1)
    call_command("audit_sequence")
    head = AuditTreeHead.objects.get(tree_size=6)
    assert capsys.readouterr().out == f"tree head: size 6, root {head.root_hash}\n"


def test_the_tree_head_is_public_and_its_jws_verifies_with_the_jwks(signed, client):
    body = client.get("/api/v1/audit/tree-head").json()

    assert set(body) == {"tree_size", "root_hash", "timestamp", "signed"}
    assert (body["tree_size"], body["root_hash"]) == (5, signed.root_hash)
    header = jwt.get_unverified_header(body["signed"])
    assert (header["alg"], header["typ"]) == ("EdDSA", "lifes-tree-head+jwt")
    jwks = {key["kid"]: key for key in client.get("/.well-known/jwks.json").json()["keys"]}
    public = OKPAlgorithm.from_jwk(json.dumps(jwks[header["kid"]]))
    claims = jwt.decode(body["signed"], public, algorithms=["EdDSA"])
    assert {name: claims[name] for name in ("tree_size", "root_hash", "timestamp")} == {
        name: body[name] for name in ("tree_size", "root_hash", "timestamp")
    }


def test_a_tree_head_by_size_and_the_404s(signed, client):
    append(1)
    audit_sequence()

    assert client.get("/api/v1/audit/tree-head?tree_size=5").json()["root_hash"] == (
        signed.root_hash
    )
    missing = client.get("/api/v1/audit/tree-head?tree_size=3")
    assert (missing.status_code, missing.json()["code"]) == (404, "no_tree_head")
    bad = client.get("/api/v1/audit/tree-head?tree_size=zero")
    assert (bad.status_code, list(bad.json()["errors"])) == (400, ["tree_size"])


@pytest.mark.django_db
def test_no_head_before_anything_is_signed(client):
    response = client.get("/api/v1/audit/tree-head")
    assert (response.status_code, response.json()["code"]) == (404, "no_tree_head")
    dutch = client.get("/api/v1/audit/tree-head", HTTP_ACCEPT_LANGUAGE="nl")
    assert (dutch.status_code, dutch.json()) == (
        404,
        {"detail": "Er is nog geen boomkop ondertekend.", "code": "no_tree_head"},
    )


def test_leaf_data_only_for_who_may_read_the_event(signed, client, people):
    with transaction.atomic():
        mine = audit_record(actor=people["requester"], action="test.mine", payload={"x": 1})
    head = audit_sequence()
    url = f"/api/v1/audit/events/{mine.leaf_index}/proof?tree_size={head.tree_size}"

    anonymous = client.get(url).json()
    assert set(anonymous) == {"leaf_index", "tree_size", "leaf_hash", "audit_path"}
    client.force_login(people["requester"])
    own = client.get(url).json()
    data = json.loads(base64.b64decode(own["leaf_data"]))
    assert (data["action"], data["payload"], data["actor_id"]) == (
        "test.mine",
        {"x": 1},
        str(people["requester"].pk),
    )
    other = client.get(f"/api/v1/audit/events/0/proof?tree_size={head.tree_size}").json()
    assert "leaf_data" not in other
    client.force_login(people["auditor"])
    assert "leaf_data" in client.get("/api/v1/audit/events/0/proof?tree_size=5").json()


def test_proof_without_a_size_is_against_the_latest_signed_head(signed, client):
    body = client.get("/api/v1/audit/events/2/proof").json()
    assert (body["leaf_index"], body["tree_size"]) == (2, 5)
    append(1)  # placed, not yet under a signed head
    late = client.get("/api/v1/audit/events/5/proof")
    assert (late.status_code, late.json()["code"]) == (404, "not_logged")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/audit/events/5/proof?tree_size=5",
        "/api/v1/audit/events/0/proof?tree_size=6",
        "/api/v1/audit/events/0/proof?tree_size=0",
        "/api/v1/audit/events/0/proof?tree_size=x",
        "/api/v1/audit/consistency?first=3&second=2",
        "/api/v1/audit/consistency?first=0&second=2",
        "/api/v1/audit/consistency?first=2&second=9",
        "/api/v1/audit/consistency?first=2",
        "/api/v1/audit/consistency?first=a&second=b",
    ],
)
def test_bad_proof_requests_are_400_json(signed, client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] in {"invalid", "invalid_tree_size"}


def test_the_daily_verification_records_its_outcome(signed):
    assert audit_verify_task()["intact"] is True
    event = AuditEvent.objects.get(action="audit.log_verified")
    assert event.payload == {
        "count": 5,
        "tree_size": 5,
        "root_hash": signed.root_hash,
        "broken_seq": None,
        "tree_heads": 1,
        "reason": "",
    }


# --- a witness against this hub --------------------------------------------------------------


def _witness(client, tmp_path):
    from django.conf import settings

    from lifes_node.keys import KeySet
    from lifes_node.witness import witness_once

    keys = KeySet.from_jwks(client.get("/.well-known/jwks.json").json())

    def fetch(url: str) -> bytes:
        response = client.get(url.removeprefix(settings.HUB_URL))
        assert response.status_code == 200, response.content
        return response.content

    return lambda: witness_once(
        hub=settings.HUB_URL, keys=keys, state_path=tmp_path / "heads.json", fetch=fetch
    )


def test_a_witness_follows_the_hub_and_catches_a_forked_head(signed, client, tmp_path):
    from audit.maintenance import audit_maintenance
    from lifes_node.errors import NodeError

    witness = _witness(client, tmp_path)
    assert witness().tree_size == 5
    append(3)
    audit_sequence()
    assert (witness().tree_size, witness().previous_size) == (8, 8)

    # the hub rewrites event 2 and re-signs a head of the same size: a fork
    with audit_maintenance():
        AuditEvent.objects.filter(seq=2).update(payload={"i": "rewritten"})
        event = AuditEvent.objects.get(seq=2)
        AuditEvent.objects.filter(seq=2).update(
            leaf_data=json.dumps(
                {**json.loads(bytes(event.leaf_data)), "payload": {"i": "rewritten"}},
                sort_keys=True,
                separators=(",", ":"),
            ).encode()
        )
        AuditTreeNode.objects.all().delete()
        AuditTreeHead.objects.all().delete()
        AuditEvent.objects.update(seq=None)
    audit_sequence()  # places the same events again, in id order, over the rewritten one

    with pytest.raises(NodeError) as info:
        witness()
    assert info.value.reason == "split_view"
    assert info.value.message.startswith(
        "SPLIT VIEW: the hub signed two different roots for tree size 8"
    )
