"""The hub's signing keys: Ed25519, JWK-thumbprint kids, a JWKS, compact JWS through PyJWT.

The database holds the public half of every key (``SigningKey``); the private half is either a
file ``<kid>.pem`` in ``SIGNING_KEY_DIR`` (PKCS8, encrypted with ``SIGNING_KEY_PASSPHRASE`` when
set, mode 0600) or, for containers, the one key in ``SIGNING_KEY_PEM``. Exactly one key is
active; ``rotate`` retires it, and a retired key stays in the JWKS until every token it signed has
expired (``not_after``), so rotation never breaks a permit already issued.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from lifes.errors import InvalidInput, NotAllowed
from lifes_node.keys import b64url_decode, b64url_encode, jwk_thumbprint
from permits.errors import Code
from permits.models import SigningKey, SigningKeyStatus

ALGORITHM = "EdDSA"
TREE_HEAD_TYP = "lifes-tree-head+jwt"
_KEYS_LOCK = 0x4C49464B45  # pg_advisory_xact_lock key of key creation and rotation


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    private_key: Ed25519PrivateKey
    public_jwk: dict[str, str]


class TokenInvalid(InvalidInput):
    """A token the hub will not accept. ``code`` is one of: ``malformed``, ``bad_algorithm``,
    ``wrong_type``, ``unknown_key``, ``bad_signature``, ``bad_issuer``, ``wrong_audience``,
    ``not_yet_valid``, ``expired`` (the node's reason codes, plus ``wrong_type``)."""

    default_code = "malformed"


# --- JWK helpers -------------------------------------------------------------------------------


def public_jwk_of(public_key: Ed25519PublicKey) -> dict[str, str]:
    x = b64url_encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": x}
    return _published({**jwk, "kid": jwk_thumbprint(jwk)})


def _published(jwk: dict[str, str]) -> dict[str, str]:
    """Exactly the members CONTRACTS.md promises, in a stable order."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": jwk["kid"],
        "x": jwk["x"],
        "use": "sig",
        "alg": ALGORITHM,
    }


def _public_key_of(jwk: dict[str, str]) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))


# --- private keys: files or the environment, never the database --------------------------------

_private_keys: dict[tuple[str, str], Ed25519PrivateKey] = {}


def _passphrase() -> bytes | None:
    return settings.SIGNING_KEY_PASSPHRASE.encode("utf-8") or None


def _load_pem(data: bytes, *, source: str) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(data, password=_passphrase())
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"cannot load the signing key from {source}: {exc} "
            "(is SIGNING_KEY_PASSPHRASE the passphrase it was written with?)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"the signing key in {source} is not an Ed25519 key")
    return key


def _key_dir() -> Path:
    return Path(settings.SIGNING_KEY_DIR)


def _write_private_key(kid: str, private_key: Ed25519PrivateKey) -> Path:
    """Write ``<kid>.pem`` with mode 0600 from the first byte (never world-readable, even
    briefly) and atomically (a crash leaves no half-written key)."""
    passphrase = _passphrase()
    encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)
    directory = _key_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{kid}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        path = directory / f"{kid}.pem"
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _private_key_from_dir(kid: str) -> Ed25519PrivateKey:
    cache_key = (str(_key_dir()), kid)
    key = _private_keys.get(cache_key)
    if key is None:
        path = _key_dir() / f"{kid}.pem"
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ImproperlyConfigured(
                f"the private key of the active signing key {kid} is missing: {path} "
                "(is SIGNING_KEY_DIR right?)"
            ) from exc
        key = _load_pem(data, source=str(path))
        if public_jwk_of(key.public_key())["kid"] != kid:
            raise ImproperlyConfigured(f"{path} does not hold the key {kid}")
        _private_keys[cache_key] = key
    return key


def _private_key_from_env() -> Ed25519PrivateKey:
    cache_key = ("env", hashlib.sha256(settings.SIGNING_KEY_PEM.encode("utf-8")).hexdigest())
    key = _private_keys.get(cache_key)
    if key is None:
        key = _load_pem(settings.SIGNING_KEY_PEM.encode("utf-8"), source="SIGNING_KEY_PEM")
        _private_keys[cache_key] = key
    return key


# --- the key life cycle ------------------------------------------------------------------------


def _retire_active(now: datetime) -> list[str]:
    retired = []
    for key in SigningKey.objects.select_for_update().filter(status=SigningKeyStatus.ACTIVE):
        key.status = SigningKeyStatus.RETIRED
        key.retired_at = now
        key.save(update_fields=["status", "retired_at"])
        retired.append(key.kid)
    return retired


def _create_key(*, actor: Any, action: str, retired: list[str] | None = None) -> SigningKey:
    """A new active key; the caller holds ``_keys_lock`` and has retired the old one."""
    private_key = Ed25519PrivateKey.generate()
    jwk = public_jwk_of(private_key.public_key())
    key = SigningKey.objects.create(kid=jwk["kid"], public_jwk=jwk, status=SigningKeyStatus.ACTIVE)
    # After the row (so a loser of a race writes nothing), before the commit (so no process ever
    # sees an active key whose private half is missing).
    _write_private_key(key.kid, private_key)
    _private_keys[(str(_key_dir()), key.kid)] = private_key
    audit_record(
        actor=actor, action=action, target=key, payload={"kid": key.kid, "retired": retired or []}
    )
    return key


def _keys_lock() -> None:
    """Serialise key creation and rotation for the rest of the transaction (PostgreSQL; SQLite
    has one writer at a time anyway). The partial unique constraint ("one active key") is the
    backstop should anything bypass it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_KEYS_LOCK])


