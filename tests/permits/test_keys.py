"""The hub's signing keys: JWKS, rotation without breaking issued tokens, keys never in the DB."""

from __future__ import annotations

import json
import stat
import threading
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

from audit.models import AuditEvent
from audit.services import chain_verify
from lifes.errors import NotAllowed
from lifes_node.keys import b64url_encode
from permits import keys
from permits.models import SigningKey, SigningKeyStatus
from tests.conftest import requires_postgres

PERMIT_TYP = "lifes-permit+jwt"


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    settings.SIGNING_KEY_DIR = tmp_path / "keys"
    settings.SIGNING_KEY_PASSPHRASE = ""
    settings.SIGNING_KEY_PEM = ""
    return settings.SIGNING_KEY_DIR


def claims(**extra) -> dict:
    now = timezone.now()
    return {
        "iss": "http://hub.test",
        "sub": "holder",
        "iat": now,
        "exp": now + timedelta(days=30),
        **extra,
    }


def fetch_jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_jwks_lists_the_active_key_in_the_contract_shape(client):
    key = keys.active_key()

    response = client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert "max-age=300" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    body = response.json()
    assert list(body) == ["keys"]
    [published] = body["keys"]
    assert set(published) == {"kty", "crv", "kid", "x", "use", "alg"}
    assert published == {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": key.kid,
        "x": published["x"],
        "use": "sig",
        "alg": "EdDSA",
    }
    assert "d" not in published


@pytest.mark.django_db
def test_kid_is_the_rfc7638_thumbprint():
    key = keys.active_key()

    independent = jwcrypto_jwk.JWK(**{k: key.public_jwk[k] for k in ("kty", "crv", "x")})
    assert key.kid == independent.thumbprint()


@pytest.mark.django_db
def test_the_first_key_is_created_once_and_audited():
    first = keys.active_key()
    again = keys.active_key()

    assert first.kid == again.kid
    assert SigningKey.objects.count() == 1
    event = AuditEvent.objects.get(action="signing_key.created")
    assert event.payload == {"kid": first.kid, "retired": []}
    assert chain_verify().is_intact


@pytest.mark.django_db
def test_a_token_signed_before_rotation_still_verifies_after_it(client):
    # given a permit signed by the first key
    before = keys.sign_jws(claims(jti="p-1"), typ=PERMIT_TYP)
    old_kid = jwt.get_unverified_header(before)["kid"]

    # when the key rotates
    new = keys.rotate(actor=None)

    # then new tokens carry the new kid, and both verify against the published JWKS
    after = keys.sign_jws(claims(jti="p-2"), typ=PERMIT_TYP)
    assert jwt.get_unverified_header(after) == {"alg": "EdDSA", "kid": new.kid, "typ": PERMIT_TYP}
    assert new.kid != old_kid
    published = fetch_jwks(client)
    assert [k["kid"] for k in published["keys"]] == [new.kid, old_kid]
    jwk_set = jwt.PyJWKSet.from_dict(published)
    for token, jti in ((before, "p-1"), (after, "p-2")):
        kid = jwt.get_unverified_header(token)["kid"]
        signing_key = next(k for k in jwk_set.keys if k.key_id == kid)
        decoded = jwt.decode(token, signing_key.key, algorithms=["EdDSA"])
        assert decoded["jti"] == jti
    # and the hub's own verifier agrees
    assert keys.verify_jws(before, typ=PERMIT_TYP)["jti"] == "p-1"
    old = SigningKey.objects.get(kid=old_kid)
    assert old.status == SigningKeyStatus.RETIRED
    assert old.retired_at is not None


@pytest.mark.django_db
def test_tokens_verify_with_an_independent_jose_implementation(client):
    token = keys.sign_jws(claims(jti="p-9", aud=["node-1"]), typ=PERMIT_TYP)
    keys.rotate(actor=None)

    key_set = jwcrypto_jwk.JWKSet.from_json(json.dumps(fetch_jwks(client)))
    verified = jwcrypto_jwt.JWT(jwt=token, key=key_set, algs=["EdDSA"], check_claims={"jti": "p-9"})

    assert json.loads(verified.claims)["aud"] == ["node-1"]
    assert json.loads(verified.header) == {
        "alg": "EdDSA",
        "kid": verified.token.jose_header["kid"],
        "typ": PERMIT_TYP,
    }


@pytest.mark.django_db
def test_retired_keys_leave_the_jwks_when_what_they_signed_has_ended(client):
    first = keys.active_key()
    keys.note_signed_until(first.kid, timezone.now() + timedelta(days=3))
    keys.note_signed_until(first.kid, timezone.now() + timedelta(days=1))  # never moves back
    second = keys.rotate(actor=None)
    assert SigningKey.objects.get(kid=first.kid).not_after > timezone.now() + timedelta(days=2)
    assert [k["kid"] for k in fetch_jwks(client)["keys"]] == [second.kid, first.kid]

    SigningKey.objects.filter(kid=first.kid).update(not_after=timezone.now() - timedelta(seconds=1))

    assert [k["kid"] for k in fetch_jwks(client)["keys"]] == [second.kid]


@pytest.mark.django_db
def test_signing_with_an_expiry_keeps_the_key_published_until_then():
    exp = timezone.now() + timedelta(days=400)
    token = keys.sign_jws(claims(exp=exp), typ=PERMIT_TYP)

    kid = jwt.get_unverified_header(token)["kid"]
    assert SigningKey.objects.get(kid=kid).not_after == exp


