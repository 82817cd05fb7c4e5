"""Execution receipts: the node's signed statement of what it did with a permit.

A receipt is a compact JWS signed with the node's own Ed25519 key (``kid`` = RFC 7638 thumbprint
of its public JWK, which the hub registers for the node). It is posted to the hub after every run
attempt the hub can attribute to one of its permits, including refusals, so the audit log shows
attempts and not just successes. Receipts that cannot be delivered wait in an outbox directory
and are retried at the start of the next run; none is dropped silently.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lifes_node.errors import BAD_ISSUER, WRONG_AUDIENCE, VerificationError
from lifes_node.files import write_atomic
from lifes_node.hub import HubClient, HubError, describe
from lifes_node.keys import KeySet, as_keyset, load_private_key, public_jwk
from lifes_node.transport import Response, TransportError
from lifes_node.verify import ALGORITHM, RECEIPT_TYP, decode_jws, same_issuer

STATUSES = ("succeeded", "refused", "failed")


def iso_utc(timestamp: float | None = None) -> str:
    """ISO 8601 UTC with a ``Z`` (seconds precision), as receipts carry it."""
    moment = datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class NodeSigner:
    """The node's signing key and the public JWK the hub must know to check receipts."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.jwk = public_jwk(private_key)
        self.kid = self.jwk["kid"]

    @classmethod
    def from_file(cls, path: str | Path) -> NodeSigner:
        return cls(load_private_key(path))

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(
            dict(claims),
            self.private_key,
            algorithm=ALGORITHM,
            headers={"kid": self.kid, "typ": RECEIPT_TYP},
        )


def receipt_claims(
    *, node_id: str, hub_url: str, receipt: Mapping[str, Any], now: float | None = None
) -> dict[str, Any]:
    return {
        "iss": node_id,
        "aud": hub_url,
        "jti": str(uuid.uuid4()),
        "iat": int(time.time() if now is None else now),
        "receipt": dict(receipt),
    }


def verify_receipt(
    token: str,
    *,
    node_jwks: KeySet | Mapping[str, Any],
    node_id: str,
    hub_url: str,
) -> dict[str, Any]:
    """Check a receipt as the hub should: signed by the node's key, issued by it, for this hub.

    ``node_jwks`` is a JWKS (``{"keys": [...]}``) holding the node's registered public key(s).
    Pure Python, so the hub can import it without pulling anything else from this package.
    """
    if isinstance(node_jwks, Mapping) and "keys" not in node_jwks:
        node_jwks = {"keys": [node_jwks]}  # a single JWK is accepted too
    _, claims = decode_jws(token, as_keyset(node_jwks), expected_typ=RECEIPT_TYP, what="receipt")
    if claims.get("iss") != node_id:
        raise VerificationError(BAD_ISSUER, f"receipt issued by {claims.get('iss')!r}")
    if not same_issuer(claims.get("aud"), hub_url):
        raise VerificationError(WRONG_AUDIENCE, f"receipt addressed to {claims.get('aud')!r}")
    return claims


@dataclass
class Delivery:
    posted: bool
    detail: str
    outbox_path: Path | None = None


def _accepted(resp: Response) -> bool:
    # 409: the hub already has this receipt (a retry after a lost response).
    return 200 <= resp.status < 300 or resp.status == 409


def _retryable(resp: Response) -> bool:
    return resp.status >= 500 or resp.status in (408, 425, 429)


class Outbox:
    """Undelivered receipts, one ``<jti>.jwt`` file each; hub rejections go to ``rejected/``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.rejected = self.directory / "rejected"

    def put(self, token: str, jti: str, *, rejected: bool = False) -> Path:
        path = (self.rejected if rejected else self.directory) / f"{jti}.jwt"
        write_atomic(path, token.encode("ascii"))
        return path

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.jwt"), key=lambda p: (p.stat().st_mtime, p.name))

    def flush(self, hub: HubClient) -> dict[str, int]:
        """Retry every pending receipt once; stop at the first transport failure (hub down)."""
        counts = {"sent": 0, "kept": 0, "rejected": 0}
        pending = self.pending()
        for index, path in enumerate(pending):
            try:
                resp = hub.post_receipt(path.read_text("ascii").strip())
            except (TransportError, HubError, OSError):
                counts["kept"] += len(pending) - index
                break
            if _accepted(resp):
                path.unlink(missing_ok=True)
                counts["sent"] += 1
            elif _retryable(resp):
                counts["kept"] += 1
            else:
                self.rejected.mkdir(parents=True, exist_ok=True)
                path.replace(self.rejected / path.name)
                counts["rejected"] += 1
        return counts


def deliver(hub: HubClient, outbox: Outbox, token: str, jti: str) -> Delivery:
    """Post a receipt now; if that fails, park it in the outbox for the next run."""
    try:
        resp = hub.post_receipt(token)
    except (TransportError, HubError) as err:
        return Delivery(False, f"kept in outbox: {err}", outbox.put(token, jti))
    if _accepted(resp):
        return Delivery(True, f"HTTP {resp.status}")
    if _retryable(resp):
        return Delivery(False, f"kept in outbox: {describe(resp)}", outbox.put(token, jti))
    return Delivery(
        False, f"hub rejected the receipt: {describe(resp)}", outbox.put(token, jti, rejected=True)
    )
