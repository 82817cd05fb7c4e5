"""Offline verification of hub permits and of the hub's signed revocation list.

The checks run in a fixed order and the first failure names the reason, so the same bad token
always yields the same code (operators and the hub's tests depend on it):

1. compact JWS structure and JSON header ........................ ``malformed``
2. ``alg`` is exactly ``EdDSA`` (no ``none``, no HS*/RS* confusion) ``bad_algorithm``
3. ``kid`` names an Ed25519 key in the hub JWKS .................. ``unknown_key``
4. Ed25519 signature over ``header.payload`` ..................... ``bad_signature``
5. JSON payload, ``typ`` ``lifes-permit+jwt``, claim types ........ ``malformed``
6. ``iss`` is the hub ............................................ ``bad_issuer``
7. ``aud`` (string or list) contains this node ................... ``wrong_audience``
8. ``nbf`` (and ``iat``) not in the future, with leeway .......... ``not_yet_valid``
9. ``exp`` not passed, with leeway ............................... ``expired``
10. revocation list valid and fresh ............................. ``stale_revocations``
11. permit ``jti`` not on the list .............................. ``revoked``

The algorithm is never taken from the token: the only verifier ever used is PyJWT's ``EdDSA``
implementation with the key chosen by ``kid``. The token text is validated with one regular
expression and decoded with strict base64url before any JSON parsing, which also keeps the
per-permit overhead small next to the Ed25519 verification itself (see bench/bench_verify.py).
"""

from __future__ import annotations

import binascii
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jwt.algorithms import OKPAlgorithm

from lifes_node.errors import (
    BAD_ALGORITHM,
    BAD_ISSUER,
    BAD_SIGNATURE,
    EXPIRED,
    MALFORMED,
    NOT_YET_VALID,
    REVOKED,
    STALE_REVOCATIONS,
    UNKNOWN_KEY,
    WRONG_AUDIENCE,
    VerificationError,
)
from lifes_node.keys import KeySet, as_keyset

PERMIT_TYP = "lifes-permit+jwt"
REVOCATIONS_TYP = "lifes-revocations+jwt"
RECEIPT_TYP = "lifes-receipt+jwt"
ALGORITHM = "EdDSA"
DEFAULT_LEEWAY = 30.0
DEFAULT_MAX_REVOCATION_AGE = 3600.0

_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_EDDSA = OKPAlgorithm()  # PyJWT's EdDSA; the only verifier used, whatever the token says

JWKSLike = KeySet | Mapping[str, Any] | str | bytes


def _typ_matches(value: object, expected: str) -> bool:
    """RFC 8725 §3.11: media types compare case-insensitively; ``application/`` may be omitted."""
    if not isinstance(value, str):
        return False
    value = value.lower()
    return value == expected or value == "application/" + expected


def same_issuer(claimed: object, expected: str) -> bool:
    """Exact match, tolerating only a trailing slash (``https://hub/`` == ``https://hub``)."""
    return isinstance(claimed, str) and claimed.rstrip("/") == expected.rstrip("/")


_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_JSON = json.JSONDecoder()
_HEADER_CACHE: dict[str, dict[str, Any]] = {}
_HEADER_CACHE_MAX = 64


def _segment(seg: str) -> bytes:
    """Decode one segment already known (by ``_COMPACT``) to use only the base64url alphabet."""
    return binascii.a2b_base64(seg.encode("ascii").translate(_TO_STANDARD) + _PADDING[len(seg) % 4])


def _json_object(seg: str) -> object:
    return _JSON.decode(_segment(seg).decode("utf-8"))


def _header(seg: str, what: str) -> dict[str, Any]:
    """Parse a JOSE header; the few distinct headers a hub emits are cached (treat as read-only)."""
    header = _HEADER_CACHE.get(seg)
    if header is None:
        try:
            header = _json_object(seg)
        except (ValueError, KeyError, RecursionError):
            raise VerificationError(MALFORMED, f"{what} header is not base64url JSON") from None
        if not isinstance(header, dict):
            raise VerificationError(MALFORMED, f"{what} header is not a JSON object")
        if len(_HEADER_CACHE) >= _HEADER_CACHE_MAX:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[seg] = header
    return header


