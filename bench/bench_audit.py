#!/usr/bin/env python
"""What the audit log costs: appends under concurrency, sequencing lag, and verifying it all.

Why: every write in the hub appends an event, so appends must run at insert speed (no global
lock: the sequencer places them afterwards); events must reach a signed tree head promptly;
and an auditor must verify a long-lived log near the speed of reading it, in constant memory.
Each figure is printed with its ratio to a baseline from the same run, on the same database:

- appends: 8 writer threads (own connection, one transaction per append, ``audit_record`` as
  in production: no inline sequencing, the on-commit nudge goes to a broker) against the same
  8 writers doing plain INSERTs of the same rows into a table of the same shape; meanwhile a
  sequencer thread runs ``audit_sequence`` (integrate + sign) back to back, as the beat task
  and the nudges do, and the lag from each commit to the signed head covering it is measured;
- verification: ``manage.py audit_verify`` over N events (a child process, so its wall time
  and peak RSS are its own; every leaf and node recomputed, the signed head checked) against
  the physical limit: COPY of the same columns out of PostgreSQL plus SHA-256 over their
  bytes; and its peak memory at N against N/10 events (near 1.0 means constant memory).

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth). Creates and drops its own
scratch database ``lifes_bench_audit``. Run: ``python bench/bench_audit.py [--events N]``
(default 200,000, or ``BENCH_AUDIT_EVENTS``; the README figures use 1,000,000).
"""

from __future__ import annotations

import argparse
import hashlib
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


# What audit_verify reads of each event: the logged bytes and the columns they must match.
LEAF_COLUMNS = (
    "seq, occurred_at, actor_type, actor_id, action, object_type, object_id, payload, leaf_data"
)


