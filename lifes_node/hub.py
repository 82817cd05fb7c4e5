"""A small client for the hub's node API (keys, revocations, cohorts, receipts).

Endpoints (hub side, see lifes_node/README.md):
``GET /.well-known/jwks.json``, ``GET /api/v1/permits/revocations``,
``GET /api/v1/node/permits/{number}/cohorts/{dataset}``, ``POST /api/v1/node/receipts`` and
``POST /api/v1/node/run-outputs``; the last three authenticate the node with
``Authorization: Token <credential>``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

from lifes_node.transport import DEFAULT_TIMEOUT, Response, TransportError, request

JWKS_PATH = "/.well-known/jwks.json"
REVOCATIONS_PATH = "/api/v1/permits/revocations"
COHORT_PATH = "/api/v1/node/permits/{permit}/cohorts/{dataset}"
RECEIPTS_PATH = "/api/v1/node/receipts"
RESULTS_PATH = "/api/v1/node/run-outputs"


class HubError(Exception):
    """The hub answered, but not with what the node needs (status shown in the message)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def parse_revocations_body(body: bytes | str) -> str:
    """The revocation list endpoint may answer with the bare compact JWS (``application/jwt``)
    or with JSON ``{"token": "..."}`` (or a JSON string); accept all three."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    text = text.strip()
    if text.startswith("{"):
        doc = json.loads(text)
        token = doc.get("token") if isinstance(doc, dict) else None
        if not isinstance(token, str):
            raise ValueError('revocations JSON has no "token" string')
        return token.strip()
    if text.startswith('"'):
        token = json.loads(text)
        if not isinstance(token, str):
            raise ValueError("revocations JSON is not a string")
        return token.strip()
    return text


class HubClient:
    """Thin wrapper: one method per endpoint, no retries (callers decide what fallback is safe)."""

    def __init__(
        self, base_url: str, *, credential: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credential = credential
        self.timeout = timeout

    def url(self, path: str) -> str:
        return self.base_url + path

    def _auth(self) -> dict[str, str]:
        if not self.credential:
            raise HubError("no node credential configured")
        return {"Authorization": f"Token {self.credential}"}

    def _get_ok(self, path: str, *, accept: str) -> bytes:
        resp = request("GET", self.url(path), headers={"Accept": accept}, timeout=self.timeout)
        if resp.status != 200:
            raise HubError(f"GET {path}: HTTP {resp.status}", resp.status)
        return resp.body

    def jwks(self) -> bytes:
        """Raw JWKS bytes (parsed by the caller so it can cache exactly what it verified with)."""
        return self._get_ok(JWKS_PATH, accept="application/json")

    def revocations(self) -> str:
        body = self._get_ok(REVOCATIONS_PATH, accept="application/jwt, application/json")
        try:
            return parse_revocations_body(body)
        except ValueError as err:
            raise HubError(f"GET {REVOCATIONS_PATH}: {err}") from err

    def cohort(self, permit: str, dataset: str, *, etag: str | None = None) -> Response:
        """Return the raw response: 200 with the cohort JSON, 304 when ``etag`` is still current,
        or an error status the caller interprets (network failures raise ``TransportError``)."""
        path = COHORT_PATH.format(
            permit=quote(str(permit), safe=""), dataset=quote(str(dataset), safe="")
        )
        headers = {"Accept": "application/json"}
        if etag:
            headers["If-None-Match"] = etag
        return request(
            "GET",
            self.url(path),
            headers=headers,
            secret_headers=self._auth(),
            timeout=self.timeout,
        )

    def post_receipt(self, token: str) -> Response:
        body = json.dumps({"receipt": token}).encode("utf-8")
        return request(
            "POST",
            self.url(RECEIPTS_PATH),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            secret_headers=self._auth(),
            body=body,
            timeout=self.timeout,
        )

    def post_output(self, token: str, data: bytes, *, filename: str, content_type: str) -> Response:
        """Upload a run's released output with its receipt (multipart/form-data: ``receipt``
        and ``output``); the hub checks the file's sha256 against the receipt's."""
        boundary = "lifes-node-" + secrets.token_hex(16)
        safe_name = "".join(c for c in filename if c.isalnum() or c in "._-") or "output"
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="receipt"\r\n\r\n'.encode(),
                token.encode("ascii"),
                f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="output"; '
                f'filename="{safe_name}"\r\nContent-Type: {content_type}\r\n\r\n'.encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        return request(
            "POST",
            self.url(RESULTS_PATH),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Accept": "application/json",
            },
            secret_headers=self._auth(),
            body=body,
            timeout=self.timeout,
        )


def describe(resp: Response) -> str:
    """A short, log-safe description of an error response (the hub answers JSON errors)."""
    try:
        doc: Any = json.loads(resp.body or b"null")
    except ValueError:
        doc = None
    if isinstance(doc, dict) and ("detail" in doc or "code" in doc):
        return f"HTTP {resp.status} {doc.get('code', '')} {doc.get('detail', '')}".strip()
    return f"HTTP {resp.status}"


__all__ = ["HubClient", "HubError", "TransportError", "describe", "parse_revocations_body"]
