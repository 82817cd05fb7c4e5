#!/usr/bin/env python
"""How many data-use decisions per second the matcher makes, against a baseline from the same run.

Why: the matcher runs per dataset for every request submission, every catalogue search filter and
every cohort recomputation, so it has to stay cheap. Absolute numbers depend on the machine; the
ratio to a baseline measured in the same process does not (much). The baseline is the same
number of bare ``mondo_ancestors`` look-ups (memoised dict hits), the innermost operation of a
disease-specific decision, so the ratio says how many vocabulary look-ups one decision costs.

The mix is realistic rather than flattering: disease-specific purposes against disease-specific
datasets with real MONDO terms (covered and not), general purposes against general datasets with
duties, population/ancestry research, methods development under NMDS, commercial and for-profit
requesters under NPU/NCU, modifiers that need review, and purposes without a primary purpose.

Run: ``python bench/bench_matcher.py [--decisions N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consent import vocabulary as vocab  # noqa: E402 - path set up above
from consent.matcher import Conditions, Purpose, match  # noqa: E402

# Broad consented diseases (datasets) whose descendants make covered purpose diseases.
BROAD = [
    "MONDO:0004992",  # cancer
    "MONDO:0005015",  # diabetes mellitus
    "MONDO:0004995",  # cardiovascular disorder
    "MONDO:0005044",  # hypertensive disorder
    "MONDO:0005814",  # intestinal cancer
]
GRU, HMB, DS, POA, NRES = "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011", "DUO:0000004"
NMDS, NPOA, NPU, NCU, NPUNCU = (
    "DUO:0000015",
    "DUO:0000044",
    "DUO:0000045",
    "DUO:0000046",
    "DUO:0000018",
)
IRB, PUB, COL, RTN, MOR, TS = (
    "DUO:0000021",
    "DUO:0000019",
    "DUO:0000020",
    "DUO:0000029",
    "DUO:0000024",
    "DUO:0000025",
)
GS, US, IS, PS, RS, GSO = (
    "DUO:0000022",
    "DUO:0000026",
    "DUO:0000028",
    "DUO:0000027",
    "DUO:0000012",
    "DUO:0000016",
)
MDS, POPULATION, ANCESTRY, CONTROL = "DUO:0000031", "DUO:0000032", "DUO:0000033", "DUO:0000036"


def descendants() -> dict[str, list[str]]:
    """MONDO terms under each broad disease (computed once, outside the timed loops)."""
    under: dict[str, list[str]] = {b: [] for b in BROAD}
    for curie in vocab._get().mondo:  # noqa: SLF001 - a benchmark may look inside
        ancestors = vocab.mondo_ancestors(curie)
        for broad in BROAD:
            if broad in ancestors:
                under[broad].append(curie)
    return under


def workload(n: int, seed: int = 2026) -> list[tuple[Purpose, Conditions]]:
    """``n`` purpose/conditions pairs in a fixed, seeded mix."""
    rng = random.Random(seed)
    under = descendants()
    every = sorted(vocab._get().mondo)  # noqa: SLF001
    duties = [IRB, PUB, COL, RTN]
    pairs: list[tuple[Purpose, Conditions]] = []
    for _ in range(n):
        roll = rng.random()
        extra = rng.sample(duties, rng.randint(0, 2))
        flags = {"commercial": rng.random() < 0.1, "for_profit": rng.random() < 0.2}
        if roll < 0.35:  # disease specific against disease specific, 80 % covered
            consented = rng.sample(BROAD, rng.randint(1, 2))
            wanted = [
                rng.choice(under[rng.choice(consented)])
                if rng.random() < 0.8
                else rng.choice(every)
                for _ in range(rng.randint(1, 3))
            ]
            purpose = Purpose(codes=(DS,), diseases=tuple(wanted), **flags)
            conditions = Conditions(codes=(DS, *extra), diseases=tuple(consented))
        elif roll < 0.55:  # general purposes against general datasets, with duties
            purpose = Purpose(codes=(rng.choice([GRU, HMB, DS]),), diseases=(), **flags)
            if DS in purpose.codes:
                purpose = Purpose(codes=(DS,), diseases=(rng.choice(every),), **flags)
            conditions = Conditions(
                codes=(rng.choice([GRU, HMB, NRES]), *extra, TS),
                values={TS: rng.choice([6, 12, 24])},
            )
        elif roll < 0.63:  # population origins / ancestry
            purpose = Purpose(codes=(rng.choice([POA, GRU]), ANCESTRY, POPULATION), **flags)
            npoa = (NPOA,) if rng.random() < 0.5 else ()
            conditions = Conditions(codes=(rng.choice([GRU, HMB, POA]), *npoa))
        elif roll < 0.73:  # methods development under NMDS
            consented = [rng.choice(BROAD)]
            purpose = Purpose(codes=(DS, MDS), diseases=(rng.choice(under[consented[0]]),), **flags)
            conditions = Conditions(codes=(DS, NMDS, *extra), diseases=tuple(consented))
        elif roll < 0.85:  # commercial / for-profit requesters
            purpose = Purpose(codes=(HMB, CONTROL), **flags)
            conditions = Conditions(codes=(HMB, rng.choice([NPU, NCU, NPUNCU]), *extra))
        elif roll < 0.95:  # modifiers that need a person
            code = rng.choice([GS, US, IS, PS, RS, GSO])
            values = {code: "EU"} if code in (GS, US, IS, PS, RS) else {}
            purpose = Purpose(codes=(HMB,), **flags)
            conditions = Conditions(codes=(GRU, code, MOR), values={**values, MOR: "2027-01-01"})
        else:  # no primary purpose
            purpose = Purpose(codes=(MDS,), **flags)
            conditions = Conditions(codes=(GRU, *extra))
        pairs.append((purpose, conditions))
    return pairs


def time_matcher(pairs: list[tuple[Purpose, Conditions]]) -> tuple[float, Counter[str]]:
    decisions: Counter[str] = Counter()
    start = time.perf_counter()
    for purpose, conditions in pairs:
        decisions[match(purpose, conditions).decision] += 1
    return time.perf_counter() - start, decisions


def time_baseline(terms: list[str]) -> float:
    ancestors = vocab.mondo_ancestors
    start = time.perf_counter()
    for term in terms:
        ancestors(term)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs")
    args = parser.parse_args(argv)

    load_start = time.perf_counter()
    vocab.configure()
    vocab.mondo_size()
    load = time.perf_counter() - load_start

    pairs = workload(args.decisions)
    rng = random.Random(7)
    every = sorted(vocab._get().mondo)  # noqa: SLF001
    terms = [rng.choice(every) for _ in pairs]
    time_matcher(pairs[:1000])  # warm the memoised ancestor sets
    time_baseline(terms)

    best_match, best_base = float("inf"), float("inf")
    decisions: Counter[str] = Counter()
    for _ in range(args.repeat):
        elapsed, decisions = time_matcher(pairs)
        best_match = min(best_match, elapsed)
        best_base = min(best_base, time_baseline(terms))
    rate = len(pairs) / best_match
    base = len(terms) / best_base
    mix = ", ".join(f"{k} {v}" for k, v in sorted(decisions.items()))
    print(
        f"matcher: {rate:,.0f} decisions/s  baseline {base:,.0f} mondo_ancestors look-ups/s  "
        f"ratio {rate / base:.4f} (1 decision ~ {base / rate:.0f} look-ups)"
    )
    print(f"  {len(pairs):,} decisions ({mix}); vocabulary load {load * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