def decode_jws(
    token: str | bytes, keys: KeySet, *, expected_typ: str, what: str = "permit"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Steps 1-5 above: return ``(header, claims)`` of a compact JWS signed by one of ``keys``."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise VerificationError(MALFORMED, f"{what} is not ASCII") from None
    token = token.strip()
    if not _COMPACT.fullmatch(token):
        raise VerificationError(MALFORMED, f"{what} is not a compact JWS (header.payload.sig)")
    signing_input, _, sig_seg = token.rpartition(".")
    header_seg, _, payload_seg = signing_input.partition(".")
    header = _header(header_seg, what)

    alg = header.get("alg")
    if alg != ALGORITHM:
        raise VerificationError(BAD_ALGORITHM, f"{what} alg {alg!r} refused; only EdDSA is allowed")
    if "crit" in header or header.get("b64", True) is not True:
        raise VerificationError(MALFORMED, f"{what} uses JWS extensions this node does not know")

    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise VerificationError(UNKNOWN_KEY, f"{what} header has no kid")
    key = keys.get(kid)
    if key is None:
        raise VerificationError(UNKNOWN_KEY, f"kid {kid!r} is not an Ed25519 key in the hub JWKS")

    # An Ed25519 signature is 64 bytes = 86 base64url characters whose last one carries two
    # unused (zero) bits; demanding that keeps exactly one valid text per signature.
    if len(sig_seg) != 86 or sig_seg[-1] not in "AQgw":
        raise VerificationError(BAD_SIGNATURE, f"{what} signature is not a 64-byte Ed25519 value")
    if not _EDDSA.verify(signing_input.encode("ascii"), key, _segment(sig_seg)):
        raise VerificationError(BAD_SIGNATURE, f"{what} signature does not verify with {kid!r}")

    try:
        claims = _json_object(payload_seg)
    except (ValueError, KeyError, RecursionError):
        raise VerificationError(MALFORMED, f"{what} payload is not base64url JSON") from None
    if not isinstance(claims, dict):
        raise VerificationError(MALFORMED, f"{what} payload is not a JSON object")
    if not _typ_matches(header.get("typ"), expected_typ):
        raise VerificationError(
            MALFORMED, f"typ {header.get('typ')!r} is not {expected_typ!r}; not a {what}"
        )
    return header, claims


def _numeric(claims: Mapping[str, Any], name: str, what: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VerificationError(MALFORMED, f"{what} claim {name!r} missing or not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):  # NaN compares false with everything: it would never expire
        raise VerificationError(MALFORMED, f"{what} claim {name!r} is not a finite number")
    return number


# --- revocation list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RevocationList:
    """A verified revocation list. Its signature never changes, its freshness does: call
    :meth:`check_fresh` at every use, not once when it was fetched."""

    issuer: str
    issued_at: float
    expires_at: float | None
    revoked: frozenset[str]
    entries: tuple[Mapping[str, Any], ...] = ()
    token: str = field(default="", repr=False)

    def is_revoked(self, jti: str) -> bool:
        return jti in self.revoked

    def check_fresh(
        self,
        *,
        now: float | None = None,
        max_age: float | None = None,
        leeway: float = DEFAULT_LEEWAY,
        claims: dict[str, Any] | None = None,
    ) -> None:
        """Fail closed with ``stale_revocations`` when the list is expired or too old."""
        now = time.time() if now is None else now
        max_age = DEFAULT_MAX_REVOCATION_AGE if max_age is None else max_age
        if self.expires_at is not None and self.expires_at <= now - leeway:
            raise VerificationError(
                STALE_REVOCATIONS,
                f"revocation list expired {now - self.expires_at:.0f} s ago",
                claims=claims,
            )
        age = now - self.issued_at
        if age > max_age:
            raise VerificationError(
                STALE_REVOCATIONS,
                f"revocation list is {age:.0f} s old; at most {max_age:.0f} s allowed",
                claims=claims,
            )


def _stale(message: str) -> VerificationError:
    return VerificationError(STALE_REVOCATIONS, f"revocation list unusable: {message}")


def verify_revocation_list(
    token: str | bytes,
    *,
    jwks: JWKSLike,
    issuer: str,
    leeway: float = DEFAULT_LEEWAY,
    now: float | None = None,
) -> RevocationList:
    """Verify the list's signature (same JWKS as permits), ``typ`` and issuer.

    Any defect is reported as ``stale_revocations``: whatever the cause, the node then has no
    current, trustworthy list, and it must not run anything (fail closed).
    """
    keys = as_keyset(jwks)
    try:
        _, claims = decode_jws(token, keys, expected_typ=REVOCATIONS_TYP, what="revocation list")
    except VerificationError as err:
        raise _stale(f"{err.reason}: {err.message}") from None
    if not same_issuer(claims.get("iss"), issuer):
        raise _stale(f"issuer {claims.get('iss')!r} is not {issuer!r}")
    try:
        issued_at = _numeric(claims, "iat", "revocation list", required=True)
        expires_at = _numeric(claims, "exp", "revocation list", required=False)
    except VerificationError as err:
        raise _stale(err.message) from None
    now = time.time() if now is None else now
    if issued_at is not None and issued_at > now + leeway:
        raise _stale("issued in the future (check the node clock)")
    entries = claims.get("revoked")
    if not isinstance(entries, list) or not all(
        isinstance(e, Mapping) and isinstance(e.get("jti"), str) for e in entries
    ):
        raise _stale('"revoked" must be a list of objects with a string "jti"')
    text = token.decode("ascii") if isinstance(token, bytes) else token
    return RevocationList(
        issuer=claims["iss"],
        issued_at=float(issued_at or 0.0),
        expires_at=expires_at,
        revoked=frozenset(e["jti"] for e in entries),
        entries=tuple(entries),
        token=text.strip(),
    )


_RL_CACHE: dict[tuple[str, str, tuple], RevocationList] = {}
_RL_CACHE_MAX = 32


def _revocation_list(
    revocations: RevocationList | str | bytes, keys: KeySet, issuer: str, leeway: float, now: float
) -> RevocationList:
    """Verified lists are cached by (token, issuer, keys): a node checks the same list against
    every permit until it fetches the next one, and its signature cannot change."""
    if isinstance(revocations, RevocationList):
        if not same_issuer(revocations.issuer, issuer):
            raise _stale(f"issuer {revocations.issuer!r} is not {issuer!r}")
        return revocations
    text = revocations.decode("ascii", "replace") if isinstance(revocations, bytes) else revocations
    cache_key = (text.strip(), issuer.rstrip("/"), keys.fingerprint)
    found = _RL_CACHE.get(cache_key)
    if found is None:
        found = verify_revocation_list(text, jwks=keys, issuer=issuer, leeway=leeway, now=now)
        if len(_RL_CACHE) >= _RL_CACHE_MAX:
            _RL_CACHE.clear()
        _RL_CACHE[cache_key] = found
    return found


# --- permits ------------------------------------------------------------------------------------


def verify_permit(
    token: str | bytes,
    *,
    jwks: JWKSLike,
    issuer: str,
    node_id: str,
    revocations: RevocationList | str | bytes | None = None,
    max_revocation_age: float | None = None,
    now: float | None = None,
    leeway: float = DEFAULT_LEEWAY,
) -> dict[str, Any]:
    """Return the permit's verified claims, or raise :class:`VerificationError` with the reason.

    ``revocations`` is the compact JWS of the hub's revocation list (or an already verified
    :class:`RevocationList`); when given, it must be fresh (``max_revocation_age`` defaults to
    one hour, ``float("inf")`` disables the age limit but not the list's own ``exp``).
    """
    keys = as_keyset(jwks)
    _, claims = decode_jws(token, keys, expected_typ=PERMIT_TYP, what="permit")
    now = time.time() if now is None else now

    exp = _numeric(claims, "exp", "permit", required=True)
    nbf = _numeric(claims, "nbf", "permit", required=True)
    iat = _numeric(claims, "iat", "permit", required=True)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise VerificationError(MALFORMED, "permit claim 'jti' missing or not a string")
    if not isinstance(claims.get("permit"), dict):
        raise VerificationError(MALFORMED, "permit claim 'permit' missing or not an object")

    if not same_issuer(claims.get("iss"), issuer):
        raise VerificationError(BAD_ISSUER, f"issuer {claims.get('iss')!r} is not {issuer!r}")

    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if node_id not in audiences:
        raise VerificationError(
            WRONG_AUDIENCE, f"node {node_id!r} is not in the permit audience", claims=claims
        )
    if nbf > now + leeway or iat > now + leeway:
        start = max(nbf, iat)
        message = f"permit valid from {_iso(start)} (in {start - now:.0f} s)"
        raise VerificationError(NOT_YET_VALID, message, claims=claims)
    if exp <= now - leeway:
        raise VerificationError(EXPIRED, f"permit expired at {_iso(exp)}", claims=claims)

    if revocations is not None:
        try:
            rlist = _revocation_list(revocations, keys, issuer, leeway, now)
        except VerificationError as err:
            raise VerificationError(err.reason, err.message, claims=claims) from None
        rlist.check_fresh(now=now, max_age=max_revocation_age, leeway=leeway, claims=claims)
        if jti in rlist.revoked:
            message = f"permit {jti} is on the revocation list"
            raise VerificationError(REVOKED, message, claims=claims)
    return claims


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
