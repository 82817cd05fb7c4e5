"""The permit's cohort: which participants' rows the algorithm may see, fetched before every run.

Consent can be withdrawn at any moment; the hub recomputes the cohort and a node asks for it again
before each run (cheaply, with ``If-None-Match``). A cached copy is only used when the hub cannot
be reached at all, and only while younger than ``max_cohort_age``; when the hub *answers* with a
refusal (403/404/410...) the cache is dropped, because the hub has said no.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifes_node.errors import COHORT_MISMATCH, COHORT_UNAVAILABLE, NodeError
from lifes_node.files import write_atomic
from lifes_node.hub import HubClient, HubError, describe
from lifes_node.transport import TransportError


def cohort_digest(participants: Iterable[str]) -> str:
    """``sha256:`` of the sorted ids joined by newlines (the hub computes the same)."""
    joined = "\n".join(sorted(participants)).encode("utf-8")
    return "sha256:" + hashlib.sha256(joined).hexdigest()


@dataclass(frozen=True)
class Cohort:
    permit: str
    dataset: str
    version: Any
    digest: str
    participants: frozenset[str]
    fetched_at: float
    etag: str | None = None
    source: str = "hub"  # "hub", "hub-304" (not modified) or "cache" (hub unreachable)

    @property
    def size(self) -> int:
        return len(self.participants)


def parse_cohort(doc: object, *, permit: str, dataset: str) -> tuple[Any, str, frozenset[str]]:
    """Check a cohort document and return ``(version, digest, participants)``.

    The digest is recomputed here: a cohort that does not hash to what the hub signed off on is
    refused rather than trusted (a truncated body or a tampered cache file would otherwise widen
    or narrow the data the algorithm sees).
    """
    if not isinstance(doc, dict):
        raise NodeError(COHORT_MISMATCH, "cohort is not a JSON object")
    ids = doc.get("participants")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise NodeError(COHORT_MISMATCH, "cohort participants must be a list of strings")
    if str(doc.get("permit")) != str(permit) or str(doc.get("dataset")) != str(dataset):
        raise NodeError(
            COHORT_MISMATCH,
            f"cohort is for permit {doc.get('permit')!r} / dataset {doc.get('dataset')!r}, "
            f"not {permit!r} / {dataset!r}",
        )
    if len(set(ids)) != len(ids):
        raise NodeError(COHORT_MISMATCH, "cohort lists a participant twice")
    count = doc.get("count")
    if count is not None and count != len(ids):
        raise NodeError(COHORT_MISMATCH, f"cohort count {count} != {len(ids)} participants listed")
    digest = doc.get("digest")
    actual = cohort_digest(ids)
    if not isinstance(digest, str) or digest.lower() != actual:
        raise NodeError(COHORT_MISMATCH, f"cohort digest {digest!r} does not match its members")
    return doc.get("version"), actual, frozenset(ids)


class CohortCache:
    """One JSON file per (permit, dataset) under ``cache_dir/cohorts``, written atomically."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = Path(cache_dir) / "cohorts"

    def _path(self, permit: str, dataset: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{permit}__{dataset}")
        digest = hashlib.sha256(f"{permit}\0{dataset}".encode()).hexdigest()[:12]
        return self.root / f"{safe}-{digest}.json"

    def load(self, permit: str, dataset: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(self._path(permit, dataset).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("fetched_at"), int | float):
            return None
        return entry

    def save(self, permit: str, dataset: str, entry: dict[str, Any]) -> None:
        write_atomic(self._path(permit, dataset), json.dumps(entry).encode("utf-8"))

    def drop(self, permit: str, dataset: str) -> None:
        self._path(permit, dataset).unlink(missing_ok=True)


def fetch_cohort(
    hub: HubClient,
    cache: CohortCache,
    *,
    permit: str,
    dataset: str,
    max_age: float,
    now: float | None = None,
) -> Cohort:
    """Fetch the current cohort (conditional GET) or, if the hub is unreachable, a young cache."""
    now = time.time() if now is None else now
    cached = cache.load(permit, dataset)
    etag = cached.get("etag") if cached else None

    def from_cache(entry: dict[str, Any], fetched_at: float, source: str) -> Cohort:
        version, digest, ids = parse_cohort(entry.get("doc"), permit=permit, dataset=dataset)
        return Cohort(permit, dataset, version, digest, ids, fetched_at, entry.get("etag"), source)

    try:
        resp = hub.cohort(permit, dataset, etag=etag if isinstance(etag, str) else None)
    except (TransportError, HubError) as err:
        if cached is not None and now - cached["fetched_at"] <= max_age:
            return from_cache(cached, cached["fetched_at"], "cache")
        age = f"cached copy is {now - cached['fetched_at']:.0f} s old" if cached else "no cache"
        raise NodeError(
            COHORT_UNAVAILABLE, f"hub unreachable ({err}); {age}, max {max_age:.0f} s"
        ) from None

    if resp.status == 304 and cached is not None:
        cohort = from_cache(cached, now, "hub-304")
        cache.save(permit, dataset, {**cached, "fetched_at": now})
        return cohort
    if resp.status >= 500 or resp.status in (408, 429):
        if cached is not None and now - cached["fetched_at"] <= max_age:
            return from_cache(cached, cached["fetched_at"], "cache")
        raise NodeError(COHORT_UNAVAILABLE, f"hub error fetching cohort: {describe(resp)}")
    if resp.status != 200:
        cache.drop(permit, dataset)
        raise NodeError(COHORT_UNAVAILABLE, f"hub refused the cohort: {describe(resp)}")
    try:
        doc = json.loads(resp.body)
    except ValueError:
        raise NodeError(COHORT_MISMATCH, "cohort response is not JSON") from None
    version, digest, ids = parse_cohort(doc, permit=permit, dataset=dataset)
    new_etag = resp.header("ETag")
    cache.save(permit, dataset, {"fetched_at": now, "etag": new_etag, "doc": doc})
    return Cohort(permit, dataset, version, digest, ids, now, new_etag, "hub")
