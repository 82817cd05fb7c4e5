#!/usr/bin/env python
"""What the audit chain costs: appends under concurrency, and verifying a million events.

Why: every write in the hub appends an event while holding the chain's one lock, so appends
must not become the bottleneck; and an auditor must be able to verify a long-lived log in
reasonable time and constant memory. Each figure is printed with its ratio to a baseline from
the same run, on the same database:

- appends: 8 writer threads (own connection, one transaction per append, ``audit_record``)
  against the same 8 writers doing plain INSERTs of the same rows into a table of the same
  shape (same columns and indexes, no chain, no lock);
- verification: ``manage.py audit_verify`` over 1,000,000 events (in a child process, so its
  wall time and peak RSS are the command's own) against a plain keyset read of the same
  tuples without hashing; and its peak memory at 1,000,000 events against 100,000 events
  (a ratio near 1.0 means constant memory).

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth). Creates and drops its own
scratch database ``lifes_bench_audit``. Run: ``python bench/bench_audit.py [--events N]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "lifes_bench_audit"
SERVER = "postgres://postgres@127.0.0.1:5432"
WRITERS = 8


def columns() -> str:
    """The audit table's columns in export order (imported once Django is set up)."""
    from audit.exports import HEADER

    return ", ".join(HEADER)


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DATABASE_URL"] = f"{SERVER}/{BENCH_DB}"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "audit", verbosity=0)


# --- (a) appends -------------------------------------------------------------------------------


def run_writers(work, per_writer: int) -> float:
    """``work(writer, i)`` in 8 threads at once; returns the wall time of the slowest."""
    from django.db import connection

    barrier = threading.Barrier(WRITERS + 1)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            for i in range(per_writer):
                work(number, i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed


def bench_appends(per_writer: int) -> tuple[float, float]:
    from django.db import connection, transaction

    from audit.services import audit_record, chain_verify

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plain (LIKE audit_auditevent INCLUDING ALL)")
    counter = itertools.count(1)
    label = "bench writer"

    def plain(number: int, i: int) -> None:
        seq = next(counter)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO bench_plain ({columns()}) "
                "VALUES (%s, now(), 'system', '', %s, 'bench.append', '', '', %s, %s, %s)",
                [seq, label, f'{{"writer": {number}, "i": {i}}}', f"{seq - 1:064x}", f"{seq:064x}"],
            )

    def audited(number: int, i: int) -> None:
        with transaction.atomic():
            audit_record(actor=None, action="bench.append", payload={"writer": number, "i": i})

    # warm both paths (connections, plans), then measure
    run_writers(plain, 5)
    run_writers(audited, 5)
    plain_time = run_writers(plain, per_writer)
    audit_time = run_writers(audited, per_writer)
    total = WRITERS * per_writer
    report = chain_verify()
    if not report.is_intact or report.count != total + WRITERS * 5:
        raise SystemExit(f"the appended chain does not verify: {report}")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
    return total / audit_time, total / plain_time


# --- (b) a million events ----------------------------------------------------------------------


