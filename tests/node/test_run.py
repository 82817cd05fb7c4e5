"""``lifes-node run`` end to end against a real HTTP hub: every gate, the receipt, the outbox."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import jwt
import pytest

from lifes_node.cohort import cohort_digest
from lifes_node.execute import UsageError
from lifes_node.receipt import verify_receipt

from .conftest import COHORT, DATASET_ID, DEMO_ALGORITHM, NODE_ID, FakeHub, Node

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

SPY = (
    DEMO_ALGORITHM.read_text()
    + """
with open(__SEEN__, "w") as _fh:
    _fh.write("\\n".join(r["participant_id"] for r in csv.DictReader(open(sys.argv[1]))))
"""
)


def write_output(doc: object) -> str:
    return f"import json, sys\njson.dump({doc!r}, open(sys.argv[2], 'w'))\n"


def receipts(node: Node) -> list[dict]:
    """The receipts the hub received, each verified with the node's public key."""
    return [
        verify_receipt(token, node_jwks=node.jwk, node_id=NODE_ID, hub_url=node.hub.url)["receipt"]
        for token in node.hub.receipts
    ]


def cohort_requests(hub: FakeHub) -> list[dict]:
    return [r for r in hub.requests if "/cohorts/" in r["path"]]


def test_successful_run_sees_only_cohort_participants(node: Node, tmp_path: Path) -> None:
    # given
    seen = tmp_path / "seen.txt"
    algorithm = node.algorithm(SPY.replace("__SEEN__", repr(str(seen))))
    permit = node.permit_for(algorithm)
    out = tmp_path / "out.json"

    # when
    result = node.run(permit, algorithm, output=out)

    # then: the algorithm saw exactly the cohort, and its aggregate left the node
    assert (result.status, result.reason, result.exit_code) == ("succeeded", None, 0)
    assert sorted(seen.read_text().split("\n")) == sorted(COHORT)
    released = json.loads(out.read_text())
    assert sum(cell["count"] for cell in released["tables"][0]["cells"]) == len(COHORT)
    assert result.output_digest == "sha256:" + hashlib.sha256(out.read_bytes()).hexdigest()

    # and: the hub got one receipt, signed by the node key, saying exactly what happened
    (token,) = node.hub.receipts
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": node.jwk["kid"], "typ": "lifes-receipt+jwt"}
    decoded = jwt.decode(
        token,
        jwt.PyJWK(node.jwk).key,
        algorithms=["EdDSA"],
        audience=node.hub.url,
        issuer=NODE_ID,
    )
    body = decoded["receipt"]
    assert body == {
        "permit": "LIFES-2026-0007",
        "permit_jti": jwt.decode(permit, options={"verify_signature": False})["jti"],
        "dataset": DATASET_ID,
        "algorithm_digest": result.algorithm_digest,
        "started_at": body["started_at"],
        "ended_at": body["ended_at"],
        "cohort_version": 1,
        "cohort_digest": cohort_digest(COHORT),
        "cohort_size": len(COHORT),
        "output_digest": result.output_digest,
        "disclosure": {"passed": True, "reason": None, "details": []},
        "status": "succeeded",
        "reason": None,
    }
    assert ISO.fullmatch(body["started_at"])
    assert ISO.fullmatch(body["ended_at"])
    assert cohort_requests(node.hub)[0]["headers"]["authorization"] == "Token " + (
        node.config.credential
    )


def test_demo_algorithm_under_the_demo_permit(node: Node) -> None:
    result = node.run(node.hub.signer.permit(), DEMO_ALGORITHM)

    assert result.status == "succeeded"
    cells = result.output["tables"][0]["cells"]
    assert [c["group"] for c in cells] == [{"sex": "F"}, {"sex": "M"}]
    assert result.summary()["cohort"]["size"] == len(COHORT)


def test_algorithm_digest_mismatch_is_refused_before_any_data_is_touched(node: Node) -> None:
    algorithm = node.algorithm(DEMO_ALGORITHM.read_text() + "\n# one extra line\n")

    result = node.run(node.hub.signer.permit(), algorithm)

    assert (result.status, result.reason) == ("refused", "algorithm_mismatch")
    assert cohort_requests(node.hub) == []
    (receipt,) = receipts(node)
    assert (receipt["status"], receipt["reason"]) == ("refused", "algorithm_mismatch")
    assert receipt["output_digest"] is None
    assert receipt["cohort_digest"] is None


