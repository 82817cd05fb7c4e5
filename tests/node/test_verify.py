"""Permit verification: every refusal has its own reason code, checked in the documented order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk as jwc_jwk
from jwcrypto import jws as jwc_jws

from lifes_node import VerificationError, verify_permit, verify_revocation_list
from lifes_node.keys import KeySet, public_jwk
from lifes_node.verify import RevocationList

from .conftest import ISSUER, NODE_ID, HubSigner


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(doc: object) -> str:
    return b64(json.dumps(doc).encode())


def verify(signer: HubSigner, token: str, **kwargs: object) -> dict:
    kwargs.setdefault("jwks", signer.jwks())
    kwargs.setdefault("issuer", ISSUER)
    kwargs.setdefault("node_id", NODE_ID)
    return verify_permit(token, **kwargs)


def reason_of(signer: HubSigner, token: str, **kwargs: object) -> str:
    with pytest.raises(VerificationError) as info:
        verify(signer, token, **kwargs)
    return info.value.reason


def test_valid_permit_returns_its_claims(signer: HubSigner) -> None:
    claims = signer.permit_claims()
    token = signer.sign(claims, typ="lifes-permit+jwt")

    assert verify(signer, token, revocations=signer.revocations()) == claims


def test_audience_may_be_a_single_string(signer: HubSigner) -> None:
    assert verify(signer, signer.permit(aud=NODE_ID))["aud"] == NODE_ID


def test_rotated_keys_keep_older_permits_valid(signer: HubSigner) -> None:
    old = Ed25519PrivateKey.generate()
    old_permit = signer.permit(key=old, kid="hub-2025-07")
    jwks = signer.jwks({**public_jwk(old), "kid": "hub-2025-07"})

    assert verify(signer, old_permit, jwks=jwks)["iss"] == ISSUER
    assert verify(signer, signer.permit(), jwks=jwks)["iss"] == ISSUER


def test_issuer_trailing_slash_is_the_same_hub(signer: HubSigner) -> None:
    assert verify(signer, signer.permit(), issuer=ISSUER + "/")["iss"] == ISSUER


def test_tampered_payload_is_bad_signature(signer: HubSigner) -> None:
    header, _, sig = signer.permit().split(".")
    claims = signer.permit_claims()
    claims["permit"]["outputs"]["min_cell_count"] = 1  # the requester would like smaller cells

    assert reason_of(signer, f"{header}.{segment(claims)}.{sig}") == "bad_signature"


def test_signed_by_another_key_with_the_same_kid_is_bad_signature(signer: HubSigner) -> None:
    forged = signer.permit(key=Ed25519PrivateKey.generate())

    assert reason_of(signer, forged) == "bad_signature"


def test_truncated_or_non_canonical_signature_is_bad_signature(signer: HubSigner) -> None:
    token = signer.permit()
    head, _, sig = token.rpartition(".")
    flipped_unused_bits = sig[:-1] + {"A": "B", "Q": "R", "g": "h", "w": "x"}[sig[-1]]

    assert reason_of(signer, f"{head}.{sig[:-4]}") == "bad_signature"
    assert reason_of(signer, f"{head}.{flipped_unused_bits}") == "bad_signature"
    assert reason_of(signer, f"{head}.") == "bad_signature"


def test_unknown_kid_is_unknown_key(signer: HubSigner) -> None:
    assert reason_of(signer, signer.permit(kid="hub-1999")) == "unknown_key"


def test_missing_kid_is_unknown_key(signer: HubSigner) -> None:
    token = jwt.encode(
        signer.permit_claims(), signer.key, algorithm="EdDSA", headers={"typ": "lifes-permit+jwt"}
    )
    assert reason_of(signer, token) == "unknown_key"


def test_alg_none_is_bad_algorithm(signer: HubSigner) -> None:
    header = {"alg": "none", "kid": signer.kid, "typ": "lifes-permit+jwt"}
    token = f"{segment(header)}.{segment(signer.permit_claims())}."

    assert reason_of(signer, token) == "bad_algorithm"


@pytest.mark.parametrize("secret_form", ["raw", "pem", "jwk-x"])
def test_hs256_with_the_public_key_as_hmac_secret_is_bad_algorithm(
    signer: HubSigner, secret_form: str
) -> None:
    # given: the classic confusion attack - HMAC "signed" with what the verifier holds publicly
    public = signer.key.public_key()
    secret = {
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "jwk-x": public_jwk(public)["x"].encode(),
    }[secret_form]
    header = {"alg": "HS256", "kid": signer.kid, "typ": "lifes-permit+jwt"}
    signing_input = f"{segment(header)}.{segment(signer.permit_claims())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()

    # then
    assert reason_of(signer, f"{signing_input}.{b64(mac)}") == "bad_algorithm"


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256", "EdDSA ", "eddsa", "Ed25519", None])
def test_any_algorithm_other_than_eddsa_is_bad_algorithm(signer: HubSigner, alg: object) -> None:
    header = {"alg": alg, "kid": signer.kid, "typ": "lifes-permit+jwt"}
    token = f"{segment(header)}.{segment(signer.permit_claims())}.{b64(bytes(64))}"

    assert reason_of(signer, token) == "bad_algorithm"


def test_wrong_audience(signer: HubSigner) -> None:
    assert reason_of(signer, signer.permit(aud=["node-utrecht"])) == "wrong_audience"
    assert reason_of(signer, signer.permit(aud=[])) == "wrong_audience"
    assert reason_of(signer, signer.permit(aud=NODE_ID + "-2")) == "wrong_audience"


def test_not_yet_valid(signer: HubSigner) -> None:
    now = int(time.time())

    assert reason_of(signer, signer.permit(nbf=now + 3600)) == "not_yet_valid"
    assert reason_of(signer, signer.permit(iat=now + 3600, nbf=now)) == "not_yet_valid"


def test_expired(signer: HubSigner) -> None:
    assert reason_of(signer, signer.permit(exp=int(time.time()) - 3600)) == "expired"


def test_clock_leeway_is_applied_and_configurable(signer: HubSigner) -> None:
    token = signer.permit(exp=int(time.time()) - 10)

    assert verify(signer, token)["exp"] < time.time()  # within the default 30 s
    assert reason_of(signer, token, leeway=0) == "expired"


def test_bad_issuer(signer: HubSigner) -> None:
    assert reason_of(signer, signer.permit(iss="https://evil.example")) == "bad_issuer"
    assert reason_of(signer, signer.permit(iss=None)) == "bad_issuer"


def test_revoked(signer: HubSigner) -> None:
    claims = signer.permit_claims()
    token = signer.sign(claims, typ="lifes-permit+jwt")
    revocations = signer.revocations(["other", claims["jti"]])

    assert reason_of(signer, token, revocations=revocations) == "revoked"


def test_stale_revocation_list_by_age(signer: HubSigner) -> None:
    old = signer.revocations(iat=time.time() - 7200, exp=time.time() + 3600)

    assert reason_of(signer, signer.permit(), revocations=old) == "stale_revocations"
    assert reason_of(signer, signer.permit(), revocations=old, max_revocation_age=60) == (
        "stale_revocations"
    )
    assert verify(signer, signer.permit(), revocations=old, max_revocation_age=10800)


def test_stale_revocation_list_by_exp(signer: HubSigner) -> None:
    expired = signer.revocations(iat=time.time() - 600, exp=time.time() - 300)

    assert reason_of(signer, signer.permit(), revocations=expired) == "stale_revocations"


def test_revocation_list_with_old_iat_and_passed_exp_is_stale(signer: HubSigner) -> None:
    stale = signer.revocations(iat=time.time() - 86400 * 3, exp=time.time() - 86400 * 2)

    with pytest.raises(VerificationError) as info:
        verify(signer, signer.permit(), revocations=stale)
    assert info.value.reason == "stale_revocations"
    assert info.value.claims is not None  # attributable: the permit itself verified


@pytest.mark.parametrize(
    "defect",
    ["foreign key", "permit instead of list", "other issuer", "bare strings", "garbage"],
)
def test_untrustworthy_revocation_list_fails_closed(signer: HubSigner, defect: str) -> None:
    bad = {
        "foreign key": lambda: signer.sign(
            {"iss": ISSUER, "iat": int(time.time()), "revoked": []},
            typ="lifes-revocations+jwt",
            key=Ed25519PrivateKey.generate(),
        ),
        "permit instead of list": lambda: signer.permit(),
        "other issuer": lambda: signer.revocations(iss="https://evil.example"),
        "bare strings": lambda: signer.sign(
            {"iss": ISSUER, "iat": int(time.time()), "revoked": ["jti-1"]},
            typ="lifes-revocations+jwt",
        ),
        "garbage": lambda: "not-a-token",
    }[defect]()

    assert reason_of(signer, signer.permit(), revocations=bad) == "stale_revocations"


def test_revocation_list_missing_from_claims_is_stale(signer: HubSigner) -> None:
    token = signer.revocations()
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    del claims["revoked"]
    bad = signer.sign(claims, typ="lifes-revocations+jwt")

    assert reason_of(signer, signer.permit(), revocations=bad) == "stale_revocations"


def test_verified_revocation_list_object_is_accepted(signer: HubSigner) -> None:
    claims = signer.permit_claims()
    rlist = verify_revocation_list(
        signer.revocations([claims["jti"]]), jwks=signer.jwks(), issuer=ISSUER
    )

    assert isinstance(rlist, RevocationList)
    assert rlist.is_revoked(claims["jti"])
    token = signer.sign(claims, typ="lifes-permit+jwt")
    assert reason_of(signer, token, revocations=rlist) == "revoked"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "eyJ!.e30.AA",
        f"{b64(b'not json')}.e30.{'A' * 86}",
        f"{segment(['a', 'list'])}.e30.{'A' * 86}",
        "  \n",
    ],
)
def test_malformed_tokens(signer: HubSigner, token: str) -> None:
    assert reason_of(signer, token) == "malformed"


def test_signed_payload_that_is_not_json_is_malformed(signer: HubSigner) -> None:
    header = segment({"alg": "EdDSA", "kid": signer.kid, "typ": "lifes-permit+jwt"})
    signing_input = f"{header}.{b64(b'{not json')}"
    token = f"{signing_input}.{b64(signer.key.sign(signing_input.encode()))}"

    assert reason_of(signer, token) == "malformed"


def test_wrong_typ_is_malformed(signer: HubSigner) -> None:
    assert reason_of(signer, signer.permit(typ="JWT")) == "malformed"
    assert reason_of(signer, signer.revocations()) == "malformed"
    assert verify(signer, signer.permit(typ="application/LIFES-permit+jwt"))


def test_missing_or_mistyped_time_claims_are_malformed(signer: HubSigner) -> None:
    assert reason_of(signer, signer.permit(exp=None)) == "malformed"
    assert reason_of(signer, signer.permit(exp="tomorrow")) == "malformed"
    assert reason_of(signer, signer.permit(nbf=True)) == "malformed"
    assert reason_of(signer, signer.permit(jti=None)) == "malformed"
    assert reason_of(signer, signer.permit(exp=float("nan"))) == "malformed"
    assert reason_of(signer, signer.permit(exp=10**400)) == "malformed"
    assert reason_of(signer, signer.permit(permit="all data")) == "malformed"


def test_checks_run_in_the_documented_order(signer: HubSigner) -> None:
    past = int(time.time()) - 7200
    expired_elsewhere = signer.permit(aud=["node-utrecht"], exp=past)
    expired_from_evil = signer.permit(iss="https://evil.example", exp=past)
    forged_expired = signer.permit(key=Ed25519PrivateKey.generate(), exp=past)
    stale = signer.revocations(iat=past, exp=past + 60)

    assert reason_of(signer, expired_elsewhere) == "wrong_audience"
    assert reason_of(signer, expired_from_evil) == "bad_issuer"
    assert reason_of(signer, forged_expired) == "bad_signature"
    assert reason_of(signer, signer.permit(exp=past), revocations=stale) == "expired"
    assert reason_of(signer, signer.permit(kid="nope", exp=past)) == "unknown_key"


def test_untrusted_failures_carry_no_claims(signer: HubSigner) -> None:
    with pytest.raises(VerificationError) as info:
        verify(signer, signer.permit(key=Ed25519PrivateKey.generate()))
    assert info.value.claims is None

    with pytest.raises(VerificationError) as info:
        verify(signer, signer.permit(exp=int(time.time()) - 3600))
    assert info.value.claims["exp"] < time.time()


def test_jwks_ignores_other_keys_and_drops_ambiguous_kids(signer: HubSigner) -> None:
    other = Ed25519PrivateKey.generate()
    jwks = {
        "keys": [
            {"kty": "RSA", "kid": "rsa-1", "n": "AQAB", "e": "AQAB"},
            {**public_jwk(other), "kid": "enc-key", "use": "enc"},
            {**public_jwk(signer.key), "kid": signer.kid},
        ]
    }
    assert KeySet.from_jwks(jwks).kids == [signer.kid]
    assert verify(signer, signer.permit(), jwks=jwks)

    jwks["keys"].append({**public_jwk(other), "kid": signer.kid})
    assert reason_of(signer, signer.permit(), jwks=jwks) == "unknown_key"


def test_agrees_with_pyjwt_decoding(signer: HubSigner) -> None:
    token = signer.permit()
    expected = jwt.decode(
        token, signer.key.public_key(), algorithms=["EdDSA"], audience=NODE_ID, issuer=ISSUER
    )
    assert verify(signer, token) == expected


def test_independent_jose_implementation_agrees(signer: HubSigner) -> None:
    """jwcrypto verifies what the node verifies, and the node verifies what jwcrypto signs."""
    # given: the hub's JWKS as an independent library sees it
    token = signer.permit()
    jwk = jwc_jwk.JWK(**signer.jwks()["keys"][0])

    # when: jwcrypto checks a permit signed through PyJWT
    checked = jwc_jws.JWS()
    checked.deserialize(token)
    checked.verify(jwk, alg="EdDSA")

    # then
    assert json.loads(checked.payload) == verify(signer, token)

    # and: a permit signed by jwcrypto passes the node's verifier
    private = jwc_jwk.JWK.from_pem(
        signer.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    claims = signer.permit_claims()
    other = jwc_jws.JWS(json.dumps(claims).encode())
    other.add_signature(
        private,
        alg="EdDSA",
        protected={"alg": "EdDSA", "kid": signer.kid, "typ": "lifes-permit+jwt"},
    )
    assert verify(signer, other.serialize(compact=True)) == claims
