"""Report requests are limited per person per hour (each is a PDF build in the worker)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from reports.models import Report


def _state() -> tuple[int, int]:
    return Report.objects.count(), AuditEvent.objects.count()


PERIOD = {"kind": "period", "period_start": "2026-01-01", "period_end": "2026-06-30"}


@pytest.mark.django_db
def test_past_the_hourly_limit_the_api_answers_429_and_nothing_changes(demo, api_client, settings):
    settings.REPORTS_PER_HOUR = 2
    api_client.force_authenticate(demo["auditor"])
    for _ in range(2):
        assert api_client.post("/api/v1/reports", PERIOD, format="json").status_code == 202
    before = _state()

    refused = api_client.post("/api/v1/reports", PERIOD, format="json")

    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "You asked for 2 reports in the last hour; wait a while and try again.",
        "code": "rate_limited",
    }
    assert _state() == before


@pytest.mark.django_db
def test_the_limit_is_per_person_and_per_hour(demo, api_client, settings):
    settings.REPORTS_PER_HOUR = 1
    api_client.force_authenticate(demo["auditor"])
    assert api_client.post("/api/v1/reports", PERIOD, format="json").status_code == 202
    assert api_client.post("/api/v1/reports", PERIOD, format="json").status_code == 429

    # another person is not affected
    api_client.force_authenticate(demo["admin"])
    assert api_client.post("/api/v1/reports", PERIOD, format="json").status_code == 202

    # an hour later the auditor may ask again
    Report.objects.filter(requested_by=demo["auditor"]).update(
        created_at=timezone.now() - dt.timedelta(hours=1, seconds=1)
    )
    api_client.force_authenticate(demo["auditor"])
    assert api_client.post("/api/v1/reports", PERIOD, format="json").status_code == 202


@pytest.mark.django_db
def test_the_page_shows_the_limit_as_a_form_error(demo, client, settings):
    settings.REPORTS_PER_HOUR = 0
    client.force_login(demo["auditor"])
    before = _state()

    response = client.post("/reports/new", PERIOD)

    assert response.status_code == 400
    assert "You asked for 0 reports in the last hour" in response.content.decode()
    assert _state() == before