def test_dataset_assigned_to_another_node_is_not_held(node: Node) -> None:
    permit = node.hub.signer.permit(
        permit={"datasets": [{"id": DATASET_ID, "node": "node-utrecht", "cohort_version": 1}]}
    )
    result = node.run(permit, DEMO_ALGORITHM)

    assert (result.status, result.reason) == ("refused", "dataset_not_held")
    assert receipts(node)[0]["reason"] == "dataset_not_held"


def test_dataset_not_configured_here_is_not_held(node: Node) -> None:
    node.write_config(
        hub_url=node.hub.url,
        node_id=NODE_ID,
        credential="node-token-0123456789abcdef",
        signing_key="node.key",
        cache_dir="cache",
        datasets={"other-dataset": "x.csv"},
    )

    assert node.run(node.hub.signer.permit(), DEMO_ALGORITHM).reason == "dataset_not_held"


def test_requested_dataset_missing_from_permit_is_not_held(node: Node) -> None:
    result = node.run(node.hub.signer.permit(), DEMO_ALGORITHM, dataset="umc-registry")

    assert result.reason == "dataset_not_held"


def test_several_datasets_held_require_a_choice(node: Node) -> None:
    node.configure()
    text = node.config_path.read_text() + f'"second" = "{node.data_path}"\n'
    node.config_path.write_text(text)
    both = [
        {"id": DATASET_ID, "node": NODE_ID, "cohort_version": 1},
        {"id": "second", "node": NODE_ID, "cohort_version": 1},
    ]
    with pytest.raises(UsageError):
        node.run(node.hub.signer.permit(permit={"datasets": both}), DEMO_ALGORITHM)


def test_count_below_min_cell_count_is_withheld(node: Node, tmp_path: Path) -> None:
    permit = node.hub.signer.permit(
        permit={"outputs": {"aggregate_only": True, "min_cell_count": 25}}
    )
    out = tmp_path / "out.json"

    result = node.run(permit, DEMO_ALGORITHM, output=out)

    assert (result.status, result.reason) == ("refused", "disclosure_small_cell")
    assert not out.exists()
    assert result.output is None
    assert result.output_digest is None
    (receipt,) = receipts(node)
    assert receipt["disclosure"]["passed"] is False
    assert receipt["disclosure"]["reason"] == "disclosure_small_cell"
    assert receipt["output_digest"] is None
    assert "fewer than 25" in " ".join(receipt["disclosure"]["details"])


def test_dominant_contributor_is_withheld(node: Node) -> None:
    # given: twelve patients, one of whom accounts for almost all costs
    ids = [f"D{i:03d}" for i in range(12)]
    node.write_data(
        ["participant_id", "sex", "cost"], [[p, "F", 50000 if p == "D003" else 100] for p in ids]
    )
    node.hub.set_cohort(ids)
    algorithm = node.algorithm(
        "import csv, json, sys\n"
        "rows = list(csv.DictReader(open(sys.argv[1])))\n"
        "total = sum(float(r['cost']) for r in rows)\n"
        "json.dump({'tables': [{'name': 'costs', 'by': [], 'cells': "
        "[{'group': {}, 'count': len(rows), 'sums': {'cost': total}}]}]}, open(sys.argv[2], 'w'))\n"
    )

    result = node.run(node.permit_for(algorithm), algorithm)

    assert (result.status, result.reason) == ("refused", "disclosure_dominance")
    assert receipts(node)[0]["disclosure"]["reason"] == "disclosure_dominance"


def test_declared_count_that_differs_from_the_data_is_withheld(node: Node) -> None:
    algorithm = node.algorithm(
        write_output({"tables": [{"name": "all", "by": [], "cells": [{"group": {}, "count": 99}]}]})
    )
    result = node.run(node.permit_for(algorithm), algorithm)

    assert result.reason == "disclosure_mismatch"


