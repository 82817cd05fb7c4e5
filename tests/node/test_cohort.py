"""Cohort fetching and caching rules, with a scripted hub client (no network)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lifes_node.cohort import CohortCache, cohort_digest, fetch_cohort, parse_cohort
from lifes_node.errors import NodeError
from lifes_node.transport import Response, TransportError

IDS = ["P0003", "P0001", "P0002"]


def doc(ids: list[str] = IDS, **overrides: object) -> dict:
    return {
        "permit": "LIFES-1",
        "dataset": "ds",
        "version": 4,
        "digest": cohort_digest(ids),
        "count": len(ids),
        "participants": ids,
        **overrides,
    }


class ScriptedHub:
    def __init__(self, *answers: Response | Exception) -> None:
        self.answers = list(answers)
        self.etags: list[str | None] = []

    def cohort(self, permit: str, dataset: str, *, etag: str | None = None) -> Response:
        self.etags.append(etag)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(body: dict, etag: str = '"v4"') -> Response:
    return Response(200, json.dumps(body).encode(), {"etag": etag})


def fetch(hub: ScriptedHub, cache: CohortCache, *, max_age: float = 0, now: float = 1000.0):
    return fetch_cohort(hub, cache, permit="LIFES-1", dataset="ds", max_age=max_age, now=now)


def reason(call) -> str:  # noqa: ANN001
    with pytest.raises(NodeError) as info:
        call()
    return info.value.reason


def test_digest_is_sha256_of_sorted_ids_joined_by_newlines() -> None:
    expected = hashlib.sha256(b"P0001\nP0002\nP0003").hexdigest()

    assert cohort_digest(IDS) == f"sha256:{expected}"


@pytest.mark.parametrize(
    "bad",
    [
        doc(digest=cohort_digest(["P0001"])),
        doc(count=2),
        doc(permit="LIFES-2"),
        doc(dataset="other"),
        doc(participants=["P0001", "P0001"], digest=cohort_digest(["P0001", "P0001"]), count=2),
        doc(participants=[1, 2]),
        ["P0001"],
    ],
    ids=["digest", "count", "permit", "dataset", "duplicates", "not-strings", "not-object"],
)
def test_inconsistent_cohorts_are_refused(bad: object) -> None:
    assert reason(lambda: parse_cohort(bad, permit="LIFES-1", dataset="ds")) == "cohort_mismatch"


def test_fetch_caches_and_revalidates_with_etag(tmp_path: Path) -> None:
    cache = CohortCache(tmp_path)
    hub = ScriptedHub(ok(doc()), Response(304, b"", {"etag": '"v4"'}))

    first = fetch(hub, cache)
    second = fetch(hub, cache, now=2000.0)

    assert hub.etags == [None, '"v4"']
    assert (first.source, second.source) == ("hub", "hub-304")
    assert second.participants == frozenset(IDS)
    assert (second.version, second.fetched_at) == (4, 2000.0)


@pytest.mark.parametrize("failure", [TransportError("refused"), Response(503, b"")])
def test_unreachable_hub_uses_a_young_cache_only(tmp_path: Path, failure: object) -> None:
    cache = CohortCache(tmp_path)
    fetch(ScriptedHub(ok(doc())), cache, now=1000.0)

    young = fetch(ScriptedHub(failure), cache, max_age=600, now=1500.0)
    old = reason(lambda: fetch(ScriptedHub(failure), cache, max_age=600, now=1700.0))

    assert young.source == "cache"
    assert old == "cohort_unavailable"


def test_no_cache_and_no_hub_is_unavailable(tmp_path: Path) -> None:
    hub = ScriptedHub(TransportError("down"))

    assert reason(lambda: fetch(hub, CohortCache(tmp_path), max_age=10**9)) == (
        "cohort_unavailable"
    )


def test_tampered_cache_is_refused(tmp_path: Path) -> None:
    cache = CohortCache(tmp_path)
    fetch(ScriptedHub(ok(doc())), cache)
    (path,) = (tmp_path / "cohorts").glob("*.json")
    entry = json.loads(path.read_text())
    entry["doc"]["participants"].append("P0999")  # someone widens the cohort on disk
    path.write_text(json.dumps(entry))

    hub = ScriptedHub(TransportError("down"))
    assert reason(lambda: fetch(hub, cache, max_age=10**9)) == "cohort_mismatch"


def test_hub_refusal_is_final(tmp_path: Path) -> None:
    cache = CohortCache(tmp_path)
    fetch(ScriptedHub(ok(doc())), cache)

    refused = reason(lambda: fetch(ScriptedHub(Response(410, b"")), cache, max_age=10**9))
    later = reason(lambda: fetch(ScriptedHub(TransportError("down")), cache, max_age=10**9))

    assert (refused, later) == ("cohort_unavailable", "cohort_unavailable")
