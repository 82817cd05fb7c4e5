"""Receipts: signature, claims, and the outbox's delivery rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifes_node.errors import VerificationError
from lifes_node.keys import generate_private_key, jwks_document
from lifes_node.receipt import NodeSigner, Outbox, deliver, receipt_claims, verify_receipt
from lifes_node.transport import Response, TransportError

HUB = "https://hub.example"


class ScriptedHub:
    def __init__(self, *answers: Response | Exception) -> None:
        self.answers = list(answers)
        self.posted: list[str] = []

    def post_receipt(self, token: str) -> Response:
        self.posted.append(token)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def signer() -> NodeSigner:
    return NodeSigner(generate_private_key())


def token(signer: NodeSigner, **body: object) -> tuple[str, str]:
    claims = receipt_claims(node_id="node-a", hub_url=HUB, receipt={"status": "succeeded", **body})
    return signer.sign(claims), claims["jti"]


def test_receipt_verifies_with_the_node_key_only(signer: NodeSigner) -> None:
    signed, jti = token(signer)

    claims = verify_receipt(signed, node_jwks=signer.jwk, node_id="node-a", hub_url=HUB)

    assert (claims["jti"], claims["aud"], claims["receipt"]) == (jti, HUB, {"status": "succeeded"})
    other = jwks_document([generate_private_key()])
    with pytest.raises(VerificationError):
        verify_receipt(signed, node_jwks=other, node_id="node-a", hub_url=HUB)
    with pytest.raises(VerificationError):
        verify_receipt(signed, node_jwks=signer.jwk, node_id="node-b", hub_url=HUB)


def test_delivery_outcomes(signer: NodeSigner, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    hub = ScriptedHub(
        Response(201, b""),
        Response(409, b""),
        Response(502, b""),
        TransportError("down"),
        Response(422, b'{"detail": "unknown permit", "code": "invalid"}'),
    )

    results = [deliver(hub, outbox, *token(signer)) for _ in range(5)]

    assert [r.posted for r in results] == [True, True, False, False, False]
    assert len(outbox.pending()) == 2
    assert results[4].outbox_path.parent == tmp_path / "rejected"
    assert "unknown permit" in results[4].detail


def test_flush_stops_at_the_first_transport_failure(signer: NodeSigner, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for _ in range(3):
        outbox.put(*token(signer))
    hub = ScriptedHub(Response(201, b""), TransportError("down"))

    counts = outbox.flush(hub)

    assert counts == {"sent": 1, "kept": 2, "rejected": 0}
    assert len(hub.posted) == 2
    assert len(outbox.pending()) == 2
