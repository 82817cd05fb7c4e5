"""The demo world with its requests (one of them permitted), and helpers to read reports."""

from __future__ import annotations

import io

import pytest


@pytest.fixture
def demo(db):
    """seed_demo() with requests; people by the part of their email before the @."""
    from django.test import TestCase

    from accounts.models import User
    from demo.world import seed_demo

    # the permit is issued after the approval commits, as in real use
    with TestCase.captureOnCommitCallbacks(execute=True):
        seed_demo()
    return {user.email.split("@")[0]: user for user in User.objects.filter(is_machine=False)}


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
