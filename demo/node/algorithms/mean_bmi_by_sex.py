"""Demo visiting algorithm: count, and sum BMI and HbA1c, per sex.

Run by the node as ``python mean_bmi_by_sex.py INPUT_CSV OUTPUT_JSON``. It writes the node's
aggregate output format (counts and sums only); the researcher derives means as sum / count.
Only the standard library is used, so it runs in any Python the node provides.
"""

import csv
import json
import sys
from collections import defaultdict

COLUMNS = ("bmi", "hba1c")


def main(input_csv: str, output_json: str) -> None:
    counts = defaultdict(int)
    sums = defaultdict(lambda: dict.fromkeys(COLUMNS, 0.0))
    with open(input_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            sex = row["sex"]
            counts[sex] += 1
            for column in COLUMNS:
                sums[sex][column] += float(row[column])
    cells = [
        {"group": {"sex": sex}, "count": counts[sex], "sums": sums[sex]} for sex in sorted(counts)
    ]
    with open(output_json, "w", encoding="utf-8") as fh:
        json.dump({"tables": [{"name": "bmi_hba1c_by_sex", "by": ["sex"], "cells": cells}]}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
