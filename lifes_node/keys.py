"""Ed25519 keys: the hub's JWKS (verification) and the node's own key (receipts).

A node verifies thousands of permits against the same few hub keys, so a JWKS is parsed once into
a :class:`KeySet` (kid -> public key object) and reused; callers that pass the raw JWKS dict get
the parsed set from a small cache keyed by the keys' identities.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lifes_node.transport import DEFAULT_TIMEOUT, read_source

JWKS_MAX_BYTES = 1024 * 1024


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_decode(text: str | bytes) -> bytes:
    """Strict unpadded base64url: any character outside the alphabet is an error, not skipped.

    (``base64.urlsafe_b64decode`` silently drops junk characters, which would let two different
    strings decode to the same key or signature.)
    """
    data = text.encode("ascii") if isinstance(text, str) else text
    if b"+" in data or b"/" in data or b"=" in data or len(data) % 4 == 1:
        raise ValueError("not unpadded base64url")
    padded = data.translate(_TO_STANDARD) + b"=" * (-len(data) % 4)
    return binascii.a2b_base64(padded, strict_mode=True)


class JWKSError(ValueError):
    """The JWKS document itself is unusable (not JSON, no ``keys`` list)."""


def _parse_okp(jwk: Mapping[str, Any]) -> Ed25519PublicKey | None:
    """Return the key if ``jwk`` is a usable Ed25519 signature key, else ``None``.

    Keys for other purposes (``use: enc``, other curves, other algorithms) are ignored instead of
    rejected, so a hub can publish them in the same document without breaking nodes.
    """
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", "EdDSA") != "EdDSA":
        return None
    ops = jwk.get("key_ops")
    if ops is not None and "verify" not in ops:
        return None
    x = jwk.get("x")
    if not isinstance(x, str):
        return None
    try:
        raw = b64url_decode(x)
    except (ValueError, binascii.Error):
        return None
    if len(raw) != 32:
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


class KeySet:
    """The hub's verification keys by ``kid``, parsed once.

    Several keys may be live at once (rotation: retired keys stay published while permits signed
    with them are valid). A ``kid`` that appears twice with different key material is dropped:
    picking either one would let whoever controls the JWKS ordering choose the key.
    """

    __slots__ = ("_keys", "fingerprint")

    def __init__(self, keys: Mapping[str, Ed25519PublicKey], fingerprint: tuple = ()) -> None:
        self._keys = dict(keys)
        self.fingerprint = fingerprint or tuple(sorted(self._keys))

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | str | bytes) -> KeySet:
        if isinstance(jwks, str | bytes):
            try:
                jwks = json.loads(jwks)
            except ValueError as err:
                raise JWKSError(f"JWKS is not JSON: {err}") from err
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise JWKSError('JWKS must be an object with a "keys" list')
        found: dict[str, Ed25519PublicKey] = {}
        material: dict[str, str] = {}
        ambiguous: set[str] = set()
        for jwk in jwks["keys"]:
            if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str):
                continue
            key = _parse_okp(jwk)
            if key is None:
                continue
            kid = jwk["kid"]
            if kid in material and material[kid] != jwk["x"]:
                ambiguous.add(kid)
            material[kid] = jwk["x"]
            found[kid] = key
        for kid in ambiguous:
            del found[kid]
            del material[kid]
        return cls(found, tuple(sorted(material.items())))

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)


_KEYSET_CACHE: dict[tuple, KeySet] = {}
_KEYSET_CACHE_MAX = 16


def _identity(jwks: Mapping[str, Any]) -> tuple | None:
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        return None
    ident = []
    for jwk in keys:
        if not isinstance(jwk, Mapping):
            return None
        ident.append(tuple(sorted((k, str(v)) for k, v in jwk.items())))
    return tuple(ident)


def as_keyset(jwks: KeySet | Mapping[str, Any] | str | bytes) -> KeySet:
    """Accept a parsed :class:`KeySet`, a JWKS dict or JSON text; reuse parses of equal JWKS."""
    if isinstance(jwks, KeySet):
        return jwks
    if isinstance(jwks, Mapping):
        ident = _identity(jwks)
        if ident is not None:
            cached = _KEYSET_CACHE.get(ident)
            if cached is None:
                if len(_KEYSET_CACHE) >= _KEYSET_CACHE_MAX:
                    _KEYSET_CACHE.clear()
                cached = _KEYSET_CACHE[ident] = KeySet.from_jwks(jwks)
            return cached
    return KeySet.from_jwks(jwks)


def load_jwks(source: str | Path, *, timeout: float = DEFAULT_TIMEOUT) -> KeySet:
    """Load a JWKS from a file path or URL (raises ``TransportError`` or ``JWKSError``)."""
    return KeySet.from_jwks(read_source(source, timeout=timeout, max_bytes=JWKS_MAX_BYTES))


# --- the node's own key ------------------------------------------------------------------------


def public_jwk(key: Ed25519PublicKey | Ed25519PrivateKey) -> dict[str, str]:
    """The public JWK of a key, with ``kid`` = its RFC 7638 thumbprint."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    return {**jwk, "kid": jwk_thumbprint(jwk), "use": "sig", "alg": "EdDSA"}


# RFC 7638 §3.2 (RSA, EC) and RFC 8037 §2 (OKP): the required members, per key type.
_THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an OKP, EC or RSA key.

    A thumbprint is derived from the key itself, so the hub can check a receipt's ``kid`` against
    the node key it registered without any out-of-band naming scheme. The hub uses this one too
    (its signing keys, node keys and GA4GH visa keys).
    """
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_key(key: Ed25519PrivateKey, path: str | Path, *, overwrite: bool = False) -> None:
    """Write a PKCS#8 PEM readable only by the owner (the key signs receipts for this node)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_pem(key))


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Load the node's Ed25519 signing key (PEM, PKCS#8, unencrypted)."""
    data = Path(path).read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def jwks_document(keys: Iterable[Ed25519PublicKey | Ed25519PrivateKey]) -> dict[str, Any]:
    """A JWKS for the given keys (handy for tests and for publishing a node key)."""
    return {"keys": [public_jwk(key) for key in keys]}
