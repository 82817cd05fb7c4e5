"""Reading the node's dataset and cutting it down to the cohort.

Values are kept as text exactly as stored: the algorithm receives a CSV either way, and the
disclosure check compares group labels as text, so no type guessing can make the node and the
algorithm disagree about which rows form a group. Parquet is read only when pyarrow is installed
(it is optional; without it a Parquet dataset is refused with ``dataset_unreadable``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lifes_node.errors import DATASET_UNREADABLE, NodeError

try:  # optional dependency
    import pyarrow.parquet as _parquet
except ImportError:  # pragma: no cover - depends on the environment
    _parquet = None

PARQUET_SUFFIXES = (".parquet", ".pq")


def parquet_available() -> bool:
    return _parquet is not None


@dataclass
class Table:
    columns: list[str]
    rows: list[dict[str, str]]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_table(path: str | Path, *, id_column: str) -> Table:
    """Load a CSV (UTF-8, optional BOM) or Parquet file; ``id_column`` must be present."""
    path = Path(path)
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            table = _load_parquet(path)
        else:
            table = _load_csv(path)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise NodeError(DATASET_UNREADABLE, f"cannot read {path}: {err}") from None
    if id_column not in table.columns:
        raise NodeError(DATASET_UNREADABLE, f"{path} has no id column {id_column!r}")
    return table


def _load_csv(path: Path) -> Table:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        if len(set(columns)) != len(columns):
            raise NodeError(DATASET_UNREADABLE, f"{path} has duplicate column names")
        rows = []
        for row in reader:
            if None in row:
                raise NodeError(DATASET_UNREADABLE, f"{path} line {reader.line_num}: extra fields")
            rows.append({k: v if v is not None else "" for k, v in row.items()})
    return Table(columns, rows)


def _load_parquet(path: Path) -> Table:
    if _parquet is None:
        raise NodeError(DATASET_UNREADABLE, f"{path}: Parquet needs pyarrow (not installed)")
    arrow_table = _parquet.read_table(path)
    columns = list(arrow_table.column_names)
    rows = [{k: _text(v) for k, v in rec.items()} for rec in arrow_table.to_pylist()]
    return Table(columns, rows)


def filter_rows(table: Table, *, id_column: str, keep: Iterable[str]) -> Table:
    """Only the rows of cohort participants (ids compared as exact text)."""
    wanted = keep if isinstance(keep, set | frozenset) else set(keep)
    return Table(list(table.columns), [row for row in table.rows if row[id_column] in wanted])


def write_csv(table: Table, path: str | Path) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=table.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table.rows)
