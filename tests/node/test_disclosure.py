"""Disclosure control in isolation: the node recomputes every cell from the data it handed out."""

from __future__ import annotations

import json

import pytest

from lifes_node.disclosure import DisclosureRules, DominanceRule, check_output

RULES = DisclosureRules(min_cell_count=3)


def rows(*spec: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"participant_id": p, "sex": s, "cost": c} for p, s, c in spec]


DATA = rows(
    ("P1", "F", "10"),
    ("P2", "F", "12"),
    ("P3", "F", "11"),
    ("P4", "F", ""),
    ("P5", "M", "9"),
    ("P6", "M", "10"),
    ("P7", "M", "13"),
)


def table(cells: list[dict], by: list[str] | None = None, name: str = "t") -> bytes:
    by = ["sex"] if by is None else by
    return json.dumps({"tables": [{"name": name, "by": by, "cells": cells}]}).encode()


def check(output: bytes, data: list[dict[str, str]] = DATA, rules: DisclosureRules = RULES):
    return check_output(output, data, rules, columns=["participant_id", "sex", "cost"])


def test_correct_aggregate_passes() -> None:
    output = table(
        [
            {"group": {"sex": "F"}, "count": 4, "sums": {"cost": 33.0}},
            {"group": {"sex": "M"}, "count": 3, "sums": {"cost": 32}},
        ]
    )
    result = check(output)

    assert (result.passed, result.reason, result.details) == (True, None, [])
    assert result.as_claim() == {"passed": True, "reason": None, "details": []}


def test_overall_total_without_grouping_passes() -> None:
    assert check(table([{"group": {}, "count": 7}], by=[])).passed


def test_small_cell() -> None:
    result = check(
        table([{"group": {"sex": "F"}, "count": 2}]), rows(*[(p, "F", "1") for p in "ab"])
    )

    assert result.reason == "disclosure_small_cell"


def test_small_cell_counts_people_not_rows() -> None:
    # four visits, but only two people
    visits = rows(("P1", "F", "1"), ("P1", "F", "2"), ("P2", "F", "1"), ("P2", "F", "3"))

    result = check(table([{"group": {"sex": "F"}, "count": 4}]), visits)

    assert result.reason == "disclosure_small_cell"


def test_zero_cell_below_minimum_is_refused() -> None:
    assert check(table([{"group": {"sex": "X"}, "count": 0}])).reason == "disclosure_small_cell"


@pytest.mark.parametrize(
    "cell",
    [
        {"group": {"sex": "F"}, "count": 5},
        {"group": {"sex": "F"}, "count": 4, "sums": {"cost": 34.0}},
        {"group": {"sex": "F"}, "count": 4, "sums": {"age": 1.0}},
        {"group": {"sex": "F"}, "count": 4, "sums": {"sex": 1.0}},
    ],
    ids=["count", "sum", "unknown-column", "text-column"],
)
def test_numbers_that_are_not_what_the_node_recomputes(cell: dict) -> None:
    assert check(table([cell])).reason == "disclosure_mismatch"


def test_grouping_by_a_column_the_input_lacks_is_a_mismatch() -> None:
    assert check(table([], by=["postcode"])).reason == "disclosure_mismatch"


def test_dominance_one_contributor() -> None:
    data = rows(("P1", "F", "1000"), ("P2", "F", "50"), ("P3", "F", "50"), ("P4", "F", "20"))

    result = check(table([{"group": {"sex": "F"}, "count": 4, "sums": {"cost": 1120}}]), data)

    assert result.reason == "disclosure_dominance"
    assert "85%" in result.details[0]


def test_dominance_two_contributors() -> None:
    # largest 60% (< 85%), two largest 95% (> 90%)
    data = rows(("P1", "F", "60"), ("P2", "F", "35"), ("P3", "F", "3"), ("P4", "F", "2"))

    result = check(table([{"group": {"sex": "F"}, "count": 4, "sums": {"cost": 100}}]), data)

    assert result.reason == "disclosure_dominance"
    assert "2 largest" in result.details[0]


def test_dominance_uses_absolute_contributions_per_person() -> None:
    # P1 contributes +500 and -500 over two rows: net 0, so P2..P4 share the total evenly
    data = rows(
        ("P1", "F", "500"),
        ("P1", "F", "-500"),
        ("P2", "F", "-10"),
        ("P3", "F", "10"),
        ("P4", "F", "10"),
    )
    output = table([{"group": {"sex": "F"}, "count": 5, "sums": {"cost": 10}}])

    assert check(output, data).passed