@pytest.mark.parametrize(
    "output",
    [
        [{"participant_id": "P0001", "bmi": 30.9}],
        {"tables": [{"name": "P0002", "by": [], "cells": [{"group": {}, "count": 45}]}]},
        {"tables": [], "rows": [{"id": 1}]},
        {"tables": [{"name": "x", "by": ["participant_id"], "cells": []}]},
    ],
    ids=["records", "id-in-name", "rows-key", "by-id-column"],
)
def test_row_level_output_is_withheld(node: Node, output: object) -> None:
    algorithm = node.algorithm(write_output(output))

    result = node.run(node.permit_for(algorithm), algorithm)

    assert (result.status, result.reason) == ("refused", "disclosure_row_level")
    assert result.output is None
    assert "P000" not in json.dumps(receipts(node))


def test_algorithm_over_its_time_limit_is_killed(node: Node) -> None:
    node.configure(timeout=1)
    algorithm = node.algorithm("import time\ntime.sleep(60)\n")
    started = time.monotonic()

    result = node.run(node.permit_for(algorithm), algorithm)

    assert (result.status, result.reason) == ("failed", "algorithm_timeout")
    assert time.monotonic() - started < 20
    assert receipts(node)[0]["status"] == "failed"


def test_crashing_algorithm_is_a_failure(node: Node) -> None:
    algorithm = node.algorithm("import sys\nsys.stderr.write('boom')\nsys.exit(3)\n")

    result = node.run(node.permit_for(algorithm), algorithm)

    assert (result.status, result.reason) == ("failed", "algorithm_failed")
    assert "boom" in result.stderr_tail
    assert "boom" not in node.hub.receipts[0]  # stderr stays at the node


def test_revoked_permit_is_refused_and_reported(node: Node) -> None:
    claims = node.hub.signer.permit_claims()
    permit = node.hub.signer.sign(claims, typ="lifes-permit+jwt")
    node.hub.revocation_token = node.hub.signer.revocations([claims["jti"]])

    result = node.run(permit, DEMO_ALGORITHM)

    assert (result.status, result.reason) == ("refused", "revoked")
    (receipt,) = receipts(node)
    assert (receipt["permit_jti"], receipt["reason"]) == (claims["jti"], "revoked")


def test_forged_permit_gets_no_receipt(node: Node) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = node.hub.signer.permit(key=Ed25519PrivateKey.generate())

    result = node.run(forged, DEMO_ALGORITHM)

    assert (result.status, result.reason) == ("refused", "bad_signature")
    assert node.hub.receipts == []
    assert result.receipt_jti is None


def test_stale_revocation_list_from_the_hub_fails_closed(node: Node) -> None:
    node.hub.revocation_token = node.hub.signer.revocations(iat=time.time() - 7200)

    assert node.run(node.hub.signer.permit(), DEMO_ALGORITHM).reason == "stale_revocations"


def test_no_revocation_list_at_all_fails_closed(node: Node) -> None:
    node.hub.revocation_token = None

    assert node.run(node.hub.signer.permit(), DEMO_ALGORITHM).reason == "stale_revocations"


def test_revocation_list_served_as_json_is_accepted(node: Node) -> None:
    node.hub.revocations_as_json = True

    assert node.run(node.hub.signer.permit(), DEMO_ALGORITHM).status == "succeeded"


def test_no_hub_keys_is_keys_unavailable(node: Node) -> None:
    node.hub.jwks_status = 500

    result = node.run(node.hub.signer.permit(), DEMO_ALGORITHM)

    assert result.reason == "keys_unavailable"
    assert node.hub.receipts == []


def test_cohort_is_revalidated_with_etag_and_withdrawals_apply_next_run(node: Node) -> None:
    permit = node.hub.signer.permit()
    first = node.run(permit, DEMO_ALGORITHM)
    second = node.run(permit, DEMO_ALGORITHM)
    node.hub.set_cohort(COHORT[5:], version=2)  # five participants withdrew consent
    third = node.run(permit, DEMO_ALGORITHM)

    statuses = [r["status"] for r in cohort_requests(node.hub)]
    assert statuses == [200, 304, 200]
    assert "if-none-match" in cohort_requests(node.hub)[1]["headers"]
    assert [r.summary()["cohort"]["source"] for r in (first, second, third)] == [
        "hub",
        "hub-304",
        "hub",
    ]
    assert third.cohort.size == len(COHORT) - 5
    assert sum(c["count"] for c in third.output["tables"][0]["cells"]) == len(COHORT) - 5