def _first_key() -> SigningKey:
    """Create the first key on demand, one creator at a time (``_keys_lock``)."""
    try:
        with transaction.atomic():
            _keys_lock()
            existing = SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).first()
            if existing is not None:
                return existing
            return _create_key(actor=None, action="signing_key.created")
    except IntegrityError:
        return SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)


def _env_key() -> LoadedKey:
    """The key in SIGNING_KEY_PEM, registered on first use. Deploying a new PEM is the rotation:
    the previous active key is retired then, and stays published like any retired key."""
    private_key = _private_key_from_env()
    jwk = public_jwk_of(private_key.public_key())
    if not SigningKey.objects.filter(kid=jwk["kid"]).exists():
        with transaction.atomic():
            _keys_lock()
            if not SigningKey.objects.filter(kid=jwk["kid"]).exists():
                retired = _retire_active(timezone.now())
                key = SigningKey.objects.create(
                    kid=jwk["kid"], public_jwk=jwk, status=SigningKeyStatus.ACTIVE
                )
                audit_record(
                    actor=None,
                    action="signing_key.activated",
                    target=key,
                    payload={"kid": key.kid, "source": "environment", "retired": retired},
                )
    return LoadedKey(jwk["kid"], private_key, jwk)


def active_key() -> LoadedKey:
    """The key that signs now; the first one is created on demand."""
    if settings.SIGNING_KEY_PEM:
        return _env_key()
    key = SigningKey.objects.filter(status=SigningKeyStatus.ACTIVE).first() or _first_key()
    return LoadedKey(key.kid, _private_key_from_dir(key.kid), _published(key.public_jwk))


def rotate(*, actor: Any) -> SigningKey:
    """Make a new active key; the old one is retired but stays published (see ``jwks``)."""
    if settings.SIGNING_KEY_PEM:
        raise NotAllowed(
            _("The signing key comes from SIGNING_KEY_PEM: rotate by deploying a new one."),
            code=Code.KEY_FROM_ENVIRONMENT,
        )
    with transaction.atomic():
        _keys_lock()
        retired = _retire_active(timezone.now())
        return _create_key(actor=actor, action="signing_key.rotated", retired=retired)


