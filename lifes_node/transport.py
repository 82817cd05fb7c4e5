"""Reading a PATH_OR_URL and making small HTTP requests with the standard library only.

Nodes often run in locked-down networks where adding an HTTP client dependency is a change
request of its own, so urllib it is. Two safety details matter here: the Authorization header is
never forwarded on redirects (urllib would otherwise copy it to any host the hub redirects to),
and every body is read with a size cap so a misbehaving server cannot exhaust the node's memory.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from lifes_node.version import __version__

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class TransportError(Exception):
    """The other side could not be reached or read (network error, timeout, oversize body)."""


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _read_capped(stream: Any, max_bytes: int) -> bytes:
    body = stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise TransportError(f"response larger than {max_bytes} bytes")
    return body


def _headers(message: Message) -> dict[str, str]:
    return {key.lower(): value for key, value in message.items()}


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    secret_headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Response:
    """Send one request; any HTTP status is returned, only transport failures raise.

    ``secret_headers`` (credentials) are attached as unredirected headers so they only ever go to
    the URL the operator configured.
    """
    if not is_url(url):
        raise TransportError(f"not an http(s) URL: {url!r}")
    req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - scheme checked
    req.add_header("User-Agent", f"lifes-node/{__version__}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    for name, value in (secret_headers or {}).items():
        req.add_unredirected_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - scheme checked
            return Response(resp.status, _read_capped(resp, max_bytes), _headers(resp.headers))
    except urllib.error.HTTPError as err:
        try:
            err_body = _read_capped(err, max_bytes)
        except (OSError, TransportError, http.client.HTTPException):
            err_body = b""
        return Response(err.code, err_body, _headers(err.headers) if err.headers else {})
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as err:
        raise TransportError(f"{method} {url}: {getattr(err, 'reason', err)}") from err


def read_source(
    source: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """Return the bytes at a local path, a ``file://`` URL, or an http(s) URL (GET, 200 only)."""
    text = str(source)
    if is_url(text):
        resp = request("GET", text, timeout=timeout, max_bytes=max_bytes)
        if resp.status != 200:
            raise TransportError(f"GET {text}: HTTP {resp.status}")
        return resp.body
    if text.startswith("file://"):
        text = urllib.request.url2pathname(text[len("file://") :])
    try:
        with open(text, "rb") as fh:
            return _read_capped(fh, max_bytes)
    except OSError as err:
        raise TransportError(f"cannot read {text}: {err.strerror or err}") from err
