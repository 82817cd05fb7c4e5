"""The ``lifes-node`` command as operators and scripts use it: exit codes, stdout, stderr."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lifes_node.keys import jwk_thumbprint, load_private_key, public_jwk

from .conftest import DEMO_ALGORITHM, ISSUER, NODE_ID, ROOT, FakeHub, HubSigner, Node


def lifes_node(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(  # noqa: S603 - the CLI under test
        [sys.executable, "-m", "lifes_node.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        input=stdin,
        timeout=60,
        check=False,
    )


@pytest.fixture
def jwks_file(tmp_path: Path, signer: HubSigner) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(signer.jwks()))
    return path


def verify_args(jwks: Path | str, *extra: str) -> list[str]:
    return ["verify", "--jwks", str(jwks), "--issuer", ISSUER, "--node", NODE_ID, *extra]


def test_verify_prints_the_claims_and_exits_0(jwks_file: Path, signer: HubSigner) -> None:
    claims = signer.permit_claims()
    token = signer.sign(claims, typ="lifes-permit+jwt")

    done = lifes_node(*verify_args(jwks_file), token)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == claims
    assert done.stderr == ""


def test_verify_reads_the_token_from_a_file_or_stdin(
    jwks_file: Path, signer: HubSigner, tmp_path: Path
) -> None:
    token = signer.permit()
    path = tmp_path / "permit.jwt"
    path.write_text(token + "\n")

    assert lifes_node(*verify_args(jwks_file), str(path)).returncode == 0
    assert lifes_node(*verify_args(jwks_file), "-", stdin=token).returncode == 0


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s: s.permit(exp=int(time.time()) - 3600), "expired"),
        (lambda s: s.permit(nbf=int(time.time()) + 3600), "not_yet_valid"),
        (lambda s: s.permit(aud=["node-utrecht"]), "wrong_audience"),
        (lambda s: s.permit(iss="https://evil.example"), "bad_issuer"),
        (lambda s: s.permit(key=Ed25519PrivateKey.generate()), "bad_signature"),
        (lambda s: s.permit(kid="retired-long-ago"), "unknown_key"),
        (lambda s: "eyJhbGciOiJub25lIn0.e30.", "bad_algorithm"),
        (lambda s: "definitely not a permit", "malformed"),
    ],
)
def test_verify_refusal_names_the_reason_first_on_stderr(
    jwks_file: Path, signer: HubSigner, make: object, reason: str
) -> None:
    done = lifes_node(*verify_args(jwks_file), make(signer))

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.split()[0] == reason


def test_verify_with_revocation_list_files(
    jwks_file: Path, signer: HubSigner, tmp_path: Path
) -> None:
    claims = signer.permit_claims()
    token = signer.sign(claims, typ="lifes-permit+jwt")
    fresh, revoked, old = tmp_path / "fresh.jwt", tmp_path / "revoked.json", tmp_path / "old.jwt"
    fresh.write_text(signer.revocations())
    revoked.write_text(json.dumps({"token": signer.revocations([claims["jti"]])}))
    old.write_text(signer.revocations(iat=time.time() - 600))

    ok = lifes_node(*verify_args(jwks_file, "--revocations", str(fresh)), token)
    on_list = lifes_node(*verify_args(jwks_file, "--revocations", str(revoked)), token)
    too_old = lifes_node(
        *verify_args(jwks_file, "--revocations", str(old), "--max-revocation-age", "300"), token
    )
    missing = lifes_node(*verify_args(jwks_file, "--revocations", str(tmp_path / "no")), token)

    assert ok.returncode == 0
    assert (on_list.returncode, on_list.stderr.split()[0]) == (1, "revoked")
    assert (too_old.returncode, too_old.stderr.split()[0]) == (1, "stale_revocations")
    assert (missing.returncode, missing.stderr.split()[0]) == (1, "stale_revocations")


def test_verify_fetches_keys_and_revocations_from_the_hub(hub: FakeHub) -> None:
    hub.revocations_as_json = True
    token = hub.signer.permit()
    args = ["--jwks", hub.url + "/.well-known/jwks.json", "--issuer", hub.url, "--node", NODE_ID]

    done = lifes_node(
        "verify", *args, "--revocations", hub.url + "/api/v1/permits/revocations", token
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["iss"] == hub.url


def test_verify_without_reachable_keys(signer: HubSigner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"

    well_formed = lifes_node(*verify_args(missing), signer.permit())
    garbage = lifes_node(*verify_args(missing), "x.y")

    assert well_formed.stderr.split()[0] == "unknown_key"
    assert "cannot load JWKS" in well_formed.stderr
    assert garbage.stderr.split()[0] == "malformed"


def test_missing_arguments_are_a_usage_error() -> None:
    done = lifes_node("verify", "--issuer", ISSUER, "token")

    assert done.returncode == 2


def test_keygen_writes_a_private_key_and_prints_its_public_jwk(tmp_path: Path) -> None:
    key_path = tmp_path / "node.key"

    done = lifes_node("keygen", "--out", str(key_path))
    again = lifes_node("keygen", "--out", str(key_path))
    shown = lifes_node("pubkey", "--key", str(key_path))

    assert done.returncode == 0, done.stderr
    jwk = json.loads(done.stdout)
    assert jwk == public_jwk(load_private_key(key_path))
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("OKP", "Ed25519", "sig", "EdDSA")
    assert jwk["kid"] == jwk_thumbprint(jwk)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert again.returncode == 2  # never silently replaces a node's identity
    assert json.loads(shown.stdout) == jwk


def test_jwk_thumbprint_matches_rfc_7638_example() -> None:
    # RFC 8037 appendix A.3: thumbprint of the example Ed25519 key
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}

    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(
    ("kty", "params"),
    [("EC", {"crv": "P-256"}), ("RSA", {"size": 2048}), ("OKP", {"crv": "Ed25519"})],
)
def test_jwk_thumbprint_agrees_with_jwcrypto_for_every_key_type(kty: str, params: dict) -> None:
    """The one thumbprint the hub and the node use (node keys, signing keys, visa keys),
    against an independent implementation of RFC 7638."""
    from jwcrypto import jwk as jwcrypto_jwk

    key = jwcrypto_jwk.JWK.generate(kty=kty, **params)
    public = json.loads(key.export_public())

    assert jwk_thumbprint(public) == key.thumbprint()


def test_run_succeeds_with_exit_0_and_a_json_summary(node: Node, tmp_path: Path) -> None:
    permit = tmp_path / "permit.jwt"
    permit.write_text(node.hub.signer.permit())
    out = tmp_path / "out.json"

    done = lifes_node(
        "run",
        "--config",
        str(node.config_path),
        "--permit",
        str(permit),
        "--algorithm",
        str(DEMO_ALGORITHM),
        "--output",
        str(out),
    )

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["status"], summary["reason"]) == ("succeeded", None)
    assert summary["receipt"]["posted"] is True
    assert json.loads(out.read_text())["tables"][0]["name"] == "bmi_hba1c_by_sex"
    assert len(node.hub.receipts) == 1


def test_run_refusal_exits_1_with_the_reason_first(node: Node) -> None:
    done = lifes_node(
        "run",
        "--config",
        str(node.config_path),
        "--permit",
        node.hub.signer.permit(exp=int(time.time()) - 3600),
        "--algorithm",
        str(DEMO_ALGORITHM),
    )

    assert done.returncode == 1
    assert done.stderr.split()[0] == "expired"
    assert json.loads(done.stdout)["reason"] == "expired"


def test_run_with_a_broken_config_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('hub_url = "https://hub.example"\nmax_revocaton_age = 10\n')

    done = lifes_node(
        "run", "--config", str(config), "--permit", "x", "--algorithm", str(DEMO_ALGORITHM)
    )

    assert done.returncode == 1
    assert done.stderr.split()[0] == "config_error"
    assert "max_revocaton_age" in done.stderr
