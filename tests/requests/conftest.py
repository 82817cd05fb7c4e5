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
from demo.ehds_world import complete_after_checks
from requests_app import services
from requests_app.models import AccessRequest, ReviewBoard

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "ethics-approval.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def review(world):
    """Boards and a second owner: the diabetes cohort goes through the ethics committee, the
    cardiovascular biobank through the ethics committee and then its data access committee."""
    return review_world(world)


def review_world(world: dict) -> dict:
    """What ``review`` gives, for a fixture of a wider scope that builds ``world`` itself."""
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
    "public_benefit": "Better diabetes care for patients in the Netherlands.",
    "no_stigmatisation": True,
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


def declare_none(request: AccessRequest, *members: User) -> None:
    """Each member declares no conflict of interest: the table lets only them vote."""
    for member in members:
        services.conflict_declare(actor=member, request_id=request.pk, has_conflict=False)


# Markers in the visibility scenario: each appears in an output only for those the rule allows.
PRIVATE_MARKERS = ("FUNDING-SECRET", "COMMERCIAL-SECRET", "DPIA-SECRET", "dpia-secret.pdf")
DELIBERATION_MARKERS = ("VOTE-COMMENT-M1", "CONFLICT-STATEMENT-M2", "INTERNAL-NOTE-CHAIR")
PUBLIC_MARKERS = ("BOARD-REASON-NOTE", "ethics-approval.pdf")
# viewer → (sees private answers, sees the deliberation), as README's visibility table says
EXPECTED_SIGHT = {
    "requester": (True, False),
    "teammate": (True, False),  # on the team, and secretary of the board: recused
    "member1": (True, True),  # declared no conflict
    "member2": (False, False),  # declared a conflict
    "undeclared": (False, True),  # on the board, has not declared
    "chair": (True, True),  # declared no conflict
    "owner": (False, False),
    "auditor": (False, True),
}


@pytest.fixture
def scene(review, django_capture_on_commit_callbacks):
    """A request the ethics committee reviewed and approved, with every kind of thing the
    visibility rule governs: private answers and a private attachment, a team member (who is
    also the board's secretary), a vote with a comment, a declared conflict with a statement,
    an internal note, and the board's decision with its reasons. E-mails are sent as in real
    use (after each commit), into ``mail.outbox``."""
    from django.core import mail

    admin, ethics = review["admin"], review["ethics"]
    teammate = user_create(
        actor=None,
        email="teammate@demo.lifes.test",
        full_name="Tina Teammate",
        password="a-long-test-password",
    )
    undeclared = user_create(
        actor=None,
        email="undeclared@demo.lifes.test",
        full_name="Uma Undeclared",
        password="a-long-test-password",
    )
    services.board_member_add(actor=admin, board=ethics, user=teammate, role="secretary")
    services.board_member_add(actor=admin, board=ethics, user=undeclared)
    requester, chair = review["requester"], review["chair"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request = fill_draft(
            requester,
            ["leiden-diabetes-cohort"],
            answers={
                "funding_source": "FUNDING-SECRET ZonMw grant 0912",
                "commercial_interests": "COMMERCIAL-SECRET consultancy for Statina Pharma",
                "dpia_done": True,
                "dpia_summary": "DPIA-SECRET residual risk in small subgroups",
            },
        )
        services.attachment_add(
            actor=requester,
            request_id=request.pk,
            kind="dpia",
            upload=pdf_upload("dpia-secret.pdf"),
        )
        services.team_member_invite(
            actor=requester, request_id=request.pk, email=teammate.email, role="Statistician"
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(actor=requester, request_id=request.pk)  # checks
    with django_capture_on_commit_callbacks(execute=True):
        complete_after_checks(request)  # the access body finds it complete: routed
    steps = [
        lambda: services.terms_accept(actor=teammate, request_id=request.pk),
        lambda: services.conflict_declare(
            actor=review["member1"], request_id=request.pk, has_conflict=False
        ),
        lambda: services.vote_cast(
            actor=review["member1"],
            request_id=request.pk,
            choice="approve",
            comment="VOTE-COMMENT-M1 sound design",
        ),
        lambda: services.conflict_declare(
            actor=review["member2"],
            request_id=request.pk,
            has_conflict=True,
            statement="CONFLICT-STATEMENT-M2 I co-author with the PI",
        ),
        lambda: services.comment_add(
            actor=chair, request_id=request.pk, body="INTERNAL-NOTE-CHAIR check", is_internal=True
        ),
        lambda: services.conflict_declare(actor=chair, request_id=request.pk, has_conflict=False),
        lambda: services.vote_cast(
            actor=chair, request_id=request.pk, choice="approve", comment="VOTE-COMMENT-CHAIR"
        ),
        lambda: services.round_close(
            actor=chair, request_id=request.pk, note="BOARD-REASON-NOTE the design is sound"
        ),
    ]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
    request.refresh_from_db()
    return {"request": request, "teammate": teammate, "undeclared": undeclared, **review}
