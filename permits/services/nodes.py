"""What nodes write: their receipt-signing key, and the receipts of their runs."""

from __future__ import annotations

import binascii
import datetime as dt
import math
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from catalogue.models import Node
from catalogue.services import node_public_key_set
from lifes.errors import DomainError, InvalidInput, NotAllowed, NotFound
from lifes.parsers import HostileInput, check_tree
from lifes_node.errors import VerificationError
from lifes_node.keys import b64url_decode, jwk_thumbprint
from lifes_node.receipt import verify_receipt
from permits.errors import Code
from permits.models import ExecutionReceipt, Permit, ReceiptStatus

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_RECEIPT_BYTES = 64 * 1024
# A receipt's iat may be ahead of the hub's clock by this much (node clocks drift), no more.
RECEIPT_MAX_CLOCK_AHEAD = 3600


# --- the node's key ----------------------------------------------------------------------------


def normalise_node_jwk(jwk: Any) -> dict[str, str]:
    """An Ed25519 public JWK as the hub stores it (``kid`` = RFC 7638 thumbprint, which is what
    ``lifes-node`` puts in a receipt header). A private key (``d``) is refused, never stored."""
    errors: dict[str, list[str]] = {}
    if not isinstance(jwk, dict):
        raise InvalidInput(
            _("Send the node's public key as a JWK object."),
            errors={"jwk": [_("must be a JSON object")]},
        )
    if "d" in jwk:
        raise InvalidInput(
            _(
                "That is a private key. Send only the public JWK "
                "(`lifes-node keygen` prints it); keep the private key at the node."
            ),
            code=Code.PRIVATE_KEY_SENT,
            errors={"jwk.d": [_("must not be sent")]},
        )
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        errors["jwk"] = ["must be an Ed25519 key: kty OKP, crv Ed25519"]
    x = jwk.get("x")
    try:
        if not isinstance(x, str) or len(b64url_decode(x)) != 32:
            raise ValueError
    except (ValueError, binascii.Error):
        errors["jwk.x"] = ["must be the 32-byte public key, base64url without padding"]
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", "EdDSA") != "EdDSA":
        errors["jwk.alg"] = ["must be a signature key for EdDSA"]
    if errors:
        raise InvalidInput(_("The key is not an Ed25519 public JWK."), errors=errors)
    kid = jwk_thumbprint(jwk)
    if "kid" in jwk and jwk["kid"] != kid:
        raise InvalidInput(
            _("The kid is not the key's RFC 7638 thumbprint."),
            errors={"jwk.kid": [_("expected %(kid)s") % {"kid": kid}]},
        )
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


def node_key_register(*, actor: Any, jwk: Any) -> Node:
    """A node registers the public key its receipts are signed with.

    First registration (and registering the same key again) is the node's to do; replacing a
    registered key with another is hub staff's (``catalogue.services.node_public_key_set``), so a
    stolen API token alone cannot start forging receipts.
    """
    node = node_of(actor)
    key = normalise_node_jwk(jwk)
    current = node.public_key_jwk or {}
    if current.get("x") == key["x"]:
        return node
    if current.get("x"):
        raise DomainError(
            _("This node already has a receipt key; hub staff replace it."),
            code=Code.NODE_KEY_ALREADY_SET,
        )
    return node_public_key_set(actor=actor, node=node, jwk=key)


def node_of(user: Any) -> Node:
    """The node a machine user signs in for; anyone else is refused (403)."""
    node = None
    if user is not None and getattr(user, "is_machine", False):
        node = Node.objects.filter(identity=user).first()
    if node is None:
        raise NotAllowed(
            _("Only a node's own credential may use the node API."), code=Code.NOT_A_NODE
        )
    if node.status == "retired":
        raise NotAllowed(_("This node is retired."), code=Code.NODE_RETIRED)
    return node


# --- receipts ----------------------------------------------------------------------------------


def _instant(value: Any, path: str, errors: dict[str, list[str]]) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    errors.setdefault(path, []).append("must be an ISO 8601 time with a zone, or null")
    return None


