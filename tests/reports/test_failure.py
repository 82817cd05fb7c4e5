"""A report never stays "running": whatever step of the build fails, it ends failed with a reason."""

from __future__ import annotations

from audit.models import AuditEvent
from reports.models import Report, ReportStatus
from tests.reports.conftest import build


def test_a_report_whose_file_cannot_be_stored_ends_failed_with_the_reason(
    permitted, demo, settings, tmp_path
):
    # given: the media directory is not a directory (a full or broken disk looks the same)
    blocked = tmp_path / "media"
    blocked.write_text("not a directory")
    settings.MEDIA_ROOT = blocked
    request, _permit = permitted
    generated = AuditEvent.objects.filter(action="report.generated").count()

    # when: the last step of the build (storing the PDF) fails
    report = build(demo["requester"], kind="dossier", subject=request.reference)

    # then
    assert report.status == ReportStatus.FAILED
    assert "Not a directory" in report.message or "File exists" in report.message
    assert report.finished_at is not None
    assert report.sha256 == ""
    assert AuditEvent.objects.filter(action="report.generated").count() == generated
    assert Report.objects.filter(status=ReportStatus.RUNNING).count() == 0