def columns() -> str:
    from audit.exports import EVENT_COLUMNS  # once Django is set up

    return ", ".join(EVENT_COLUMNS)


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
    # As in production: appends do not sequence themselves, nudges go to a broker (here the
    # in-memory one, never consumed: the bench runs its own sequencer thread).
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["AUDIT_SEQUENCE_INLINE"] = "false"
    os.environ.setdefault("LIFES_TEST_KEY_DIR", tempfile.mkdtemp(prefix="lifes-bench-keys-"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the signing keys (permits) sign the tree heads


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


SEQUENCER = """
import sys, time
import django
django.setup()
from audit.services import audit_sequence
while True:
    head = audit_sequence()
    if head is None:
        time.sleep(0.01)
    else:
        print(time.time(), head.tree_size, flush=True)
"""


def start_sequencer() -> subprocess.Popen:
    """The sequencer in its own process, as a Celery worker runs it, back to back (what the
    beat task and the nudges amount to under constant load)."""
    return subprocess.Popen(  # noqa: S603 - our own code, fixed arguments
        [sys.executable, "-c", SEQUENCER],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
    )


def stop_sequencer(child: subprocess.Popen) -> list[tuple[float, int]]:
    """(when a run finished, the tree size it signed), for every run."""
    child.terminate()
    out, _ = child.communicate(timeout=30)
    return [(float(when), int(size)) for when, size in (line.split() for line in out.splitlines())]


def bench_appends(per_writer: int) -> tuple[float, float, float, float]:
    """Appends/s audited and plain, and the sequencing lag (p50, p99 seconds) under that load."""
    from django.db import connection, transaction
    from django.utils import timezone

    from audit.canonical import leaf_data
    from audit.models import AuditEvent
    from audit.services import audit_record, audit_sequence, log_verify

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_plain (LIKE audit_auditevent INCLUDING ALL)")
    label = "bench writer"
    committed: dict[int, float] = {}

    def plain(number: int, i: int) -> None:
        payload = {"writer": number, "i": i}
        data = leaf_data(timezone.now(), "system", "", "bench.append", "", "", payload)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_plain (occurred_at, actor_type, actor_id, actor_label, action, "
                "object_type, object_id, payload, leaf_data) "
                "VALUES (now(), 'system', '', %s, 'bench.append', '', '', %s, %s)",
                [label, f'{{"writer": {number}, "i": {i}}}', data],
            )

    def audited(number: int, i: int) -> None:
        with transaction.atomic():
            event = audit_record(
                actor=None, action="bench.append", payload={"writer": number, "i": i}
            )
        committed[event.pk] = time.time()

    # warm both paths (connections, plans) with the sequencer process running, then measure
    audit_sequence()  # the hub key exists before the sequencer process starts
    sequencer = start_sequencer()
    try:
        run_writers(plain, 5)
        run_writers(audited, 5)
        while AuditEvent.objects.filter(seq__isnull=True).exists():
            time.sleep(0.05)
        committed.clear()
        plain_time = run_writers(plain, per_writer)
        audit_time = run_writers(audited, per_writer)
        while AuditEvent.objects.filter(seq__isnull=True).exists():
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        runs = stop_sequencer(sequencer)
    total = WRITERS * per_writer
    seqs = dict(AuditEvent.objects.filter(pk__in=list(committed)).values_list("pk", "seq"))
    lags = []
    for pk, at in committed.items():
        signed = next(when for when, size in runs if size >= seqs[pk])
        lags.append(max(signed - at, 0.0))
    lags.sort()
    report = log_verify()
    if not report.is_intact or report.count != total + WRITERS * 5 + 1:  # + the key's creation
        raise SystemExit(f"the appended log does not verify: {report}")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
    p50, p99 = lags[len(lags) // 2], lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    return total / audit_time, total / plain_time, p50, p99


# --- (b) a million events ----------------------------------------------------------------------


def load_log(upto: int) -> None:
    """Extend the log to ``upto`` sequenced events: leaves and nodes computed here (the
    sequencer's own functions), rows COPYed in, then one signed head."""
    from django.db import connection

    from audit import merkle
    from audit.canonical import leaf_data
    from audit.models import AuditEvent
    from audit.services import tree_head_sign
    from audit.services.sequence import compact_range, tree_size

    head = tree_size()
    last = AuditEvent.objects.filter(seq=head).values_list("occurred_at", flat=True).first()
    moment = last or datetime(2026, 1, 1, tzinfo=UTC)
    appender = compact_range(head)
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
    # In chunks, so this process stays small: the verification child it forks inherits its
    # peak memory in ru_maxrss on Linux, which would hide whether audit_verify's stays flat.
    chunk = 50_000
    with connection.connection.cursor() as cursor:
        for first in range(head + 1, upto + 1, chunk):
            closed: list[tuple[int, int, bytes]] = []
            with cursor.copy(f"COPY audit_auditevent ({columns()}) FROM STDIN") as copy:
                for seq in range(first, min(first + chunk, upto + 1)):
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
                    kind = "requests_app.accessrequest"
                    data = leaf_data(moment, "user", actor_id, action, kind, object_id, payload)
                    appender.append(merkle.leaf_hash(data), closed)
                    label = f"user{actor_id}@bench.test"
                    copy.write_row(
                        (seq, moment, "user", actor_id, label, action, kind, object_id)
                        + (_json(payload), data)
                    )
            with cursor.copy('COPY audit_audittreenode (level, "index", hash) FROM STDIN') as copy:
                for row in closed:
                    copy.write_row(row)
    tree_head_sign()
    # As a long-lived table would be: hint bits set and statistics current, so neither the
    # verification nor its baseline pays for the bulk load.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditevent")
        cursor.execute("VACUUM (ANALYZE) audit_audittreenode")


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


def physical_limit() -> tuple[float, int]:
    """The floor: COPY the same columns of every event out of PostgreSQL and SHA-256 their bytes
    (what any verifier must at least do: read every event and hash it)."""
    from django.db import connection

    connection.ensure_connection()
    digest = hashlib.sha256()
    started = time.perf_counter()
    size = 0
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(
            f"COPY (SELECT {LEAF_COLUMNS} FROM audit_auditevent ORDER BY seq) TO STDOUT"
        ) as copy,
    ):
        for block in copy:
            digest.update(block)
            size += len(block)
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, default=int(os.environ.get("BENCH_AUDIT_EVENTS", "200000"))
    )
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
        audit_rate, plain_rate, p50, p99 = bench_appends(args.appends)
        print(
            f"audit appends ({WRITERS} writers): {audit_rate:,.0f}/s  "
            f"plain inserts: {plain_rate:,.0f}/s  ratio {audit_rate / plain_rate:.2f} "
            "(goal >= 0.5)"
        )
        print(f"sequencing lag to a signed head under that load: p50 {p50:.3f} s  p99 {p99:.3f} s")

        started = time.perf_counter()
        load_log(small)
        small_time, small_rss, _ = verify_in_child()
        load_log(args.events)
        load_time = time.perf_counter() - started
        big_time, big_rss, summary = verify_in_child()
        limit_time, size = physical_limit()
        mib = 1024 * 1024
        print(f"(loaded {args.events:,} events in {load_time:.0f} s; {summary[:60]}…)")
        print(
            f"audit_verify {args.events:,} events: {big_time:.1f} s "
            f"({args.events / big_time:,.0f} events/s)  physical limit (COPY {size / mib:.0f} MiB "
            f"+ SHA-256): {limit_time:.1f} s  ratio {big_time / limit_time:.1f}x (goal <= 3)"
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
