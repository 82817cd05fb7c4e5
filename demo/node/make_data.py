"""Generate the demo node dataset ``data/leiden-diabetes-cohort.csv`` (deterministic).

Sixty pseudonymous type 2 diabetes patients (``P0001``..``P0060``) with sex, age band, HbA1c
(mmol/mol, IFCC units as used in Dutch care) and BMI. The values are synthetic but plausible, so
the demo algorithm's output looks like a real aggregate. The hub's ``seed_demo`` creates consent
records for these same participant ids, so the cohort it serves selects rows from this file.

    python demo/node/make_data.py            # (re)write the CSV
    python demo/node/make_data.py --check    # exit 1 if the committed CSV is out of date
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from pathlib import Path

SEED = 20260101
ROWS = 60
OUT = Path(__file__).resolve().parent / "data" / "leiden-diabetes-cohort.csv"
AGE_BANDS = ("40-49", "50-59", "60-69", "70-79")
COLUMNS = ("participant_id", "sex", "age_band", "hba1c", "bmi")


def generate() -> str:
    rng = random.Random(SEED)  # noqa: S311 - synthetic demo data, not security
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(1, ROWS + 1):
        sex = "F" if rng.random() < 0.45 else "M"
        band = rng.choices(AGE_BANDS, weights=(1, 3, 4, 2))[0]
        older = AGE_BANDS.index(band)
        hba1c = round(rng.gauss(54 + 2 * older, 9))
        bmi = rng.gauss(30.5 if sex == "F" else 29.0, 4.2)
        writer.writerow(
            (f"P{i:04d}", sex, band, max(38, min(hba1c, 97)), f"{max(19.0, min(bmi, 45.0)):.1f}")
        )
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = generate()
    if args.check:
        current = OUT.read_text("utf-8") if OUT.exists() else ""
        if current != text:
            sys.stderr.write(f"{OUT} is out of date; run {Path(__file__).name}\n")
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, "utf-8")
    sys.stdout.write(f"wrote {OUT} ({ROWS} rows)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
