#!/usr/bin/env python
"""What a request dossier costs: a request with 1,000 audit events, built to PDF.

Why: the dossier is the largest report an auditor asks for routinely, and it runs in a worker
while someone watches its progress bar. The figure is the build (chain verification, reading
the content in keyset batches, HTML, WeasyPrint PDF/A, hashing and recording the file); the
baseline is rendering the same HTML without the PDF step, so the ratio is what WeasyPrint adds.

Uses PostgreSQL on 127.0.0.1:5432 (user postgres) in its own scratch database
``lifes_bench_reports``, created and dropped here; ``--sqlite`` uses a scratch SQLite file
instead. Run: ``python bench/bench_reports.py [--events 1000] [--sqlite]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "lifes_bench_reports"
SERVER = "postgres://postgres@127.0.0.1:5432"


def _postgres(action: str) -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if action == "create":
            admin.execute(f"CREATE DATABASE {BENCH_DB}")


def setup(*, use_sqlite: bool, scratch: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.pop("CELERY_BROKER_URL", None)
    if use_sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    else:
        _postgres("create")
        os.environ["DATABASE_URL"] = f"{SERVER}/{BENCH_DB}"
    import django

    django.setup()
    from django.conf import settings

    settings.MEDIA_ROOT = str(scratch / "media")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_world(events: int):
    """The demo world, and its permitted request grown to ``events`` audit events."""
    from django.db import transaction

    from audit.selectors import events_for_object
    from audit.services import audit_record
    from demo.world import seed_demo
    from requests_app.models import AccessRequest

    seed_demo()
    request = AccessRequest.objects.get(title="HbA1c and BMI in type 2 diabetes")
    missing = events - events_for_object(request).count()
    with transaction.atomic():
        for number in range(max(missing, 0)):
            audit_record(
                actor=request.requester,
                action="request.note",
                target=request,
                payload={"n": number, "note": "bench"},
            )
    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--sqlite", action="store_true", help="a scratch SQLite file instead")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lifes-bench-reports-") as tmp:
        scratch = Path(tmp)
        setup(use_sqlite=args.sqlite, scratch=scratch)
        try:
            run(args.events, args.repeat)
        finally:
            from django.db import connections

            connections.close_all()
            if not args.sqlite:
                _postgres("drop")


def run(events: int, repeat: int) -> None:
    from reports import services
    from reports.models import Report

    request = build_world(events)
    services._queue = lambda report_id: None  # noqa: SLF001 - the bench runs the build itself
    pdf_times, html_times = [], []
    for _ in range(repeat):
        report = services.report_request(
            actor=request.requester, kind="dossier", subject=request.reference
        )
        started = time.perf_counter()
        html, _chain = services.report_render_html(Report.objects.get(pk=report.pk))
        html_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        done = services.report_build(report_id=report.pk)
        pdf_times.append(time.perf_counter() - started)
        if done is None or done.status != "done":
            raise SystemExit(f"the dossier was not built: {done and done.message}")
    dossier, baseline = min(pdf_times), min(html_times)
    sys.stdout.write(
        f"dossier ({events:,} events): {dossier:.2f} s  "
        f"baseline: render of the same HTML without PDF: {baseline:.2f} s  "
        f"ratio {dossier / baseline:.1f}  ({len(html) // 1024} KiB of HTML, "
        f"{done.file.size // 1024} KiB of PDF, best of {repeat})\n"
    )


if __name__ == "__main__":
    main()
