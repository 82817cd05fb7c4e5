"""Run results: the disclosure-checked aggregate output of a run, uploaded by the node that ran
it together with the run's signed receipt, for the permit holder's team to download.

The receipt is what makes the file trustworthy: it is signed by the node's registered key and
names the output's SHA-256 (``output_digest``); the hub stores a file only when its digest is
exactly that one, for a run that succeeded and passed disclosure control at the node. The file
is private (``lifes.files``); who may read it is the visibility rule's (``run_results``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from lifes.errors import DomainError, InvalidInput, NotAllowed
from lifes_node.keys import b64url_decode
from permits.errors import Code
from permits.models import ExecutionReceipt, ReceiptStatus, RunOutput
from permits.services.nodes import node_of, receipt_record

EXTENSIONS = {"application/json": "json", "text/csv": "csv"}


class OutputTooLarge(InvalidInput):
    status_code = 413
    default_code = Code.OUTPUT_TOO_LARGE


class OutputType(InvalidInput):
    status_code = 415
    default_code = Code.OUTPUT_TYPE


def output_too_large() -> OutputTooLarge:
    return OutputTooLarge(
        _("The output is larger than %(n)d bytes.") % {"n": settings.RUN_OUTPUT_MAX_BYTES},
        errors={"output": [_("at most %(n)d bytes") % {"n": settings.RUN_OUTPUT_MAX_BYTES}]},
    )


def _content_type(declared: str | None, data: bytes) -> str:
    """The declared type, if it is one the hub takes and the bytes are what it says: JSON that
    parses, or CSV that is UTF-8 text. Anything else is refused (415), never stored."""
    content_type = (declared or "").split(";")[0].strip().lower()
    allowed = [t.lower() for t in settings.RUN_OUTPUT_CONTENT_TYPES]
    problem = None
    if content_type not in allowed:
        problem = _("must be one of %(types)s") % {"types": ", ".join(allowed)}
    else:
        try:
            text = data.decode("utf-8")
            if "\x00" in text:
                raise ValueError("NUL")
            if content_type == "application/json":
                json.loads(text)
        except ValueError:
            problem = _("is not valid %(type)s") % {"type": content_type}
    if problem:
        raise OutputType(
            _("The output is not of a type the hub stores."), errors={"output": [problem]}
        )
    return content_type


def _unverified_jti(token: str) -> str | None:
    """The receipt's ``jti``, read without verifying, only to find a stored receipt: the stored
    one was verified when it arrived, and the token must equal it byte for byte."""
    try:
        claims = json.loads(b64url_decode(token.split(".")[1]))
    except (IndexError, ValueError, TypeError):
        return None
    jti = claims.get("jti") if isinstance(claims, dict) else None
    return jti if isinstance(jti, str) else None


def run_output_upload(
    *, actor: Any, token: Any, data: bytes, content_type: str | None
) -> RunOutput:
    """Store the output of a run with its receipt (stored now if the hub has not seen it yet).

    Refused, with nothing written: by anyone but the node whose receipt it is; when the file is
    too large or not of an accepted type; when the run did not succeed or its output did not
    pass disclosure control; when the file's SHA-256 is not the receipt's ``output_digest``;
    when the run's output is already stored (409).
    """
    node = node_of(actor)
    if len(data) > settings.RUN_OUTPUT_MAX_BYTES:
        raise output_too_large()
    content_type = _content_type(content_type, data)
    if not isinstance(token, str) or not token.strip():
        raise InvalidInput(
            _("Send the run's receipt (compact JWS) with its output."),
            code=Code.INVALID_RECEIPT,
            errors={"receipt": [_("must be a non-empty string")]},
        )
    token = token.strip()
    jti = _unverified_jti(token)
    stored = ExecutionReceipt.objects.filter(jti=jti).first() if jti else None
    if stored is not None and stored.node_id != node.pk:
        raise NotAllowed(_("This receipt is another node's."), code=Code.NOT_YOUR_RECEIPT)
    if stored is not None and stored.token != token:
        raise InvalidInput(
            _("A different receipt with this id (jti) is already stored."),
            code=Code.RECEIPT_MISMATCH,
        )
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        receipt = stored or receipt_record(actor=actor, token=token)
        receipt = (
            ExecutionReceipt.objects.select_for_update().select_related("permit").get(pk=receipt.pk)
        )
        if receipt.status != ReceiptStatus.SUCCEEDED or not receipt.is_disclosure_passed:
            raise DomainError(
                _("The receipt is of a run whose output was not released."),
                code=Code.OUTPUT_NOT_RELEASED,
            )
        if receipt.output_digest != digest:
            raise InvalidInput(
                _("The output's SHA-256 is not the one in the signed receipt."),
                code=Code.OUTPUT_DIGEST_MISMATCH,
                errors={"output": [_("expected %(digest)s") % {"digest": receipt.output_digest}]},
            )
        if RunOutput.objects.filter(receipt=receipt).exists():
            raise DomainError(
                _("The output of this run is already stored."), code=Code.OUTPUT_DUPLICATE
            )
        extension = EXTENSIONS.get(content_type, "txt")
        name = f"{receipt.permit.number}-run-{receipt.jti[:8]}.{extension}"
        output = RunOutput(
            receipt=receipt,
            original_name=name,
            content_type=content_type,
            size=len(data),
            digest=digest,
            uploaded_at=timezone.now(),
        )
        output.file.save(name, ContentFile(data), save=False)
        output.save()
        audit_record(
            actor=node,
            action="receipt.output_upload",
            target=output,
            payload={
                "permit": receipt.permit.number,
                "receipt": receipt.jti,
                "digest": digest,
                "size": len(data),
                "content_type": content_type,
            },
        )
    return output
