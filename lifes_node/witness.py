"""``lifes-node witness``: watch a hub's audit log from outside, as CT monitors do.

Each round fetches the hub's signed tree head, checks its signature (hub JWKS) and that the JSON
says what the JWS says, then checks it against the heads this witness saw before (kept in a
state file):

- the same size with another root is a **split view** (the hub shows different logs to
  different people, or rewrote the past);
- a smaller size than already seen, or a larger one without a valid RFC 9162 consistency proof
  from the last head, is **rewritten history**.

Either is reported loudly (exit 1, the reason first on stderr) and kept in the state file's
``alerts`` as evidence (both signed heads); the last good head is not replaced, so the next
round alerts again. Sibling hubs and nodes run this against each other; their state files
(``heads``: every head seen) are what ``manage.py audit_verify --tree-heads`` takes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from lifes_node import merkle
from lifes_node.errors import (
    BAD_TREE_HEAD,
    HISTORY_REWRITTEN,
    HUB_UNREACHABLE,
    SPLIT_VIEW,
    NodeError,
    VerificationError,
)
from lifes_node.files import write_atomic
from lifes_node.keys import KeySet
from lifes_node.logproof import verify_tree_head
from lifes_node.transport import TransportError, read_source

Fetch = Callable[[str], bytes]


@dataclass(frozen=True)
class WitnessResult:
    tree_size: int
    root_hash: str
    previous_size: int | None


def _load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"heads": [], "alerts": []}
    state = json.loads(path.read_text(encoding="utf-8"))
    state.setdefault("heads", [])
    state.setdefault("alerts", [])
    return state


def _save(path: Path, state: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))


def _get_json(fetch: Fetch, url: str) -> dict[str, Any]:
    try:
        document = json.loads(fetch(url))
    except (TransportError, ValueError) as err:
        raise NodeError(HUB_UNREACHABLE, f"{url}: {err}") from None
    if not isinstance(document, dict):
        raise NodeError(HUB_UNREACHABLE, f"{url}: not a JSON object")
    return document


def _checked_head(document: dict[str, Any], keys: KeySet, issuer: str) -> dict[str, Any]:
    try:
        claims = verify_tree_head(document.get("signed"), keys, issuer=issuer)
    except VerificationError as err:
        raise NodeError(BAD_TREE_HEAD, err.message) from None
    for name in ("tree_size", "root_hash", "timestamp"):
        if document.get(name) != claims.get(name):
            raise NodeError(BAD_TREE_HEAD, f"the head's {name} is not what its signature says")
    return {name: document[name] for name in ("tree_size", "root_hash", "timestamp", "signed")}


def witness_once(
    *,
    hub: str,
    keys: KeySet,
    state_path: str | Path,
    issuer: str | None = None,
    fetch: Fetch = read_source,
) -> WitnessResult:
    """One round. Raises ``NodeError`` with ``split_view`` / ``history_rewritten`` (after
    keeping the evidence), ``bad_tree_head`` or ``hub_unreachable``."""
    base = hub.rstrip("/")
    path = Path(state_path)
    state = _load_state(path)
    head = _checked_head(_get_json(fetch, f"{base}/api/v1/audit/tree-head"), keys, issuer or hub)
    seen = {item["tree_size"]: item for item in state["heads"]}
    last = max(state["heads"], key=lambda item: item["tree_size"], default=None)

    def alert(reason: str, message: str, other: dict[str, Any] | None) -> NodeError:
        state["alerts"].append(
            {
                "reason": reason,
                "message": message,
                "seen": other,
                "now": head,
                "at": int(time.time()),
            }
        )
        _save(path, state)
        return NodeError(reason, message)

    size, root = head["tree_size"], head["root_hash"]
    before = seen.get(size)
    if before is not None and before["root_hash"] != root:
        raise alert(
            SPLIT_VIEW,
            f"SPLIT VIEW: the hub signed two different roots for tree size {size} "
            f"({before['root_hash']} before, {root} now)",
            before,
        )
    if last is not None and size < last["tree_size"]:
        raise alert(
            HISTORY_REWRITTEN,
            f"HISTORY REWRITTEN: the hub's log shrank from {last['tree_size']} to {size} leaves",
            last,
        )
    if last is not None and size > last["tree_size"]:
        query = urlencode({"first": last["tree_size"], "second": size})
        document = _get_json(fetch, f"{base}/api/v1/audit/consistency?{query}")
        proof = document.get("proof")
        items = []
        for item in proof if isinstance(proof, list) else [None]:
            try:
                items.append(bytes.fromhex(item))
            except (TypeError, ValueError):
                items = []
                break
        if not (
            document.get("first") == last["tree_size"]
            and document.get("second") == size
            and isinstance(proof, list)
            and len(items) == len(proof)
            and merkle.verify_consistency(
                last["tree_size"],
                size,
                bytes.fromhex(last["root_hash"]),
                bytes.fromhex(root),
                items,
            )
        ):
            raise alert(
                HISTORY_REWRITTEN,
                f"HISTORY REWRITTEN: the head of size {size} does not extend the head of size "
                f"{last['tree_size']} seen before (no valid consistency proof)",
                last,
            )
    if before is None:
        state["heads"].append(head)
        state["heads"].sort(key=lambda item: item["tree_size"])
    state["hub"] = base
    _save(path, state)
    return WitnessResult(size, root, last["tree_size"] if last else None)
