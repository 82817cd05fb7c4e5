"""Conditional GETs (RFC 9110 section 13) for the documents nodes poll.

A poll that finds nothing new should cost the hub one or two small queries and no body: the
view computes a strong ``ETag`` from what the body depends on (never from the body itself, which
would have to be built first), answers ``304 Not Modified`` when the node already holds it, and
builds the body only otherwise. Each caller documents what its tag covers; the rule is that
everything that can change the body must change the tag. A weak tag (``W/``, RFC 9110 8.8.1)
may stay while the body changes only in what means the same: the node permit list's proofs
against a newer signed head prove what the older ones did.
"""

from __future__ import annotations

import hashlib
from typing import Any


def etag_of(*parts: Any) -> str:
    """A strong entity tag over ``parts`` (their ``repr``, so ``None`` and ``""`` differ)."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:40]
    return f'"{digest}"'


def is_fresh(if_none_match: str | None, etag: str) -> bool:
    """Whether the client's ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110
    asks for If-None-Match; ``*`` matches any current representation)."""
    opaque = etag.removeprefix("W/")
    for candidate in (if_none_match or "").split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False