def test_dominance_rules_are_configurable() -> None:
    data = rows(("P1", "F", "70"), ("P2", "F", "20"), ("P3", "F", "10"))
    output = table([{"group": {"sex": "F"}, "count": 3, "sums": {"cost": 100}}])
    strict = DisclosureRules(min_cell_count=3, dominance=(DominanceRule(1, 0.5),))

    assert check(output, data).passed
    assert check(output, data, strict).reason == "disclosure_dominance"


@pytest.mark.parametrize(
    "output",
    [
        [{"participant_id": "P1"}],
        {
            "tables": [
                {"name": "t", "by": ["sex"], "cells": [{"group": {"sex": "F"}, "count": 4}]}
            ],
            "P1": 3,
        },
        {"tables": [{"name": "P3", "by": [], "cells": [{"group": {}, "count": 7}]}]},
        {"tables": [], "sample": [{"a": 1}]},
        {"tables": [{"name": "t", "by": ["participant_id"], "cells": []}]},
        {"tables": [], "PARTICIPANT_ID": "x"},
    ],
    ids=["records", "id-as-key", "id-as-value", "list-of-records", "by-id", "id-key-any-case"],
)
def test_row_level_output(output: object) -> None:
    result = check(json.dumps(output).encode())

    assert result.reason == "disclosure_row_level"
    assert not any(p in " ".join(result.details) for p in ("P1", "P3"))


def test_participant_ids_outside_the_cohort_are_also_caught() -> None:
    output = table([{"group": {}, "count": 7}], by=[], name="P9999")

    result = check_output(output, DATA, RULES, known_ids=["P9999"])

    assert result.reason == "disclosure_row_level"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"tables": [{"name": "t", "by": [], "cells": [{"group": {}, "count": NaN}]}]}',
        b'{"tables": {}}',
        b'{"tables": [], "notes": "free text"}',
        b'{"tables": [{"name": "t", "by": [], "cells": [{"group": {}, "count": 7, "mean": 3}]}]}',
        b'{"tables": [{"name": "t", "by": [], "cells": [{"group": {}, "count": 7.0}]}]}',
        b'{"tables": [{"name": "t", "by": [], "cells": [{"group": {}, "count": true}]}]}',
        b'{"tables": [{"name": "t", "by": ["sex"], "cells": [{"group": {}, "count": 7}]}]}',
        b'{"tables": [{"name": "a table name that is far too long to be a label and could carry'
        b' data", "by": [], "cells": []}]}',
    ],
    ids=[
        "not-json",
        "nan",
        "tables-not-list",
        "extra-top-key",
        "extra-cell-key",
        "float-count",
        "bool-count",
        "group-keys",
        "long-name",
    ],
)
def test_anything_but_the_aggregate_format(raw: bytes) -> None:
    assert check(raw).reason == "disclosure_format"


def test_duplicate_groups_are_a_format_error() -> None:
    cell = {"group": {"sex": "F"}, "count": 4}

    assert check(table([cell, cell])).reason == "disclosure_format"


def test_numeric_group_labels_match_stored_text() -> None:
    data = [{"participant_id": f"P{i}", "age": "40"} for i in range(3)]
    output = table([{"group": {"age": 40}, "count": 3}], by=["age"])

    assert check_output(output, data, RULES, columns=["participant_id", "age"]).passed


def test_oversized_output_is_refused() -> None:
    rules = DisclosureRules(min_cell_count=3, max_output_bytes=10)

    assert check(table([]), rules=rules).reason == "disclosure_format"


def test_all_findings_are_listed_and_the_most_serious_named() -> None:
    output = table(
        [
            {"group": {"sex": "F"}, "count": 2},  # small and wrong
            {"group": {"sex": "M"}, "count": 3, "sums": {"cost": 40}},  # wrong sum
        ]
    )
    result = check(output)

    assert result.reason == "disclosure_small_cell"
    assert [d.split(":")[0] for d in result.details] == [
        "disclosure_small_cell",
        "disclosure_mismatch",
        "disclosure_mismatch",
    ]
