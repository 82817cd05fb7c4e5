"""Request bodies for the whole API, read with limits and checked before any view sees them.

DRF's ``JSONParser`` reads ``request`` as a stream, so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(checked only by ``request.body`` and form parsing) never applies to it, and ``json.loads``
happily returns what PostgreSQL or our code cannot take: NUL characters (PostgreSQL refuses them
in text), lone UTF-16 surrogates (not encodable as UTF-8), nesting deep enough to exhaust the
stack of any code that walks it. Every such body is refused here with a 4xx and the project's JSON
error body, so no view, service or database ever sees it. The checks are written by hand because
no maintained parser offers them together; each is a few lines over the standard library.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser, JSONParser


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def body_limit() -> int:
    """The same limit as Django's forms (``DATA_UPLOAD_MAX_MEMORY_SIZE``)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def read_limited(
    stream: Any, parser_context: dict[str, Any] | None, limit: int | None = None
) -> bytes:
    """The whole body, or 413 when it is longer than ``limit`` (by default the forms' limit),
    declared or actually sent."""
    limit = body_limit() if limit is None else limit
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    try:
        if declared and int(declared) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    except ValueError:
        raise exceptions.ParseError("Bad Content-Length header.", code="parse_error") from None
    if stream is None:
        return b""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


class HostileInput(ValueError):
    """Input that no code here should see; services turn it into their own 400."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _bad(message: str, code: str) -> HostileInput:
    return HostileInput(message, code)


def check_text(text: str) -> None:
    """Refuse NUL characters and lone surrogates in one string (a key or a value)."""
    if "\x00" in text:
        raise _bad("The body contains a NUL character (\\u0000), which is not allowed.", "nul")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad(
            "The body contains a lone UTF-16 surrogate, which is not a character.",
            "invalid_unicode",
        ) from None


def check_tree(value: Any, max_depth: int) -> None:
    """Walk a parsed JSON value without recursion: depth, and every key and string in it."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise _bad(f"The JSON is nested deeper than {max_depth} levels.", "too_deep")
            if isinstance(item, dict):
                for key, child in item.items():
                    check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            check_text(item)


def guarded_loads(raw: bytes) -> Any:
    """Parse JSON strictly: UTF-8, no NaN/Infinity, bounded depth, no NUL, no lone surrogate."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("The body is not valid UTF-8.", "invalid_encoding") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _bad("The JSON is nested too deeply.", "too_deep") from None
    except ValueError as exc:
        raise _bad(f"JSON parse error - {exc}", "parse_error") from None
    check_tree(value, settings.API_JSON_MAX_DEPTH)
    return value


class GuardedJSONParser(JSONParser):
    """The API's JSON parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = read_limited(stream, parser_context)
        try:
            return guarded_loads(data)
        except HostileInput as exc:
            raise exceptions.ParseError(exc.message, code=exc.code) from None


class GuardedRawParser(BaseParser):
    """Hands the body over as bytes (for importers that digest it), within the same limits: no
    NUL byte in any text format, and JSON bodies pass the JSON checks before the importer."""

    media_type = "*/*"

    def limit(self) -> int:
        return body_limit()

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        data = read_limited(stream, parser_context, self.limit())
        if b"\x00" in data:
            raise exceptions.ParseError(
                "The body contains a NUL byte, which is not allowed.", code="nul"
            )
        # JSON by its type or by its look (an importer may be told the format in a parameter).
        if "json" in (media_type or "") or data.lstrip()[:1] in (b"{", b"["):
            try:
                guarded_loads(data)
            except HostileInput as exc:
                raise exceptions.ParseError(exc.message, code=exc.code) from None
        return data
