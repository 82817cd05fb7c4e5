"""Permit verification throughput at a node, against a bare Ed25519 verification baseline.

    python bench/bench_verify.py [--seconds 2]

Both loops run in the same process over the same bytes: ``verify_permit`` on a realistic permit
with a signed 200-entry revocation list (as ``lifes-node run`` does it), and cryptography's
``Ed25519PublicKey.verify(signature, signing_input)`` of that permit. The ratio is the cost of
everything the node adds on top of the signature check (parsing, claim checks, revocation
lookup); the goal is at most 1.5x. Rounds alternate between the two loops and the best round of
each is reported, so a busy machine skews both figures alike.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from lifes_node.keys import KeySet, public_jwk  # noqa: E402
from lifes_node.verify import verify_permit  # noqa: E402

GOAL = 1.5
ISSUER = "https://hub.lifes.example"
NODE = "node-leiden"


def make_fixture() -> tuple[str, str, dict]:
    key = Ed25519PrivateKey.generate()
    kid = "hub-2026-01"
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "org:leiden-university",
        "aud": [NODE, "node-utrecht", "node-groningen"],
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 180 * 86400,
        "permit": {
            "number": "LIFES-2026-0007",
            "request": "REQ-2026-0042",
            "purpose": {"codes": ["DUO:0000007", "DUO:0000031"], "diseases": ["MONDO:0005148"]},
            "datasets": [
                {"id": "leiden-diabetes", "node": NODE, "cohort_version": 12},
                {"id": "utrecht-cardio", "node": "node-utrecht", "cohort_version": 3},
            ],
            "algorithms": [
                {"name": "mean_bmi_by_sex", "version": "1.2.0", "digest": "sha256:" + "ab" * 32},
                {"name": "cox_model", "version": "0.9.1", "digest": "sha256:" + "cd" * 32},
            ],
            "outputs": {"aggregate_only": True, "min_cell_count": 10},
            "conditions": {"codes": ["DUO:0000021", "DUO:0000028"], "publication_embargo": 0},
        },
    }
    headers = {"kid": kid, "typ": "lifes-permit+jwt"}
    permit = jwt.encode(claims, key, algorithm="EdDSA", headers=headers)
    revocations = jwt.encode(
        {
            "iss": ISSUER,
            "iat": now,
            "exp": now + 3600,
            "revoked": [
                {"jti": str(uuid.uuid4()), "revoked_at": "2026-01-01T00:00:00Z", "reason": "x"}
                for _ in range(200)
            ],
        },
        key,
        algorithm="EdDSA",
        headers={"kid": kid, "typ": "lifes-revocations+jwt"},
    )
    return permit, revocations, {"keys": [{**public_jwk(key), "kid": kid}]}


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (batches of 200 to keep timing cheap)."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            fn()
        calls += 200
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="total time per loop")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    permit, revocations, jwks = make_fixture()
    keys = KeySet.from_jwks(jwks)
    signing_input, _, sig = permit.rpartition(".")
    message = signing_input.encode("ascii")
    signature = base64.urlsafe_b64decode(sig + "==")
    public = keys.get(jwks["keys"][0]["kid"])

    def full() -> object:
        return verify_permit(
            permit, jwks=keys, issuer=ISSUER, node_id=NODE, revocations=revocations
        )

    def baseline() -> None:
        public.verify(signature, message)

    full()  # warm: the revocation list is verified once, then reused while it is fresh
    per_round = args.seconds / args.rounds
    best_full = best_base = 0.0
    for _ in range(args.rounds):
        best_base = max(best_base, rate(baseline, per_round))
        best_full = max(best_full, rate(full, per_round))

    ratio = best_base / best_full
    sys.stdout.write(
        f"permit_verify: {best_full:.0f}/s  baseline ed25519_verify: {best_base:.0f}/s  "
        f"ratio {ratio:.2f}x (goal <= {GOAL}x)\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
