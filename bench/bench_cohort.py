#!/usr/bin/env python
"""How long the consenting cohort of a 1,000,000-participant dataset takes, against a baseline.

Why: a node fetches the current cohort before every run and a permit is issued with its digest,
so the cohort must stay fast at the size of a national biobank. The cohort of a permit is
materialised (``consent.cohort.cohort_materialised``): computed once per consent version, then
served from the stored result until consent changes. The baseline, measured in the same run on
the same rows, is a plain indexed ``SELECT count(*)`` of the dataset's participants. Printed:

- ``first``: the first computation of a permit's cohort (the consent query, the sorted ids, the
  digest, storing the result); goal: within 8x the baseline;
- ``repeated``: a repeated fetch of the same cohort (the stored ids and digest); goal: within 3x
  the baseline;
- informational: the count + digest computed in SQL (what a permit is issued with).

It needs PostgreSQL (the digest is computed with ``string_agg`` + ``sha256`` there). It creates
its own scratch database ``lifes_bench_cohort`` on 127.0.0.1:5432 as user ``postgres`` (trust
auth; override with ``BENCH_DATABASE_URL``), migrates it, bulk-loads the participants with COPY
and derives their consents and provisions in SQL, measures, and drops the database.

The consent mix: 40% general research use, 30% health/medical/biomedical, 20% disease-specific
(four MONDO diseases), 10% population origins; 1 in 7 refuses methods development, 1 in 13
refuses type 1 diabetes research, 1 in 5 permits non-commercial use only, 1 in 11 consent
periods has ended, 2% inactive, 0.5% withdrawn (a superseded consent plus a withdrawal record),
1% national opt-out.

Run: ``python bench/bench_cohort.py [--participants N] [--repeat R] [--keep]``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lifes_bench_cohort"
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
DB_NAME = BENCH_URL.rsplit("/", 1)[1]
ADMIN_URL = BENCH_URL.rsplit("/", 1)[0] + "/postgres"
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import psycopg  # noqa: E402 - after the environment is set up

DIABETES, T2D, T1D = "MONDO:0005015", "MONDO:0005148", "MONDO:0005147"
CANCER, COLORECTAL = "MONDO:0004992", "MONDO:0005575"


def admin(sql: str) -> None:
    with psycopg.connect(
        ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(sql)


def create_database() -> bool:
    try:
        admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{DB_NAME}"')
    except psycopg.OperationalError as exc:
        print(f"skipped: no PostgreSQL at {ADMIN_URL} ({str(exc).strip().splitlines()[0]})")
        return False
    return True


TABLES = ("consent_participant", "consent_consentrecord", "consent_consentprovision")


def _drop_indexes(cursor) -> list[str]:
    """Drop the consent tables' secondary indexes and unique constraints; return the SQL that
    recreates exactly them (primary keys, FKs and checks stay)."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)
    """,
        [list(TABLES)],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s) AND i.indexname NOT IN (
            SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))
    """,
        [list(TABLES)],
    )
    indexes = cursor.fetchall()
    rebuild = [definition for _, definition in indexes]
    rebuild += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in constraints
    ]
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return rebuild


