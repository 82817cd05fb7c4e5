"""Permits and receipts come with their place in the audit log: the node API gives each permit
the inclusion proof of its issue event and the signed tree head, which ``lifes-node verify
--require-logged`` checks against the hub's published JWKS; receipts get their leaf index and,
once signed, their proof."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services import audit_sequence
from lifes_node.cli import main
from lifes_node.keys import KeySet
from lifes_node.logproof import verify_logged
from lifes_node.merkle import leaf_hash
from permits.models import ExecutionReceipt
from permits.selectors import log_entry_of

from .conftest import DEMO_NODE_TOKEN, NODE_ID, hub_jwks
from .test_node_api import signed_receipt


@pytest.fixture
def node_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_NODE_TOKEN}")
    return client


@pytest.mark.django_db
def test_the_node_gets_each_permit_with_a_proof_of_its_issue(permit, node_client, client):
    head = audit_sequence()
    [item] = node_client.get("/api/v1/node/permits").json()["results"]

    log = item["log"]
    issue = AuditEvent.objects.get(action="permit.issue", object_id=str(permit.pk))
    assert (log["leaf_index"], log["tree_size"]) == (issue.seq - 1, head.tree_size)
    assert log["tree_head"]["signed"] == head.signed
    # checked with nothing but the published JWKS, as a node does
    keys = KeySet.from_jwks(hub_jwks(client))
    claims = verify_logged({"jti": str(permit.jti)}, log, keys, issuer=settings.HUB_URL)
    assert (claims["tree_size"], claims["root_hash"]) == (head.tree_size, head.root_hash)


@pytest.mark.django_db
def test_verify_require_logged_passes_a_logged_permit_and_refuses_another(
    permit,
    node_client,
    client,
    tmp_path,
    capsys,
):
    audit_sequence()
    [item] = node_client.get("/api/v1/node/permits").json()["results"]
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(hub_jwks(client)))
    proof = tmp_path / "permit.json"
    proof.write_text(json.dumps(item))
    args = ["verify", "--jwks", str(jwks), "--issuer", settings.HUB_URL, "--node", NODE_ID]

    assert main([*args, "--require-logged", "--log-proof", str(proof), permit.token]) == 0
    capsys.readouterr()

    # a proof whose leaf is not the bytes it carries
    other = dict(item["log"])
    other["leaf_hash"] = leaf_hash(b"{}").hex()
    proof.write_text(json.dumps(other))
    assert main([*args, "--require-logged", "--log-proof", str(proof), permit.token]) == 1
    assert capsys.readouterr().err.startswith("not_logged - leaf_hash is not the hash of leaf_data")


@pytest.mark.django_db
def test_a_permit_issued_after_the_last_signed_head_is_not_logged_yet(permit, node_client):
    [item] = node_client.get("/api/v1/node/permits").json()["results"]

    assert item["log"]["leaf_index"] is not None
    assert (item["log"]["audit_path"], item["log"]["tree_head"]) == (None, None)


@pytest.mark.django_db
def test_a_stored_receipt_is_answered_with_its_place_and_later_its_proof(
    permit,
    node_key,
    node_client,
):
    token, _jti = signed_receipt(node_key, permit)

    stored = node_client.post("/api/v1/node/receipts", {"receipt": token}, format="json").json()
    event = AuditEvent.objects.get(action="receipt.record")
    assert stored["log"]["leaf_index"] == event.seq - 1
    assert stored["log"]["tree_head"] is None  # not yet under a signed head

    head = audit_sequence()
    receipt = ExecutionReceipt.objects.get()
    later = log_entry_of(receipt, "receipt.record")
    assert (later["leaf_index"], later["tree_size"]) == (event.seq - 1, head.tree_size)
    assert later["tree_head"]["root_hash"] == head.root_hash
