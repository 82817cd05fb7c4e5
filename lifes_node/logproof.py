"""Is this permit in the hub's audit log? (``lifes-node verify --require-logged``)

The hub sends each permit with the inclusion proof of its issue event and the signed tree head
the proof is against (``GET /api/v1/node/permits``, field ``log``). A permit passes when:

1. the tree head is a compact JWS by a hub key (EdDSA, ``typ`` ``lifes-tree-head+jwt``, ``iss``
   the hub) whose payload has the ``tree_size`` and ``root_hash`` the proof uses;
2. ``leaf_data`` is the issue event of *this* permit (action ``permit.issue``, same ``jti``);
3. ``SHA-256(0x00 || leaf_data)`` is ``leaf_hash``, and the audit path leads from it to the
   signed root (RFC 9162 inclusion proof).

Anything missing or wrong is ``not_logged``: the hub cannot show the permit was recorded where
everyone (witnesses, auditors, journalists) can see it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from lifes_node import merkle
from lifes_node.errors import NOT_LOGGED, VerificationError
from lifes_node.keys import KeySet
from lifes_node.verify import decode_jws, same_issuer

TREE_HEAD_TYP = "lifes-tree-head+jwt"


def _hex32(value: object) -> bytes | None:
    if not isinstance(value, str) or len(value) != 64:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def verify_tree_head(token: object, keys: KeySet, *, issuer: str) -> dict[str, Any]:
    """The claims of a signed tree head: ``tree_size`` (int), ``root_hash`` (hex), ``timestamp``."""
    if not isinstance(token, str):
        raise VerificationError(NOT_LOGGED, "no signed tree head")
    try:
        _header, claims = decode_jws(token, keys, expected_typ=TREE_HEAD_TYP, what="tree head")
    except VerificationError as err:
        raise VerificationError(NOT_LOGGED, f"tree head: {err.reason}: {err.message}") from None
    if not same_issuer(claims.get("iss"), issuer):
        raise VerificationError(NOT_LOGGED, "the tree head was not signed by this hub")
    size = claims.get("tree_size")
    if type(size) is not int or size < 1 or _hex32(claims.get("root_hash")) is None:
        raise VerificationError(NOT_LOGGED, "the tree head has no valid tree_size and root_hash")
    return claims


def verify_logged(
    permit_claims: Mapping[str, Any], log: object, keys: KeySet, *, issuer: str
) -> dict[str, Any]:
    """Check ``log`` proves the issue of the permit with ``permit_claims``; return the signed
    tree head's claims. Raises ``VerificationError(not_logged)``."""
    if not isinstance(log, Mapping):
        raise VerificationError(NOT_LOGGED, "the permit came without a log proof")
    head = log.get("tree_head")
    head_claims = verify_tree_head(
        head.get("signed") if isinstance(head, Mapping) else None, keys, issuer=issuer
    )
    size, root = head_claims["tree_size"], bytes.fromhex(head_claims["root_hash"])
    index = log.get("leaf_index")
    if type(index) is not int or log.get("tree_size") != size:
        raise VerificationError(NOT_LOGGED, "the proof is not against the signed tree head")
    try:
        data = base64.b64decode(str(log.get("leaf_data", "")), validate=True)
        event = json.loads(data)
    except (binascii.Error, ValueError):
        raise VerificationError(NOT_LOGGED, "the proof carries no readable leaf_data") from None
    payload = event.get("payload") if isinstance(event, dict) else None
    if (
        not isinstance(payload, dict)
        or event.get("action") != "permit.issue"
        or payload.get("jti") != permit_claims.get("jti")
    ):
        raise VerificationError(NOT_LOGGED, "the logged event is not the issue of this permit")
    digest = merkle.leaf_hash(data)
    if _hex32(log.get("leaf_hash")) != digest:
        raise VerificationError(NOT_LOGGED, "leaf_hash is not the hash of leaf_data")
    path = [_hex32(item) for item in log.get("audit_path") or []]
    if any(item is None for item in path) or not merkle.verify_inclusion(
        index,
        size,
        digest,
        path,
        root,  # type: ignore[arg-type]
    ):
        raise VerificationError(
            NOT_LOGGED, f"the inclusion proof of leaf {index} does not lead to the signed root"
        )
    return head_claims