def load(dataset_id: int, participants: int) -> None:
    """COPY the participants, then derive consents and provisions server-side."""
    from django.db import connection

    from consent.rules import SUMMARY_CODES

    started = time.perf_counter()
    with connection.cursor() as cursor:
        rebuild = _drop_indexes(cursor)
        # Bulk load as PostgreSQL's own docs advise: FK triggers off (the rows are generated
        # consistent), indexes built once afterwards instead of maintained row by row.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        raw = cursor.connection  # psycopg 3
        with (
            raw.cursor() as copy_cursor,
            copy_cursor.copy(
                "COPY consent_participant (dataset_id, pseudonym, opted_out_at, created_at) "
                "FROM STDIN"
            ) as copy,
        ):
            chunk = io.StringIO()
            for i in range(1, participants + 1):
                opted = "2026-01-01 00:00:00+00" if i % 100 == 37 else "\\N"
                chunk.write(f"{dataset_id}\tP{i:07d}\t{opted}\t2024-01-01 00:00:00+00\n")
                if i % 100_000 == 0:
                    copy.write(chunk.getvalue())
                    chunk = io.StringIO()
            copy.write(chunk.getvalue())
        print(f"  COPY {participants:,} participants: {time.perf_counter() - started:.1f} s")
        step = time.perf_counter()
        cursor.execute(
            """
            INSERT INTO consent_consentrecord (participant_id, pseudonym, dataset_id, status,
                decision, period_start, period_end, policy_uri, policy_version, date_signed,
                source, source_id, content_digest, modifiers, note, recorded_at, recorded_by_id,
                superseded_at, is_current)
            SELECT p.id, p.pseudonym, p.dataset_id,
                   CASE WHEN p.id %% 50 = 3 THEN 'inactive' ELSE 'active' END, 'deny',
                   timestamptz '2020-01-01',
                   CASE WHEN p.id %% 11 = 5 THEN timestamptz '2025-01-01' END,
                   'https://biobank.example/consent', '3.0', date '2019-12-01', 'csv',
                   'row ' || p.id, md5(p.pseudonym) || md5(p.pseudonym), '[]', '',
                   timestamptz '2024-01-01', NULL,
                   CASE WHEN p.id %% 200 = 7 THEN timestamptz '2025-06-01' END,
                   p.id %% 200 <> 7
            FROM consent_participant p WHERE p.dataset_id = %s
        """,
            [dataset_id],
        )
        cursor.execute(
            """
            INSERT INTO consent_consentrecord (participant_id, pseudonym, dataset_id, status,
                decision, policy_uri, policy_version, source, source_id, content_digest,
                modifiers, note, recorded_at, is_current, is_simple)
            SELECT p.id, p.pseudonym, p.dataset_id, 'inactive', 'deny', '', '', 'withdrawal', '',
                   md5(p.pseudonym || 'w') || md5(p.pseudonym || 'w'), '[]', 'bench',
                   timestamptz '2025-06-01', true, true
            FROM consent_participant p WHERE p.dataset_id = %s AND p.id %% 200 = 7
        """,
            [dataset_id],
        )
        cursor.execute(
            """
            INSERT INTO consent_consentprovision (consent_id, dataset_id, decision, code,
                disease, period_start, period_end, is_non_commercial, is_not_for_profit)
            SELECT c.id, c.dataset_id, 'permit',
                   CASE WHEN c.id %% 10 < 4 THEN 'DUO:0000042'
                        WHEN c.id %% 10 < 7 THEN 'DUO:0000006'
                        WHEN c.id %% 10 < 9 THEN 'DUO:0000007'
                        ELSE 'DUO:0000011' END,
                   CASE WHEN c.id %% 10 IN (7, 8) THEN
                        (ARRAY[%s, %s, %s, %s])[1 + (c.id / 10) %% 4] ELSE '' END,
                   c.period_start, c.period_end, c.id %% 5 = 0, false
            FROM consent_consentrecord c WHERE c.dataset_id = %s AND c.source = 'csv'
        """,
            [DIABETES, T2D, CANCER, COLORECTAL, dataset_id],
        )
        cursor.execute(
            """
            INSERT INTO consent_consentprovision (consent_id, dataset_id, decision, code,
                disease, period_start, period_end, is_non_commercial, is_not_for_profit)
            SELECT c.id, c.dataset_id, 'deny', 'DUO:0000031', '', c.period_start, c.period_end,
                   false, false
            FROM consent_consentrecord c
            WHERE c.dataset_id = %s AND c.source = 'csv' AND c.id %% 7 = 0
            UNION ALL
            SELECT c.id, c.dataset_id, 'deny', 'DUO:0000007', %s, c.period_start,
                   c.period_end, false, false
            FROM consent_consentrecord c
            WHERE c.dataset_id = %s AND c.source = 'csv' AND c.id %% 13 = 0
        """,
            [dataset_id, T1D, dataset_id],
        )
        # The summary columns the import writes (consent.rules.summarise), derived the same
        # way in SQL: every provision here has its consent's period, so all are simple.
        cases = " ".join(
            f"WHEN '{code}' THEN {1 << index}" for index, code in enumerate(SUMMARY_CODES)
        )
        cursor.execute(
            f"""
            UPDATE consent_consentrecord c SET is_simple = true, grants_any = s.g_any,
                grants_non_commercial = s.g_nc, grants_not_for_profit = s.g_nfp,
                grants_both = s.g_both, denies = s.d
            FROM (
                SELECT consent_id,
                    coalesce(bit_or(b) FILTER (WHERE decision = 'permit'
                        AND NOT is_non_commercial AND NOT is_not_for_profit), 0) AS g_any,
                    coalesce(bit_or(b) FILTER (WHERE decision = 'permit'
                        AND NOT is_not_for_profit), 0) AS g_nc,
                    coalesce(bit_or(b) FILTER (WHERE decision = 'permit'
                        AND NOT is_non_commercial), 0) AS g_nfp,
                    coalesce(bit_or(b) FILTER (WHERE decision = 'permit'), 0) AS g_both,
                    coalesce(bit_or(b) FILTER (WHERE decision = 'deny'), 0) AS d
                FROM (SELECT consent_id, decision, is_non_commercial, is_not_for_profit,
                             CASE code {cases} ELSE 0 END AS b
                      FROM consent_consentprovision WHERE dataset_id = %s) AS x
                GROUP BY consent_id
            ) AS s
            WHERE c.id = s.consent_id
        """,  # noqa: S608 - the CASE arms are the fixed code list, not input
            [dataset_id],
        )
        cursor.execute(
            "INSERT INTO consent_datasetconsentstate (dataset_id, version, changed_at)"
            " VALUES (%s, 1, now())",
            [dataset_id],
        )
        cursor.execute("SET session_replication_role = origin")
        print(f"  consents and provisions (INSERT ... SELECT): {time.perf_counter() - step:.1f} s")
        step = time.perf_counter()
        for statement in rebuild:
            cursor.execute(statement)
        print(
            f"  {len(rebuild)} indexes and unique constraints rebuilt: "
            f"{time.perf_counter() - step:.1f} s"
        )
        cursor.execute("SELECT count(*) FROM consent_consentrecord")
        consents = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM consent_consentprovision")
        provisions = cursor.fetchone()[0]
    print(f"  {consents:,} consents, {provisions:,} provisions")
    step = time.perf_counter()
    connection.close()
    with psycopg.connect(
        BENCH_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        for table in ("consent_participant", "consent_consentrecord", "consent_consentprovision"):
            conn.execute(f"VACUUM ANALYZE {table}")
    print(f"  VACUUM ANALYZE: {time.perf_counter() - step:.1f} s")


def best(function, repeat: int) -> tuple[float, object]:
    function()  # warm the caches
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if not create_database():
        return 0
    total = time.perf_counter()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        from accounts.services import organisation_create
        from catalogue.services import dataset_create, node_create
        from consent.cohort import digest_of
        from consent.matcher import Purpose
        from consent.selectors import cohort_for

        organisation = organisation_create(
            actor=None, name="Bench Biobank", country="NL", kind="hospital"
        )
        node = node_create(
            actor=None, identifier="bench-node", name="Bench node", organisation=organisation
        )
        dataset = dataset_create(
            actor=None,
            slug="bench-biobank",
            persistent_identifier="https://doi.org/10.5072/b",
            title="Bench biobank",
            description="1,000,000 participants",
            owner=organisation,
            node=node,
            contact_email="bench@example.org",
            duo_codes=["DUO:0000006"],
        )
        print(f"loading {args.participants:,} participants into {DB_NAME} ...")
        load(dataset.pk, args.participants)

        from consent.cohort import cohort_materialised
        from consent.models import MaterialisedCohort

        purpose = Purpose(codes=("DUO:0000006",), commercial=False, for_profit=False)
        key = "permit:LIFES-P-BENCH"

        def first() -> tuple:
            MaterialisedCohort.objects.filter(key=key).delete()
            return cohort_materialised(dataset=dataset, purpose=purpose, key=key)

        def repeated() -> tuple:
            return cohort_materialised(dataset=dataset, purpose=purpose, key=key)

        def baseline() -> int:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM consent_participant WHERE dataset_id = %s", [dataset.pk]
                )
                return cursor.fetchone()[0]

        baseline_seconds, counted = best(baseline, args.repeat)
        first_seconds, (cohort, ids) = best(first, args.repeat)
        repeated_seconds, (served, served_ids) = best(repeated, args.repeat)
        assert served_ids == ids
        assert served.digest == cohort.digest == digest_of(ids)
        sql_seconds, in_sql = best(lambda: cohort_for(dataset=dataset, purpose=purpose), 1)
        assert (in_sql.count, in_sql.digest) == (cohort.count, cohort.digest)
        ds_purpose = Purpose(
            codes=("DUO:0000007", "DUO:0000031"), diseases=(T2D,), commercial=True, for_profit=False
        )
        started = time.perf_counter()  # informational: one run, no warm-up
        ds_cohort = cohort_for(dataset=dataset, purpose=ds_purpose)
        ds_seconds = time.perf_counter() - started
        label = f"{args.participants:,}"
        print(
            f"  HMB cohort: {cohort.count:,} of {counted:,} participants, version "
            f"{cohort.version}, {cohort.digest[:23]}…; DS(type 2 diabetes)+MDS, commercial: "
            f"{ds_cohort.count:,} in {ds_seconds:.2f} s; count + digest in SQL: "
            f"{sql_seconds:.2f} s ({sql_seconds / baseline_seconds:.1f}x)"
        )
        print(f"baseline count(*) {label}: {baseline_seconds:.3f} s")
        print(
            f"cohort {label} first computation: {first_seconds:.2f} s  "
            f"ratio {first_seconds / baseline_seconds:.1f} (goal <= 8)"
        )
        print(
            f"cohort {label} repeated fetch: {repeated_seconds:.3f} s  "
            f"ratio {repeated_seconds / baseline_seconds:.1f} (goal <= 3)"
        )
        print(
            "(the matcher is not here: the cohort is one SQL query with no per-participant "
            "Python; bench/bench_matcher.py measures the matcher)"
        )
        print(f"total {time.perf_counter() - total:.0f} s")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