@pytest.mark.django_db
def test_private_key_file_is_encrypted_with_the_passphrase_and_never_in_the_db(settings, key_dir):
    settings.SIGNING_KEY_PASSPHRASE = "correct horse battery staple"

    key = keys.active_key()

    path = key_dir / f"{key.kid}.pem"
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    with pytest.raises(TypeError):
        load_pem_private_key(pem, password=None)
    loaded = load_pem_private_key(pem, password=b"correct horse battery staple")
    raw_private = loaded.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert raw_private == key.private_key.private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    # nothing private in any column of the key table
    d = b64url_encode(raw_private)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM permits_signingkey")
        dumped = repr(cursor.fetchall())
    assert d not in dumped
    assert raw_private.hex() not in dumped
    assert "PRIVATE" not in dumped
    assert set(SigningKey.objects.get().public_jwk) == {"kty", "crv", "kid", "x", "use", "alg"}


@pytest.mark.django_db
def test_without_a_passphrase_the_file_is_plain_pkcs8_with_mode_0600(key_dir):
    key = keys.active_key()

    path = key_dir / f"{key.kid}.pem"
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in key_dir.iterdir()] == [f"{key.kid}.pem"]


@pytest.mark.django_db
def test_a_wrong_passphrase_is_a_clear_configuration_error(settings):
    settings.SIGNING_KEY_PASSPHRASE = "one"
    key = keys.active_key()
    keys._private_keys.clear()
    settings.SIGNING_KEY_PASSPHRASE = "two"

    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=f"cannot load the signing key .*{key.kid}"):
        keys.active_key()


@pytest.mark.django_db
def test_rotation_is_audited_and_the_command_prints_both_kids(capsys):
    old = keys.active_key()

    call_command("rotate_signing_key")

    new = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    assert capsys.readouterr().out.splitlines() == [f"retired: {old.kid}", f"active:  {new.kid}"]
    event = AuditEvent.objects.get(action="signing_key.rotated")
    assert (event.object_type, event.object_id) == ("permits.signingkey", str(new.pk))
    assert event.payload == {"kid": new.kid, "retired": [old.kid]}
    assert chain_verify().is_intact


@pytest.mark.django_db
def test_verify_jws_names_what_is_wrong():
    good = keys.sign_jws(claims(), typ=PERMIT_TYP)
    expired = keys.sign_jws(claims(exp=timezone.now() - timedelta(minutes=5)), typ=PERMIT_TYP)
    stranger = jwt.encode(
        claims(),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": "nobody", "typ": PERMIT_TYP},
    )
    header, payload, signature = good.split(".")
    forged_payload = jwt.utils.base64url_encode(json.dumps({"sub": "mallory"}).encode()).decode()
    hs256 = jwt.encode(
        claims(),
        "secret-secret-secret-secret-secret",
        algorithm="HS256",
        headers={"typ": PERMIT_TYP},
    )

    cases = {
        "not a token": "malformed",
        hs256: "bad_algorithm",
        keys.sign_jws(claims(), typ="lifes-revocations+jwt"): "wrong_type",
        stranger: "unknown_key",
        f"{header}.{forged_payload}.{signature}": "bad_signature",
        expired: "expired",
    }
    for token, code in cases.items():
        with pytest.raises(keys.TokenInvalid) as info:
            keys.verify_jws(token, typ=PERMIT_TYP)
        assert info.value.code == code, token
    with pytest.raises(keys.TokenInvalid) as info:
        keys.verify_jws(good, typ=PERMIT_TYP, issuer="http://elsewhere.test")
    assert info.value.code == "bad_issuer"
    assert keys.verify_jws(good, typ=PERMIT_TYP, issuer="http://hub.test")["sub"] == "holder"


@pytest.mark.django_db
def test_tree_head_signer_and_verifier_round_trip(settings):
    claims = {"tree_size": 7, "root_hash": "a" * 64, "timestamp": 1_700_000_000_000}
    token = keys.sign_tree_head(claims)

    assert jwt.get_unverified_header(token)["typ"] == "lifes-tree-head+jwt"
    assert keys.verify_tree_head(token) == {**claims, "iss": settings.HUB_URL}


@pytest.mark.django_db
def test_a_key_from_the_environment_signs_and_deploying_a_new_one_retires_the_old(
    settings, key_dir, client
):
    def pem_of(private_key: Ed25519PrivateKey) -> str:
        return private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()

    file_key = keys.active_key()
    settings.SIGNING_KEY_PEM = pem_of(Ed25519PrivateKey.generate())

    env_key = keys.active_key()
    token = keys.sign_jws(claims(), typ=PERMIT_TYP)

    assert jwt.get_unverified_header(token)["kid"] == env_key.kid
    assert SigningKey.objects.get(kid=env_key.kid).status == SigningKeyStatus.ACTIVE
    assert SigningKey.objects.get(kid=file_key.kid).status == SigningKeyStatus.RETIRED
    assert [k["kid"] for k in fetch_jwks(client)["keys"]] == [env_key.kid, file_key.kid]
    assert not (key_dir / f"{env_key.kid}.pem").exists()
    assert AuditEvent.objects.filter(action="signing_key.activated").count() == 1
    with pytest.raises(NotAllowed):
        keys.rotate(actor=None)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_use_creates_exactly_one_key():
    workers = 6
    barrier = threading.Barrier(workers)
    kids: list[str] = []
    errors: list[BaseException] = []

    def use() -> None:
        try:
            barrier.wait()
            kids.append(keys.active_key().kid)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(kids)) == 1
    assert SigningKey.objects.count() == 1
    assert AuditEvent.objects.filter(action="signing_key.created").count() == 1
