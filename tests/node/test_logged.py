"""`lifes-node verify --require-logged` and `lifes-node witness`, against logs built the way the
hub builds them (RFC 9162 tree of ``audit.merkle``, tree heads signed like the hub's)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from audit import merkle
from lifes_node.cli import main
from lifes_node.errors import NodeError
from lifes_node.keys import KeySet
from lifes_node.witness import witness_once

from .conftest import ISSUER, NODE_ID, HubSigner

TYP = "lifes-tree-head+jwt"


class Log:
    """A hub log in memory: leaves, stored nodes, signed heads, the three API answers."""

    def __init__(self, signer: HubSigner, leaves: list[bytes]) -> None:
        self.signer, self.leaves = signer, list(leaves)

    def _nodes(self, size: int) -> dict[merkle.Node, bytes]:
        appender, closed = merkle.CompactRange(), []
        for data in self.leaves[:size]:
            appender.append(merkle.leaf_hash(data), closed)
        self.root = appender.root()
        return {(level, index): digest for level, index, digest in closed}

    def head(self, size: int | None = None) -> dict[str, Any]:
        size = size or len(self.leaves)
        self._nodes(size)
        claims = {"tree_size": size, "root_hash": self.root.hex(), "timestamp": 1_790_000_000_000}
        return {**claims, "signed": self.signer.sign({**claims, "iss": ISSUER}, typ=TYP)}

    def proof(self, index: int, size: int) -> list[str]:
        nodes = self._nodes(size)
        return [
            merkle.evaluate(e, nodes.__getitem__).hex() for e in merkle.inclusion_plan(index, size)
        ]

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        nodes = self._nodes(second)
        plan = merkle.consistency_plan(first, second)
        proof = [merkle.evaluate(e, nodes.__getitem__).hex() for e in plan]
        return {"first": first, "second": second, "proof": proof}

    def fetch(self, url: str) -> bytes:
        if url.endswith("/api/v1/audit/tree-head"):
            return json.dumps(self.head()).encode()
        query = dict(item.split("=") for item in url.split("?")[1].split("&"))
        return json.dumps(self.consistency(int(query["first"]), int(query["second"]))).encode()


def event(action: str, **payload: Any) -> bytes:
    body = {"action": action, "actor_type": "system", "payload": payload}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@pytest.fixture
def jwks_file(tmp_path: Path, signer: HubSigner) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(signer.jwks()))
    return path


def _log_for(signer: HubSigner, jti: str) -> tuple[Log, dict[str, Any]]:
    leaves = [event("test.event", i=i) for i in range(6)]
    leaves.insert(4, event("permit.issue", jti=jti, number="LIFES-2026-0007"))
    log = Log(signer, leaves)
    entry = {
        "leaf_index": 4,
        "tree_size": 7,
        "leaf_hash": merkle.leaf_hash(leaves[4]).hex(),
        "audit_path": log.proof(4, 7),
        "leaf_data": base64.b64encode(leaves[4]).decode(),
        "tree_head": log.head(),
    }
    return log, entry


def _verify(capsys, jwks: Path, token: str, *extra: str) -> tuple[int, str]:
    code = main(
        ["verify", "--jwks", str(jwks), "--issuer", ISSUER, "--node", NODE_ID, *extra, token]
    )
    return code, capsys.readouterr().err


def test_a_logged_permit_passes(capsys, tmp_path, jwks_file, signer):
    claims = signer.permit_claims()
    _log, entry = _log_for(signer, claims["jti"])
    proof = tmp_path / "log.json"
    proof.write_text(json.dumps({"number": "LIFES-2026-0007", "log": entry}))

    code, err = _verify(
        capsys,
        jwks_file,
        signer.sign(claims, typ="lifes-permit+jwt"),
        "--require-logged",
        "--log-proof",
        str(proof),
    )
    assert (code, err) == (0, "")


@pytest.mark.parametrize(
    "spoil",
    [
        "no proof",
        "another permit's issue",
        "a wrong sibling",
        "a head signed by another key",
        "a proof against another size",
    ],
)
def test_an_unlogged_permit_is_refused_not_logged(capsys, tmp_path, jwks_file, signer, spoil):
    claims = signer.permit_claims()
    log, entry = _log_for(signer, claims["jti"] if spoil != "another permit's issue" else "x")
    if spoil == "a wrong sibling":
        entry["audit_path"][1] = "00" * 32
    if spoil == "a head signed by another key":
        entry["tree_head"] = Log(HubSigner(issuer=ISSUER, kid="other"), log.leaves).head()
    if spoil == "a proof against another size":
        entry["audit_path"] = log.proof(4, 6)
    proof = tmp_path / "log.json"
    proof.write_text(json.dumps(entry))
    args = ["--require-logged"] + ([] if spoil == "no proof" else ["--log-proof", str(proof)])

    code, err = _verify(capsys, jwks_file, signer.sign(claims, typ="lifes-permit+jwt"), *args)

    assert code == 1
    assert err.startswith("not_logged - ")


def test_without_require_logged_the_proof_is_not_needed(capsys, jwks_file, signer):
    code, _err = _verify(capsys, jwks_file, signer.permit())
    assert code == 0


# --- the witness ------------------------------------------------------------------------------


def test_the_witness_keeps_heads_that_only_grow(tmp_path, signer):
    keys = KeySet.from_jwks(signer.jwks())
    log = Log(signer, [event("e", i=i) for i in range(5)])
    state = tmp_path / "witness.json"

    first = witness_once(hub=ISSUER, keys=keys, state_path=state, fetch=log.fetch)
    log.leaves += [event("e", i=i) for i in range(5, 13)]
    second = witness_once(hub=ISSUER, keys=keys, state_path=state, fetch=log.fetch)

    assert (first.tree_size, first.previous_size) == (5, None)
    assert (second.tree_size, second.previous_size) == (13, 5)
    kept = json.loads(state.read_text())
    assert [head["tree_size"] for head in kept["heads"]] == [5, 13]
    assert kept["alerts"] == []


def _forked(signer: HubSigner, tmp_path: Path) -> tuple[Log, Path, KeySet]:
    keys = KeySet.from_jwks(signer.jwks())
    log = Log(signer, [event("e", i=i) for i in range(6)])
    state = tmp_path / "witness.json"
    witness_once(hub=ISSUER, keys=keys, state_path=state, fetch=log.fetch)
    return log, state, keys


def test_a_forked_head_at_the_same_size_is_a_split_view(tmp_path, signer, capsys):
    log, state, _keys = _forked(signer, tmp_path)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(signer.jwks()))
    log.leaves[2] = event("e", i="rewritten")  # same size, another history

    from lifes_node import cli

    original = cli.witness_once
    cli.witness_once = lambda **kw: original(**kw, fetch=log.fetch)
    try:
        code = main(["witness", "--hub", ISSUER, "--jwks", str(jwks), "--state", str(state)])
    finally:
        cli.witness_once = original

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "split_view - SPLIT VIEW: the hub signed two different roots for tree size 6"
    )
    kept = json.loads(state.read_text())
    assert [alert["reason"] for alert in kept["alerts"]] == ["split_view"]
    assert [head["tree_size"] for head in kept["heads"]] == [6]  # the good head is kept


def test_a_grown_head_that_rewrites_the_past_is_rewritten_history(tmp_path, signer):
    log, state, keys = _forked(signer, tmp_path)
    log.leaves[0] = event("e", i="rewritten")
    log.leaves.append(event("e", i=6))

    with pytest.raises(NodeError) as info:
        witness_once(hub=ISSUER, keys=keys, state_path=state, fetch=log.fetch)

    assert info.value.reason == "history_rewritten"
    assert "does not extend the head of size 6" in info.value.message


def test_a_shrunk_log_is_rewritten_history(tmp_path, signer):
    log, state, keys = _forked(signer, tmp_path)
    del log.leaves[-2:]

    with pytest.raises(NodeError) as info:
        witness_once(hub=ISSUER, keys=keys, state_path=state, fetch=log.fetch)

    assert info.value.reason == "history_rewritten"
    assert info.value.message == "HISTORY REWRITTEN: the hub's log shrank from 6 to 4 leaves"
