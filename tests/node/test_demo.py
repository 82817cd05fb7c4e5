"""The demo node: its data is reproducible and its algorithm passes the node's own checks."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

from lifes_node.dataio import load_table
from lifes_node.disclosure import DisclosureRules, check_output

from .conftest import DEMO, DEMO_ALGORITHM, DEMO_DATA


def load_make_data():
    spec = importlib.util.spec_from_file_location("make_data", DEMO / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_data_is_what_make_data_generates() -> None:
    assert DEMO_DATA.read_text() == load_make_data().generate()


def test_demo_data_shape() -> None:
    with DEMO_DATA.open() as fh:
        rows = list(csv.DictReader(fh))

    assert len(rows) == 60
    assert [r["participant_id"] for r in rows[:2]] == ["P0001", "P0002"]
    assert set(rows[0]) == {"participant_id", "sex", "age_band", "hba1c", "bmi"}
    assert {r["sex"] for r in rows} == {"F", "M"}
    assert all(15 < float(r["bmi"]) < 50 for r in rows)


def test_demo_algorithm_output_passes_disclosure_control(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    subprocess.run(  # noqa: S603 - the demo algorithm
        [sys.executable, str(DEMO_ALGORITHM), str(DEMO_DATA), str(out)], check=True, timeout=60
    )
    table = load_table(DEMO_DATA, id_column="participant_id")

    result = check_output(out.read_bytes(), table.rows, DisclosureRules(min_cell_count=10))

    assert result.passed, result.details