def test_hub_unreachable_uses_only_a_young_cached_cohort(node: Node) -> None:
    permit = node.hub.signer.permit()
    assert node.run(permit, DEMO_ALGORITHM).status == "succeeded"
    node.hub.stop()

    refused = node.run(permit, DEMO_ALGORITHM)  # max_cohort_age = 0
    node.configure(max_cohort_age=3600)
    offline = node.run(permit, DEMO_ALGORITHM)

    assert refused.reason == "cohort_unavailable"
    assert offline.status == "succeeded"
    assert offline.cohort.source == "cache"
    assert offline.receipt_posted is False
    assert len(list((node.root / "cache" / "outbox").glob("*.jwt"))) == 2


def test_hub_refusing_the_cohort_drops_the_cache(node: Node) -> None:
    node.configure(max_cohort_age=3600)
    permit = node.hub.signer.permit()
    assert node.run(permit, DEMO_ALGORITHM).status == "succeeded"
    node.hub.cohort_status = 403

    assert node.run(permit, DEMO_ALGORITHM).reason == "cohort_unavailable"
    assert list((node.root / "cache" / "cohorts").glob("*.json")) == []


def test_cohort_whose_digest_does_not_match_is_refused(node: Node) -> None:
    node.hub.set_cohort(COHORT, digest=cohort_digest(COHORT[1:]))

    assert node.run(node.hub.signer.permit(), DEMO_ALGORITHM).reason == "cohort_mismatch"


def test_cohort_older_than_the_permit_is_refused(node: Node) -> None:
    permit = node.hub.signer.permit(
        permit={"datasets": [{"id": DATASET_ID, "node": NODE_ID, "cohort_version": 3}]}
    )
    assert node.run(permit, DEMO_ALGORITHM).reason == "cohort_mismatch"


def test_undelivered_receipts_wait_in_the_outbox_and_go_next_run(node: Node) -> None:
    permit = node.hub.signer.permit()
    node.hub.receipt_status = 503
    first = node.run(permit, DEMO_ALGORITHM)
    outbox = node.root / "cache" / "outbox"
    assert first.status == "succeeded"
    assert first.receipt_posted is False
    assert [p.stem for p in outbox.glob("*.jwt")] == [first.receipt_jti]

    node.hub.receipt_status = 201
    second = node.run(permit, DEMO_ALGORITHM)

    assert second.outbox == {"sent": 1, "kept": 0, "rejected": 0}
    assert list(outbox.glob("*.jwt")) == []
    assert [r["status"] for r in receipts(node)] == ["succeeded", "succeeded"]
    jtis = [jwt.decode(t, options={"verify_signature": False})["jti"] for t in node.hub.receipts]
    assert jtis == [first.receipt_jti, second.receipt_jti]


def test_receipt_the_hub_rejects_is_kept_aside(node: Node) -> None:
    node.hub.receipt_status = 400

    result = node.run(node.hub.signer.permit(), DEMO_ALGORITHM)

    assert result.receipt_posted is False
    assert (node.root / "cache" / "outbox" / "rejected" / f"{result.receipt_jti}.jwt").exists()


@pytest.mark.parametrize(
    "data", ["missing.csv", "data.parquet", "no-id-column.csv"], ids=["missing", "parquet", "no-id"]
)
def test_unreadable_dataset_is_refused(node: Node, data: str) -> None:
    (node.root / "no-id-column.csv").write_text("pid,sex\nP0001,F\n")
    (node.root / "data.parquet").write_bytes(b"PAR1 not really parquet")
    node.configure(datasets={DATASET_ID: str(node.root / data)})

    result = node.run(node.hub.signer.permit(), DEMO_ALGORITHM)

    assert (result.status, result.reason) == ("refused", "dataset_unreadable")


def test_missing_signing_key_is_a_config_error_without_receipt(node: Node) -> None:
    node.key_path.unlink()

    result = node.run(node.hub.signer.permit(), DEMO_ALGORITHM)

    assert (result.status, result.reason) == ("refused", "config_error")
    assert node.hub.receipts == []
    assert node.hub.requests == []


def test_output_that_links_elsewhere_is_not_read(node: Node) -> None:
    algorithm = node.algorithm(f"import os, sys\nos.symlink({str(node.key_path)!r}, sys.argv[2])\n")
    result = node.run(node.permit_for(algorithm), algorithm)

    assert (result.status, result.reason) == ("failed", "algorithm_failed")
    assert "PRIVATE KEY" not in json.dumps(result.summary())
