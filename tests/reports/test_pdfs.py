"""The three PDFs, read back: they name their subject and the chain head they were built from,
and each file's SHA-256 is in the audit chain."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone

from audit.models import AuditEvent, AuditTreeHead
from audit.services import chain_verify
from reports.models import ReportStatus
from tests.reports.conftest import build, pdf_text


def _xmp(report) -> bytes:
    from pypdf import PdfReader

    with report.file.open("rb") as handle:
        return PdfReader(handle).trailer["/Root"]["/Metadata"].get_object().get_data()


def _generated_event(report) -> AuditEvent:
    return AuditEvent.objects.get(
        action="report.generated", object_type="reports.report", object_id=str(report.pk)
    )


def _assert_recorded(report) -> bytes:
    assert report.status == ReportStatus.DONE
    assert report.progress == 100
    data = report.file.read()
    assert data.startswith(b"%PDF-")
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    event = _generated_event(report)
    assert event.payload == {
        "kind": report.kind,
        "subject": report.subject,
        "sha256": report.sha256,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "verified_size": report.head_seq,  # nothing was logged between verifying and signing
        "tree_heads_checked": event.payload["tree_heads_checked"],
    }
    heads = event.payload["tree_heads_checked"]
    assert 0 <= heads <= AuditTreeHead.objects.filter(tree_size__lte=report.head_seq).count()
    assert event.seq > report.head_seq
    assert report.is_chain_intact is True
    assert chain_verify().is_intact
    return data


def test_dossier_names_the_request_its_permit_and_the_chain_head(permitted, demo):
    # given
    request, permit = permitted
    # when
    report = build(demo["requester"], kind="dossier", subject=request.reference)
    # then
    text = pdf_text(_assert_recorded(report))
    assert request.reference in text
    assert permit.number in text
    assert report.head_hash[:16] in text
    assert "HbA1c and BMI in type 2 diabetes" in text
    assert "request.submit" in text  # the audit trail
    assert b"pdfaid:part" in _xmp(report)  # PDF/A-3b


def test_certificate_states_the_permit_with_its_fingerprint(permitted, demo):
    request, permit = permitted
    report = build(demo["requester"], kind="certificate", subject=permit.number)
    text = pdf_text(_assert_recorded(report))
    assert permit.number in text
    assert permit.holder_organisation.name in text
    assert report.head_hash[:16] in text
    assert permit.token_sha256[:16] in text.replace("\n", "")
    assert "/register/" in text


def test_period_report_for_the_hub_counts_the_period(permitted, demo):
    today = timezone.localdate()
    report = build(
        demo["auditor"], kind="period", period_start=today - dt.timedelta(days=30), period_end=today
    )
    text = pdf_text(_assert_recorded(report))
    assert report.subject == "hub"
    assert "Period report" in text
    assert report.head_hash[:16] in text
    assert "Issued" in text


def test_a_done_report_is_not_built_again(permitted, demo):
    from reports.services import report_build

    request, _permit = permitted
    report = build(demo["requester"], kind="dossier", subject=request.reference)
    events = AuditEvent.objects.count()
    assert report_build(report_id=report.pk) is None
    assert AuditEvent.objects.count() == events
