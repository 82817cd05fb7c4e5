"""The demo's people with a permitted request (built by the factories), and helpers to read
reports."""

from __future__ import annotations

import io

import pytest


@pytest.fixture
def demo(world):
    """The factory world with the ethics committee and the demo's permitted request ("HbA1c and
    BMI in type 2 diabetes": consenting participants, the committee approves, the owner grants,
    the permit is issued); people by the part of their email before the @."""
    from tests.factories import permitted_request

    permitted_request(world)
    return world


@pytest.fixture
def permitted(demo):
    """The demo request that ends approved and permitted, with its live permit."""
    from requests_app.models import AccessRequest

    request = AccessRequest.objects.get(title="HbA1c and BMI in type 2 diabetes")
    return request, request.permits.order_by("-issued_at").first()


@pytest.fixture
def stranger(db):
    from accounts.services import user_create

    return user_create(
        actor=None,
        email="stranger@example.org",
        full_name="Sam Stranger",
        password="a-long-test-password",
    )


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def build(actor, **kwargs):
    """Ask for a report and run its task as the worker would (after commit)."""
    from django.test import TestCase

    from reports.services import report_request

    with TestCase.captureOnCommitCallbacks(execute=True):
        report = report_request(actor=actor, **kwargs)
    report.refresh_from_db()
    return report