def note_signed_until(kid: str, moment: datetime) -> None:
    """Keep key ``kid`` published at least until ``moment`` (the expiry of what it signed)."""
    if timezone.is_naive(moment):
        raise ValueError("note_signed_until needs a timezone-aware datetime")
    SigningKey.objects.filter(kid=kid).note_signed_until(moment)


def jwks() -> dict[str, list[dict[str, str]]]:
    """Active keys, and retired keys while anything they signed may still be valid."""
    keys = SigningKey.objects.filter(
        Q(status=SigningKeyStatus.ACTIVE)
        | Q(not_after__isnull=True)
        | Q(not_after__gt=timezone.now())
    ).order_by("-created_at", "-pk")
    return {"keys": [_published(key.public_jwk) for key in keys]}


# --- tokens ------------------------------------------------------------------------------------


def _expiry(claims: dict[str, Any]) -> datetime | None:
    exp = claims.get("exp")
    if isinstance(exp, datetime):
        return exp
    if isinstance(exp, int | float):
        return datetime.fromtimestamp(exp, tz=UTC)
    return None


def sign_jws(claims: dict[str, Any], *, typ: str) -> str:
    """A compact JWS, header ``{"alg": "EdDSA", "kid": ..., "typ": typ}``, by the active key.

    When the claims carry ``exp``, the key is kept published at least until then.
    """
    key = active_key()
    token = jwt.encode(
        claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": typ}
    )
    expiry = _expiry(claims)
    if expiry is not None:
        note_signed_until(key.kid, expiry)
    return token


def verify_jws(
    token: str, *, typ: str, audience: str | None = None, issuer: str | None = None, leeway: int = 0
) -> dict[str, Any]:
    """Verify a token signed by any key the hub has held; return its claims.

    For the hub's own use (nodes verify with the published JWKS). ``exp`` and ``nbf`` are
    checked when present; ``aud`` and ``iss`` only when asked for.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise TokenInvalid("The token is not a compact JWS.", code=Code.MALFORMED) from exc
    if header.get("alg") != ALGORITHM:
        raise TokenInvalid("The token is not signed with EdDSA.", code=Code.BAD_ALGORITHM)
    if header.get("typ") != typ:
        raise TokenInvalid(f"The token is not of type {typ}.", code=Code.WRONG_TYPE)
    kid = header.get("kid")
    key = SigningKey.objects.filter(kid=kid).first() if isinstance(kid, str) else None
    if key is None:
        raise TokenInvalid("The token names a key the hub does not know.", code=Code.UNKNOWN_KEY)
    try:
        return jwt.decode(
            token,
            _public_key_of(key.public_jwk),
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"verify_aud": audience is not None},
        )
    except jwt.InvalidSignatureError as exc:
        raise TokenInvalid("The signature does not verify.", code=Code.BAD_SIGNATURE) from exc
    except jwt.ExpiredSignatureError as exc:
        raise TokenInvalid("The token has expired.", code=Code.EXPIRED) from exc
    except jwt.ImmatureSignatureError as exc:
        raise TokenInvalid("The token is not valid yet.", code=Code.NOT_YET_VALID) from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenInvalid("The token is not for this audience.", code=Code.WRONG_AUDIENCE) from exc
    except jwt.InvalidIssuerError as exc:
        raise TokenInvalid("The token has another issuer.", code=Code.BAD_ISSUER) from exc
    except jwt.InvalidTokenError as exc:
        raise TokenInvalid(f"The token is malformed: {exc}", code=Code.MALFORMED) from exc


def sign_tree_head(claims: dict[str, Any]) -> str:
    """The signer of audit tree heads (``settings.AUDIT_TREE_HEAD_SIGNER``)."""
    return sign_jws({**claims, "iss": settings.HUB_URL}, typ=TREE_HEAD_TYP)


def verify_tree_head(token: str) -> dict[str, Any]:
    """The verifier of audit tree heads (``settings.AUDIT_TREE_HEAD_VERIFIER``)."""
    return verify_jws(token, typ=TREE_HEAD_TYP)
