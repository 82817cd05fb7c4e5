"""A review set-up on top of the demo world: an ethics committee and a data access committee,
two data owners, and a helper that fills a complete draft through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from accounts.services import membership_add, user_create
from catalogue.models import Algorithm, Dataset
from catalogue.services import dataset_stewards_set
from requests_app import services
from requests_app.models import AccessRequest, ReviewBoard

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "ethics-approval.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def review(world):
    """Boards and a second owner: the diabetes cohort goes through the ethics committee, the
    cardiovascular biobank through the ethics committee and then its data access committee."""
    from requests_app.models import BoardKind

    admin = world["admin"]
    lumc = world["owner"].memberships.get().organisation
    owner2 = user_create(
        actor=None,
        email="owner2@demo.lifes.test",
        full_name="Otto Owner",
        password="a-long-test-password",
    )
    membership_add(actor=None, user=owner2, organisation=lumc, role="steward")
    cardio = Dataset.objects.get(slug="lumc-cardiovascular-biobank")
    dataset_stewards_set(actor=admin, dataset=cardio, stewards=[owner2])
    ethics = ReviewBoard.objects.filter(kind=BoardKind.ETHICS).first()
    if ethics is None:
        ethics = services.board_create(
            actor=admin,
            name="LUMC Medical Ethics Committee",
            kind=BoardKind.ETHICS,
            organisation=lumc,
            min_votes=2,
        )
        services.board_member_add(actor=admin, board=ethics, user=world["chair"], role="chair")
        services.board_member_add(actor=admin, board=ethics, user=world["member1"])
        services.board_member_add(actor=admin, board=ethics, user=world["member2"])
    member3 = user_create(
        actor=None,
        email="member3@demo.lifes.test",
        full_name="Mara Member",
        password="a-long-test-password",
    )
    dac = services.board_create(
        actor=admin,
        name="Cardio Data Access Committee",
        kind=BoardKind.DAC,
        organisation=lumc,
        quorum_rule="chair_decides",
        min_votes=1,
    )
    services.board_member_add(actor=admin, board=dac, user=owner2, role="chair")
    services.board_member_add(actor=admin, board=dac, user=member3)
    diabetes = Dataset.objects.get(slug="leiden-diabetes-cohort")
    services.dataset_boards_set(actor=admin, dataset=diabetes, boards=[ethics])
    services.dataset_boards_set(actor=admin, dataset=cardio, boards=[ethics, dac])
    return {
        "ethics": ethics,
        "dac": dac,
        "owner2": owner2,
        "member3": member3,
        "diabetes": diabetes,
        "cardio": cardio,
        **world,
    }


COMPLETE_ANSWERS = {
    "lay_summary": "We study how blood sugar control relates to weight in adults with diabetes.",
    "scientific_abstract": "Cross-sectional analysis of HbA1c and BMI by sex.",
    "ehds_category": "e",
    "purpose_code": "DUO:0000007",
    "purpose_diseases": ["MONDO:0005148"],
    "is_commercial": False,
    "no_prohibited_use": True,
    "pi_name": "Rana Requester",
    "pi_email": "requester@demo.lifes.test",
    "gdpr_art6_basis": "e",
    "gdpr_art9_basis": "j",
    "ethics_reference": "METC-2026-042",
    "ethics_committee": "METC Leiden Den Haag Delft",
    "ethics_expires_on": dt.date(2029, 12, 31),
    "expected_outputs": "Mean BMI and counts per sex, cells of at least 10.",
    "period_start": dt.date(2026, 12, 1),
    "period_end": dt.date(2027, 11, 30),
}


def fill_draft(
    requester: User,
    datasets: list[str],
    *,
    title: str = "Glycaemic control and BMI",
    answers: dict | None = None,
) -> AccessRequest:
    request = services.request_create(actor=requester, title=title)
    services.request_update(
        actor=requester,
        request_id=request.pk,
        changes={**COMPLETE_ANSWERS, **(answers or {})},
        datasets=list(Dataset.objects.filter(slug__in=datasets)),
        algorithms=list(Algorithm.objects.filter(name="mean-bmi-by-sex")),
    )
    services.attachment_add(
        actor=requester, request_id=request.pk, kind="ethics_letter", upload=pdf_upload()
    )
    request.refresh_from_db()
    return request
