"""Output disclosure control: what an algorithm may send out of the node.

The node does not trust what the algorithm *says* about its output. It accepts only one strict,
aggregate format (see README "Output format"), and then **recomputes** every declared cell from
the cohort-filtered input it gave the algorithm:

* ``disclosure_row_level`` - anything that looks like row-level data: a top-level list, a list of
  records, a key or value naming the id column, or any participant id anywhere in the output;
* ``disclosure_format`` - not the aggregate format (unknown keys, non-finite numbers, ...);
* ``disclosure_small_cell`` - a cell whose count (or number of distinct participants) is below the
  permit's ``min_cell_count``;
* ``disclosure_mismatch`` - a declared count or sum that is not what the node recomputes for that
  group (an algorithm could otherwise smuggle data in made-up numbers);
* ``disclosure_dominance`` - an (n, k) dominance rule: the n largest participants' contributions
  exceed k of the cell's total absolute sum (default: n=1 k=85%, n=2 k=90%).

Details never contain data values (only positions like ``tables[0].cells[2]`` and rule
parameters): they go to the hub in the receipt even when the output itself is withheld.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lifes_node.errors import (
    DISCLOSURE_DOMINANCE,
    DISCLOSURE_FORMAT,
    DISCLOSURE_MISMATCH,
    DISCLOSURE_ROW_LEVEL,
    DISCLOSURE_SMALL_CELL,
)

PRIORITY = (
    DISCLOSURE_ROW_LEVEL,
    DISCLOSURE_FORMAT,
    DISCLOSURE_SMALL_CELL,
    DISCLOSURE_MISMATCH,
    DISCLOSURE_DOMINANCE,
)
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})
_NAME = re.compile(r"[A-Za-z0-9_.\- ]{1,64}")
_TOP_KEYS = frozenset({"tables"})
_TABLE_KEYS = frozenset({"name", "by", "cells"})
_CELL_KEYS = frozenset({"group", "count", "sums"})


@dataclass(frozen=True)
class DominanceRule:
    n: int
    k: float  # fraction of the total absolute sum, e.g. 0.85


DEFAULT_DOMINANCE = (DominanceRule(1, 0.85), DominanceRule(2, 0.90))


@dataclass(frozen=True)
class DisclosureRules:
    min_cell_count: int
    id_column: str = "participant_id"
    dominance: tuple[DominanceRule, ...] = DEFAULT_DOMINANCE
    sum_rel_tol: float = 1e-6
    sum_abs_tol: float = 1e-6
    max_output_bytes: int = 10 * 1024 * 1024


@dataclass
class DisclosureResult:
    passed: bool
    reason: str | None = None
    details: list[str] = field(default_factory=list)

    def as_claim(self) -> dict[str, Any]:
        return {"passed": self.passed, "reason": self.reason, "details": list(self.details)}


class _Findings:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, reason: str, detail: str) -> None:
        self.items.append((reason, detail))

    def has(self, *reasons: str) -> bool:
        return any(r in reasons for r, _ in self.items)

    def result(self) -> DisclosureResult:
        if not self.items:
            return DisclosureResult(True, None, [])
        found = {r for r, _ in self.items}
        reason = next(r for r in PRIORITY if r in found)
        return DisclosureResult(False, reason, [f"{r}: {d}" for r, d in self.items][:50])


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name}")


def _scan_row_level(
    node: Any, path: str, findings: _Findings, id_keys: set[str], known_ids: frozenset[str]
) -> None:
    """Walk the whole document before trusting its shape: row-level data is refused wherever it
    hides, not only where the format puts it."""
    if isinstance(node, dict):
        for key, value in node.items():
            safe = _NAME.fullmatch(key) and key not in known_ids
            where = f"{path}.{key}" if safe else f"{path}[?]"
            if key.lower() in id_keys:
                findings.add(DISCLOSURE_ROW_LEVEL, f"{where}: key names the participant id column")
            elif key in known_ids:
                findings.add(DISCLOSURE_ROW_LEVEL, f"{path}: a key is a participant id")
            if (
                key not in ("tables", "cells")
                and isinstance(value, list)
                and any(isinstance(v, dict) for v in value)
            ):
                findings.add(DISCLOSURE_ROW_LEVEL, f"{where}: list of records")
            _scan_row_level(value, where, findings, id_keys, known_ids)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _scan_row_level(value, f"{path}[{i}]", findings, id_keys, known_ids)
    elif isinstance(node, str):
        if node.lower() in id_keys:
            findings.add(DISCLOSURE_ROW_LEVEL, f"{path}: names the participant id column")
        elif node in known_ids:
            findings.add(DISCLOSURE_ROW_LEVEL, f"{path}: contains a participant id")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _validate_format(doc: Any, findings: _Findings, columns: Sequence[str]) -> list[dict]:
    """Return the tables if ``doc`` has exactly the aggregate shape, else record why not."""
    bad = findings.add
    if not isinstance(doc, dict):
        bad(DISCLOSURE_FORMAT, '$: output must be an object {"tables": [...]}')
        return []
    if set(doc) - _TOP_KEYS or not isinstance(doc.get("tables"), list):
        bad(DISCLOSURE_FORMAT, '$: only a "tables" list is allowed at the top level')
        return []
    for t, table in enumerate(doc["tables"]):
        where = f"$.tables[{t}]"
        if not isinstance(table, dict) or set(table) - _TABLE_KEYS:
            bad(DISCLOSURE_FORMAT, f"{where}: a table has only name, by, cells")
            continue
        name = table.get("name", f"table{t}")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            bad(DISCLOSURE_FORMAT, f"{where}.name: 1-64 letters, digits, space, _ . -")
        by = table.get("by", [])
        if (
            not isinstance(by, list)
            or not all(isinstance(c, str) for c in by)
            or len(set(by)) != len(by)
        ):
            bad(DISCLOSURE_FORMAT, f"{where}.by: a list of distinct column names")
            continue
        missing = [c for c in by if c not in columns]
        if missing:
            bad(DISCLOSURE_MISMATCH, f"{where}.by: names columns the input does not have")
        cells = table.get("cells")
        if not isinstance(cells, list):
            bad(DISCLOSURE_FORMAT, f"{where}.cells: a list of cells")
            continue
        seen: set[tuple[str, ...]] = set()
        for c, cell in enumerate(cells):
            cw = f"{where}.cells[{c}]"
            if not isinstance(cell, dict) or set(cell) - _CELL_KEYS:
                bad(DISCLOSURE_FORMAT, f"{cw}: a cell has only group, count, sums")
                continue
            group = cell.get("group", {})
            if (
                not isinstance(group, dict)
                or set(group) != set(by)
                or not all(isinstance(v, str) or _is_number(v) for v in group.values())
            ):
                bad(DISCLOSURE_FORMAT, f"{cw}.group: one text/number value per 'by' column")
                continue
            key = tuple(_label(group[col]) for col in by)
            if key in seen:
                bad(DISCLOSURE_FORMAT, f"{cw}.group: the same group appears twice")
            seen.add(key)
            count = cell.get("count")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                bad(DISCLOSURE_FORMAT, f"{cw}.count: a non-negative integer")
            sums = cell.get("sums", {})
            if not isinstance(sums, dict) or not all(
                isinstance(k, str) and _is_number(v) for k, v in sums.items()
            ):
                bad(DISCLOSURE_FORMAT, f"{cw}.sums: column name -> finite number")
    return doc["tables"]


def _label(value: object) -> str:
    """Group values compare as text with the stored data (``40`` matches ``"40"``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse(value: str) -> float | None:
    text = value.strip()
    if text.lower() in MISSING:
        return None
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def check_output(
    output: bytes,
    rows: Sequence[dict[str, str]],
    rules: DisclosureRules,
    *,
    columns: Sequence[str] | None = None,
    known_ids: Iterable[str] = (),
) -> DisclosureResult:
    """Decide whether ``output`` (the algorithm's JSON bytes) may leave the node.

    ``rows`` is exactly the input the algorithm received (cohort-filtered); ``known_ids`` are the
    participant ids of the whole dataset, any of which in the output means a row-level leak.
    """
    findings = _Findings()
    if len(output) > rules.max_output_bytes:
        findings.add(DISCLOSURE_FORMAT, f"$: output larger than {rules.max_output_bytes} bytes")
        return findings.result()
    try:
        doc = json.loads(output.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        findings.add(DISCLOSURE_FORMAT, "$: output is not UTF-8 JSON (NaN/Infinity not allowed)")
        return findings.result()

    id_column = rules.id_column
    id_keys = {id_column.lower(), "participant_id"}
    ids = frozenset(known_ids) | frozenset(row[id_column] for row in rows)
    if isinstance(doc, list):
        findings.add(DISCLOSURE_ROW_LEVEL, "$: output is a list (of records?), not tables")
    _scan_row_level(doc, "$", findings, id_keys, ids)
    if findings.has(DISCLOSURE_ROW_LEVEL):
        return findings.result()

    columns = list(columns) if columns is not None else list(rows[0]) if rows else []
    tables = _validate_format(doc, findings, columns)
    if findings.has(DISCLOSURE_FORMAT, DISCLOSURE_MISMATCH):
        return findings.result()

    for t, table in enumerate(tables):
        by = table.get("by", [])
        groups: dict[tuple[str, ...], list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            groups[tuple(row[col] for col in by)].append(row)
        for c, cell in enumerate(table["cells"]):
            where = f"tables[{t}].cells[{c}]"
            group_rows = groups.get(tuple(_label(cell.get("group", {})[col]) for col in by), [])
            _check_cell(cell, group_rows, where, rules, columns, findings)
    return findings.result()


def _check_cell(
    cell: dict[str, Any],
    group_rows: list[dict[str, str]],
    where: str,
    rules: DisclosureRules,
    columns: Sequence[str],
    findings: _Findings,
) -> None:
    minimum = rules.min_cell_count
    declared = cell["count"]
    people = {row[rules.id_column] for row in group_rows}
    if declared < minimum or len(people) < minimum:
        findings.add(DISCLOSURE_SMALL_CELL, f"{where}: fewer than {minimum} (min_cell_count)")
    if declared != len(group_rows):
        findings.add(DISCLOSURE_MISMATCH, f"{where}.count: differs from the node's recount")
    for column, declared_sum in cell.get("sums", {}).items():
        cw = f"{where}.sums.{column}" if _NAME.fullmatch(column) else f"{where}.sums[?]"
        if column not in columns or column == rules.id_column:
            findings.add(DISCLOSURE_MISMATCH, f"{cw}: not a summable input column")
            continue
        per_person: dict[str, float] = defaultdict(float)
        try:
            for row in group_rows:
                value = _parse(row[column])
                if value is not None:
                    per_person[row[rules.id_column]] += value
        except ValueError:
            findings.add(DISCLOSURE_MISMATCH, f"{cw}: column is not numeric in this group")
            continue
        actual = math.fsum(per_person.values())
        if not math.isclose(
            declared_sum, actual, rel_tol=rules.sum_rel_tol, abs_tol=rules.sum_abs_tol
        ):
            findings.add(DISCLOSURE_MISMATCH, f"{cw}: differs from the node's recomputed sum")
            continue
        contributions = sorted((abs(v) for v in per_person.values()), reverse=True)
        total = math.fsum(contributions)
        if total <= 0:
            continue
        for rule in rules.dominance:
            if math.fsum(contributions[: rule.n]) > rule.k * total:
                findings.add(
                    DISCLOSURE_DOMINANCE,
                    f"{cw}: the {rule.n} largest contributor(s) exceed {rule.k:.0%} of the total",
                )
                break