def _count(value: Any, path: str, errors: dict[str, list[str]]) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    errors.setdefault(path, []).append("must be a whole number >= 0, or null")
    return None


def _digest(value: Any, path: str, errors: dict[str, list[str]]) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and DIGEST.match(value):
        return value
    errors.setdefault(path, []).append("must be sha256: and 64 lowercase hex digits, or null")
    return ""


def _text(value: Any, path: str, errors: dict[str, list[str]], limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and len(value) <= limit:
        return value
    errors.setdefault(path, []).append(f"must be a string of at most {limit} characters, or null")
    return ""


def parse_receipt_body(claims: dict[str, Any]) -> dict[str, Any]:
    """The fields of a verified receipt (lifes_node/README.md, "Receipts"), checked for shape;
    every problem is named by its path so the node's operator sees what to fix."""
    errors: dict[str, list[str]] = {}
    body = claims.get("receipt")
    if not isinstance(body, dict):
        raise InvalidInput(
            _("The receipt has no 'receipt' object."),
            code=Code.INVALID_RECEIPT,
            errors={"receipt": [_("must be an object")]},
        )
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 100:
        errors["jti"] = ["must be a string of 1 to 100 characters"]
    try:
        # NUL characters, lone surrogates or deep nesting anywhere in the signed claims would
        # reach PostgreSQL (jsonb and text refuse NUL) or our walkers: refused whole, first.
        check_tree(claims, settings.API_JSON_MAX_DEPTH)
    except HostileInput as exc:
        raise InvalidInput(
            _("The receipt is not acceptable: %(why)s") % {"why": exc.message},
            code=Code.INVALID_RECEIPT,
        ) from None
    iat = claims.get("iat")
    latest = timezone.now().timestamp() + RECEIPT_MAX_CLOCK_AHEAD
    if (
        isinstance(iat, bool)
        or not isinstance(iat, int | float)
        or not math.isfinite(iat)
        or not 0 <= iat <= latest
    ):
        errors["iat"] = [
            "must be a finite number of seconds since the epoch, not after the hub's clock"
        ]
    status = body.get("status")
    if status not in ReceiptStatus.values:
        errors["receipt.status"] = [f"must be one of {', '.join(ReceiptStatus.values)}"]
    disclosure = body.get("disclosure")
    if not isinstance(disclosure, dict) or not isinstance(disclosure.get("passed"), bool):
        errors["receipt.disclosure"] = ['must be an object with a boolean "passed"']
    number = body.get("permit")
    if not isinstance(number, str) or not number:
        errors["receipt.permit"] = ["must name the permit number"]
    parsed = {
        "number": number,
        "permit_jti": _text(body.get("permit_jti"), "receipt.permit_jti", errors, 64),
        "dataset_identifier": _text(body.get("dataset"), "receipt.dataset", errors, 100),
        "algorithm_digest": _digest(
            body.get("algorithm_digest"), "receipt.algorithm_digest", errors
        ),
        "started_at": _instant(body.get("started_at"), "receipt.started_at", errors),
        "ended_at": _instant(body.get("ended_at"), "receipt.ended_at", errors),
        "cohort_version": _count(body.get("cohort_version"), "receipt.cohort_version", errors),
        "cohort_digest": _digest(body.get("cohort_digest"), "receipt.cohort_digest", errors),
        "cohort_size": _count(body.get("cohort_size"), "receipt.cohort_size", errors),
        "output_digest": _digest(body.get("output_digest"), "receipt.output_digest", errors),
        "reason": _text(body.get("reason"), "receipt.reason", errors, 64),
        "status": status,
        "disclosure": disclosure if isinstance(disclosure, dict) else {},
        "jti": jti,
        "iat": iat,
    }
    if errors:
        raise InvalidInput(
            _("The receipt is not in the receipt format."), code=Code.INVALID_RECEIPT, errors=errors
        )
    return parsed


def receipt_record(*, actor: Any, token: Any) -> ExecutionReceipt:
    """Store a node's signed receipt, after checking it as ``lifes_node`` says the hub should:
    EdDSA with the node's registered key, issued by this node, for this hub, about a permit
    addressed to this node. A receipt already stored (same ``jti``) is refused with 409, which
    the node treats as delivered."""
    node = node_of(actor)
    if not isinstance(token, str) or not token.strip():
        raise InvalidInput(
            _("Send the receipt as a compact JWS string."),
            code=Code.INVALID_RECEIPT,
            errors={"receipt": [_("must be a non-empty string")]},
        )
    token = token.strip()
    if len(token) > MAX_RECEIPT_BYTES:
        raise InvalidInput(
            _("The receipt is too large."),
            code=Code.INVALID_RECEIPT,
            errors={"receipt": [_("at most %(n)d bytes") % {"n": MAX_RECEIPT_BYTES}]},
        )
    if not (node.public_key_jwk or {}).get("x"):
        raise NotAllowed(
            _(
                "This node has no registered receipt key: POST /api/v1/node/keys "
                "with its public JWK first."
            ),
            code=Code.NODE_KEY_MISSING,
        )
    try:
        claims = verify_receipt(
            token, node_jwks=node.public_key_jwk, node_id=node.identifier, hub_url=settings.HUB_URL
        )
    except VerificationError as exc:
        raise InvalidInput(
            _("The receipt does not verify: %(why)s") % {"why": exc.message},
            code=f"receipt_{exc.reason}",
        ) from None
    fields = parse_receipt_body(claims)
    permit = Permit.objects.filter(number=fields["number"]).first()
    if permit is None:
        raise NotFound(_("No permit with this number."), code=Code.PERMIT_NOT_FOUND)
    entries = {e.dataset.slug: e for e in permit.permit_datasets.select_related("dataset")}
    if not any(e.node_identifier == node.identifier for e in entries.values()):
        raise NotAllowed(
            _("This permit is not addressed to this node."), code=Code.PERMIT_NOT_ADDRESSED
        )
    if fields["permit_jti"] and fields["permit_jti"] != str(permit.jti):
        raise InvalidInput(
            _("The receipt names another permit id (jti) than this permit's."),
            code=Code.PERMIT_MISMATCH,
            errors={"receipt.permit_jti": [_("does not match the permit number")]},
        )
    entry = entries.get(fields["dataset_identifier"])
    with transaction.atomic():
        if ExecutionReceipt.objects.filter(jti=fields["jti"]).exists():
            raise DomainError(_("This receipt is already stored."), code=Code.RECEIPT_DUPLICATE)
        try:
            with transaction.atomic():
                receipt = ExecutionReceipt.objects.create(
                    permit=permit,
                    node=node,
                    dataset=entry.dataset
                    if entry and entry.node_identifier == node.identifier
                    else None,
                    dataset_identifier=fields["dataset_identifier"],
                    algorithm_digest=fields["algorithm_digest"],
                    started_at=fields["started_at"],
                    ended_at=fields["ended_at"],
                    cohort_version=fields["cohort_version"],
                    cohort_digest=fields["cohort_digest"],
                    cohort_size=fields["cohort_size"],
                    output_digest=fields["output_digest"],
                    is_disclosure_passed=fields["disclosure"].get("passed") is True,
                    disclosure=fields["disclosure"],
                    status=fields["status"],
                    reason=fields["reason"],
                    jti=fields["jti"],
                    issued_at=dt.datetime.fromtimestamp(fields["iat"], tz=dt.UTC),
                    received_at=timezone.now(),
                    token=token,
                )
        except IntegrityError:
            raise DomainError(
                _("This receipt is already stored."), code=Code.RECEIPT_DUPLICATE
            ) from None
        audit_record(
            actor=node,
            action="receipt.record",
            target=receipt,
            payload={
                "permit": permit.number,
                "jti": receipt.jti,
                "status": receipt.status,
                "reason": receipt.reason,
                "dataset": receipt.dataset_identifier,
                "algorithm_digest": receipt.algorithm_digest,
                "cohort_version": receipt.cohort_version,
                "cohort_digest": receipt.cohort_digest,
                "cohort_size": receipt.cohort_size,
                "output_digest": receipt.output_digest,
                "disclosure_passed": receipt.is_disclosure_passed,
            },
        )
    return receipt
