"""Who may have which report: refusals are 404 and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from lifes.errors import NotFound
from reports.models import Report
from reports.services import report_request
from tests.reports.conftest import build


def _state() -> tuple[int, int]:
    return Report.objects.count(), AuditEvent.objects.count()


def test_a_stranger_gets_404_for_a_dossier_and_nothing_changes(permitted, stranger, client):
    request, permit = permitted
    before = _state()
    client.force_login(stranger)

    response = client.post("/reports/new", {"kind": "dossier", "subject": request.reference})
    assert response.status_code == 404
    response = client.post("/reports/new", {"kind": "certificate", "subject": permit.number})
    assert response.status_code == 404
    with pytest.raises(NotFound):
        report_request(actor=stranger, kind="dossier", subject=request.reference)
    assert _state() == before


def test_the_requester_cannot_get_a_period_report(permitted, demo, api_client):
    before = _state()
    api_client.force_authenticate(demo["requester"])

    response = api_client.post(
        "/api/v1/reports",
        {"kind": "period", "period_start": "2026-01-01", "period_end": "2026-12-31"},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _state() == before


def test_a_report_is_downloaded_only_by_who_may_see_it(permitted, demo, stranger, client):
    request, _permit = permitted
    report = build(demo["requester"], kind="dossier", subject=request.reference)

    client.force_login(stranger)
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.get(f"/reports/{report.pk}/download").status_code == 404
    assert client.get(f"/reports/{report.pk}/status").status_code == 404

    client.force_login(demo["requester"])
    response = client.get(f"/reports/{report.pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")

    # Auditors see who read what (the report's record), but a dossier shows the request as
    # the person who asked for it may see it (the requester: private answers included), so
    # only that person downloads it.
    client.force_login(demo["auditor"])
    page = client.get(f"/reports/{report.pk}/")
    assert page.status_code == 200
    assert f"/reports/{report.pk}/download" not in page.content.decode()
    assert client.get(f"/reports/{report.pk}/status").json()["download_url"] is None
    assert client.get(f"/reports/{report.pk}/download").status_code == 404


def test_bad_input_is_a_400_never_a_500(demo, api_client, client):
    before = _state()
    api_client.force_authenticate(demo["auditor"])
    cases = [
        {"kind": "nonsense"},
        {"kind": "dossier"},
        {"kind": "period", "period_start": "2026-12-31", "period_end": "2026-01-01"},
        {"kind": "period", "period_start": "yesterday", "period_end": "2026-01-01"},
        {"kind": "period", "period_start": "2026-01-01"},
        {
            "kind": "period",
            "period_start": "2026-01-01",
            "period_end": "2026-02-01",
            "organisation": 999999,
        },
    ]
    for body in cases:
        response = api_client.post("/api/v1/reports", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid"
    client.force_login(demo["auditor"])
    response = client.post(
        "/reports/", {"kind": "period", "period_start": "2026-12-31", "period_end": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "The end must not be before the start." in response.content.decode()
    assert _state() == before


def test_an_auditor_asks_for_a_period_report_through_the_api(demo, api_client):
    api_client.force_authenticate(demo["auditor"])
    today = dt.date.today()  # noqa: DTZ011 - a calendar date, as a user would type it
    response = api_client.post(
        "/api/v1/reports",
        {
            "kind": "period",
            "period_start": str(today - dt.timedelta(days=7)),
            "period_end": str(today),
        },
        format="json",
    )
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "period"
    status = api_client.get(f"/api/v1/reports/{body['id']}").json()
    assert status["id"] == body["id"]
    assert status["status"] in ("queued", "running", "done")


def test_the_request_page_offers_the_dossier_and_shows_its_progress(permitted, demo, client):
    request, _permit = permitted
    client.force_login(demo["requester"])
    page = client.get(request.get_absolute_url()).content.decode()
    assert "Download the dossier (PDF)" in page

    response = client.post("/reports/new", {"kind": "dossier", "subject": request.reference})

    report = Report.objects.get(requested_by=demo["requester"])
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{report.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "<progress" in detail
    assert "Download the PDF" in detail


def test_the_permit_page_links_to_its_certificate_form(permitted, demo, stranger, client):
    _request, permit = permitted
    client.force_login(demo["requester"])
    page = client.get(permit.get_absolute_url()).content.decode()
    assert f"/reports/certificate/{permit.number}/" in page
    response = client.get(f"/reports/certificate/{permit.number}/")
    assert response.status_code == 302
    assert response["Location"] == f"/reports/?kind=certificate&subject={permit.number}"
    assert Report.objects.count() == 0
    client.force_login(stranger)
    assert client.get(f"/reports/certificate/{permit.number}/").status_code == 404