def load_chain(upto: int) -> None:
    """Extend the chain to ``upto`` valid events: hashes computed here, rows COPYed in."""
    from django.db import connection

    from audit.canonical import event_hash
    from audit.models import GENESIS_HASH, AuditEvent, ChainHead

    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash", "occurred_at").first()
    head, prev, moment = last or (0, GENESIS_HASH, datetime(2026, 1, 1, tzinfo=UTC))
    actions = (
        "request.created",
        "request.submitted",
        "vote.cast",
        "permit.issued",
        "receipt.recorded",
        "consent.withdrawn",
    )
    step = timedelta(milliseconds=7)
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY audit_auditevent ({columns()}) FROM STDIN") as copy,
    ):
        for seq in range(head + 1, upto + 1):
            moment += step
            action = actions[seq % len(actions)]
            actor_id = str(seq % 97)
            object_id = str(seq % 5003)
            payload = {
                "n": seq,
                "request": f"R-2026-{seq % 5003:05d}",
                "reason": "bench",
                "datasets": [seq % 11, seq % 13],
            }
            digest = event_hash(
                prev_hash=prev,
                seq=seq,
                occurred_at=moment,
                actor_type="user",
                actor_id=actor_id,
                action=action,
                object_type="requests_app.accessrequest",
                object_id=object_id,
                payload=payload,
            )
            copy.write_row(
                (
                    seq,
                    moment,
                    "user",
                    actor_id,
                    f"user{actor_id}@bench.test",
                    action,
                    "requests_app.accessrequest",
                    object_id,
                    _json(payload),
                    prev,
                    digest,
                )
            )
            prev = digest
    ChainHead.objects.update_or_create(pk=1, defaults={"seq": upto, "hash": prev})
    # As a long-lived table would be: hint bits set and statistics current, so neither the
    # verification nor its baseline pays for the bulk load.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditevent")


def _json(value) -> str:
    from audit.canonical import canonical_json

    return canonical_json(value)


def verify_in_child() -> tuple[float, int, str]:
    """``manage.py audit_verify`` in a child process: wall seconds, peak RSS (bytes), output.

    ``os.wait4`` gives this child's own resource usage, so its peak is not mixed with others.
    """
    env = dict(
        os.environ, DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=f"{SERVER}/{BENCH_DB}"
    )
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "manage.py", "audit_verify"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            text=True,
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise SystemExit(f"audit_verify failed: {err.read()}")
        return elapsed, usage.ru_maxrss * 1024, out.readline().strip()


def plain_read(batch_size: int = 10000) -> tuple[float, int]:
    """The baseline: the same keyset batches of the same tuples, no hashing."""
    from audit.models import AuditEvent

    fields = (
        "seq",
        "occurred_at",
        "actor_type",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "payload",
        "prev_hash",
        "hash",
    )
    started = time.perf_counter()
    last, count = 0, 0
    while True:
        batch = list(
            AuditEvent.objects.filter(seq__gt=last)
            .order_by("seq")
            .values_list(*fields)[:batch_size]
        )
        if not batch:
            break
        count += len(batch)
        last = batch[-1][0]
    return time.perf_counter() - started, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--appends", type=int, default=250, help="appends per writer")
    args = parser.parse_args()
    small = max(args.events // 10, 1)

    try:
        recreate_database()
    except psycopg.OperationalError as exc:
        print(f"skipped: needs PostgreSQL at {SERVER} ({exc.__class__.__name__})")
        return
    try:
        setup_django()
        audit_rate, plain_rate = bench_appends(args.appends)
        print(
            f"audit appends ({WRITERS} writers): {audit_rate:,.0f}/s  "
            f"plain inserts: {plain_rate:,.0f}/s  ratio {plain_rate / audit_rate:.1f}x"
        )

        started = time.perf_counter()
        load_chain(small)
        small_time, small_rss, _ = verify_in_child()
        load_chain(args.events)
        load_time = time.perf_counter() - started
        big_time, big_rss, summary = verify_in_child()
        read_time, count = plain_read()
        if count != args.events:
            raise SystemExit(f"read {count} events, expected {args.events}")
        mib = 1024 * 1024
        print(f"(loaded {args.events:,} chained events in {load_time:.0f} s; {summary[:40]}…)")
        print(
            f"audit_verify {args.events:,} events: {big_time:.1f} s "
            f"({args.events / big_time:,.0f} events/s)  plain keyset read: {read_time:.1f} s  "
            f"ratio {big_time / read_time:.1f}x"
        )
        print(
            f"audit_verify peak memory: {args.events:,} events {big_rss / mib:.0f} MiB  "
            f"{small:,} events {small_rss / mib:.0f} MiB  ratio {big_rss / small_rss:.2f}x "
            f"(time ratio {big_time / small_time:.1f}x)"
        )
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()


if __name__ == "__main__":
    main()
