"""Progress and closeout reports on a permit: when due, filed by the holder only, reminders
before they are due, and staff's list of overdue ones."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from lifes.errors import InvalidTransition, NotAllowed
from permits.models import PermitReport
from permits.services import permit_report_file, permit_reports_remind
from permits.services.reports import report_next, report_schedule


@pytest.mark.django_db
def test_a_permit_owes_progress_reports_while_it_runs_and_a_closeout_after(permit, settings):
    settings.EHDS_PROGRESS_REPORT_MONTHS = 4
    settings.EHDS_CLOSEOUT_REPORT_DAYS = 30

    schedule = report_schedule(permit)

    end = timezone.localtime(permit.valid_until).date()
    kinds = [due.kind for due in schedule]
    assert kinds == ["progress", "progress", "progress", "closeout"]  # months 4, 8, 12 < 366 d
    assert schedule[-1].due_on == end + dt.timedelta(days=30)
    assert all(due.due_on < end for due in schedule[:-1])


@pytest.mark.django_db
def test_the_holder_files_reports_others_are_refused(permit, consented, client):
    events = AuditEvent.objects.count()
    for name in ("owner", "chair", "auditor", "industry"):
        with pytest.raises(NotAllowed):
            permit_report_file(actor=consented[name], number=permit.number, reason="Hello.")
    assert AuditEvent.objects.count() == events
    assert not PermitReport.objects.exists()

    client.force_login(consented["requester"])
    response = client.post(
        f"/permits/{permit.number}/act/file_report/",
        {"reason": "Cohort selected; first models fitted."},
    )

    assert response.status_code == 302
    report = PermitReport.objects.get()
    assert (report.kind, report.filed_by) == ("progress", consented["requester"])
    assert report.due_on == report_schedule(permit)[0].due_on
    assert AuditEvent.objects.filter(action="permit.file_report").count() == 1
    page = client.get(permit.get_absolute_url()).content.decode()
    assert "Cohort selected; first models fitted." in page


@pytest.mark.django_db
def test_after_the_end_the_closeout_is_filed_once(permit, consented):
    requester = consented["requester"]
    later = permit.valid_until + dt.timedelta(days=1)
    assert report_next(permit, now=later).kind == "closeout"

    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=later):
        permit_report_file(actor=requester, number=permit.number, reason="Done; paper in press.")
        with pytest.raises(InvalidTransition) as refused:
            permit_report_file(actor=requester, number=permit.number, reason="Again.")

    assert refused.value.code == "report_already_filed"
    assert PermitReport.objects.get().kind == "closeout"


@pytest.mark.django_db
def test_reminders_once_and_overdue_reports_for_staff(permit, consented, client, settings):
    settings.EHDS_PROGRESS_REPORT_MONTHS = 1
    first_due = report_schedule(permit)[0].due_on
    soon = timezone.make_aware(dt.datetime.combine(first_due, dt.time(9)))
    mail.outbox.clear()

    assert permit_reports_remind(now=soon - dt.timedelta(days=3)) == 1
    assert permit_reports_remind(now=soon - dt.timedelta(days=2)) == 0  # once per report
    assert PermitReport.objects.get().reminded_at is not None

    staff = consented["admin"]
    client.force_login(staff)
    with mock_today(first_due + dt.timedelta(days=5)):
        page = client.get("/permits/reports/overdue/")
    assert page.status_code == 200
    assert permit.number in page.content.decode()
    client.force_login(consented["requester"])
    assert client.get("/permits/reports/overdue/").status_code == 404


def mock_today(day: dt.date):
    from unittest import mock

    return mock.patch("django.utils.timezone.localdate", return_value=day)
