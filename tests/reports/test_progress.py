"""A dossier over 1,000 audit events reports its progress while it runs, and the page shows it."""

from __future__ import annotations

import re

from django.db import transaction
from django.test import TestCase

from audit.services import audit_record
from reports.models import ReportStatus
from reports.services import report_build, report_request
from tests.reports.conftest import pdf_text


def test_a_long_dossier_shows_increasing_progress_while_it_runs(permitted, demo, client):
    # given: a request with 1,000 more audit events
    request, _permit = permitted
    with transaction.atomic():
        for number in range(1000):
            audit_record(
                actor=demo["requester"],
                action="request.note",
                target=request,
                payload={"n": number},
            )
    with TestCase.captureOnCommitCallbacks(execute=False):
        report = report_request(actor=demo["requester"], kind="dossier", subject=request.reference)
    client.force_login(demo["requester"])
    seen: list[int] = []
    pages: list[tuple[int, str]] = []

    def watch(row) -> None:
        assert row.status == ReportStatus.RUNNING
        seen.append(row.progress)
        if len(pages) < 3 or row.progress >= 80:
            pages.append((row.progress, client.get(f"/reports/{row.pk}/").content.decode()))

    # when
    done = report_build(report_id=report.pk, on_progress=watch)

    # then: stored progress rose step by step, with one step per 200 events in the trail
    assert done.status == ReportStatus.DONE
    assert done.progress == 100
    assert seen == sorted(seen)
    assert len(set(seen)) >= 10
    assert seen[0] < 10
    assert seen[-1] >= 90
    for progress, html in pages:
        match = re.search(r'<progress id="report-progress" max="100" value="(\d+)"', html)
        assert match
        assert int(match.group(1)) == progress
        assert f'aria-valuenow="{progress}"' in html
        assert 'http-equiv="refresh"' in html
    assert pdf_text(done.file.read()).count("request.note") == 1000
