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

from django.utils.http import parse_etags


def etag_of(*parts: Any, weak: bool = False) -> str:
    """An entity tag over ``parts`` (their ``repr``, so ``None`` and ``""`` differ); ``weak``
    for a tag that may stay while the body changes only in what means the same."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:40]
    return f'W/"{digest}"' if weak else f'"{digest}"'


def is_fresh(if_none_match: str | None, etag: str) -> bool:
    """Whether the client's ``If-None-Match`` names ``etag``: the weak comparison RFC 9110
    (13.1.2) asks for If-None-Match, on the header as Django parses it (``parse_etags``);
    ``*`` matches any current representation."""
    candidates = parse_etags(if_none_match or "")
    if candidates == ["*"]:
        return True
    opaque = etag.removeprefix("W/")
    return any(candidate.removeprefix("W/") == opaque for candidate in candidates)
