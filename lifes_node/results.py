"""Uploading a run's results to the hub: the released output together with the run's signed
receipt (``POST /api/v1/node/run-outputs``). The hub stores the file only if its sha256 is the
receipt's ``output_digest``, so only what passed disclosure control here can arrive there, and
serves it to the permit holder's team alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lifes_node.hub import HubClient, HubError
from lifes_node.transport import Response, TransportError

UPLOAD_REFUSED = "upload_refused"
HUB_UNREACHABLE = "hub_unreachable"


@dataclass
class Upload:
    uploaded: bool
    reason: str | None
    detail: str
    answer: dict[str, Any] | None = None


def _answer(resp: Response) -> dict[str, Any]:
    try:
        doc = json.loads(resp.body or b"null")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def content_type_of(filename: str) -> str:
    return "text/csv" if filename.lower().endswith(".csv") else "application/json"


def upload_output(hub: HubClient, *, receipt: str, data: bytes, filename: str) -> Upload:
    """Upload ``data`` with ``receipt``. Already stored (409 ``output_duplicate``) counts as
    uploaded; any other refusal names the hub's code as the reason."""
    try:
        resp = hub.post_output(
            receipt, data, filename=filename, content_type=content_type_of(filename)
        )
    except (TransportError, HubError) as err:
        return Upload(False, HUB_UNREACHABLE, str(err))
    answer = _answer(resp)
    if resp.status == 201:
        return Upload(True, None, f"stored as {answer.get('digest')}", answer)
    code = str(answer.get("code") or UPLOAD_REFUSED)
    if resp.status == 409 and code == "output_duplicate":
        return Upload(True, None, "already stored at the hub", answer)
    return Upload(False, code, f"HTTP {resp.status}: {answer.get('detail', '')}".strip(), answer)
