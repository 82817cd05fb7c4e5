"""Demo review board and access requests in every state, built through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organisation, User
from catalogue.models import Algorithm, Dataset
from requests_app import services
from requests_app.models import AccessRequest, BoardKind, RequestState, ReviewBoard

BOARD = "LUMC Medical Ethics Committee"
LETTER = b"%PDF-1.4\n% Demo ethics approval letter METC-2026-042\n%%EOF\n"

BASE_ANSWERS: dict[str, Any] = {
    "scientific_abstract": "A federated analysis; only aggregates with cells of at least 10 "
    "leave the data station.",
    "ehds_category": "e",
    "is_commercial": False,
    "no_prohibited_use": True,
    "gdpr_art6_basis": "e",
    "gdpr_art9_basis": "j",
    "ethics_reference": "METC-2026-042",
    "ethics_committee": "METC Leiden Den Haag Delft",
    "ethics_expires_on": dt.date(2029, 12, 31),
    "expected_outputs": "Counts, means and sums per group; no row-level data.",
    "period_start": dt.date(2026, 11, 1),
    "period_end": dt.date(2027, 10, 31),
}

# title, requester, datasets, purpose, where the story ends
REQUESTS: list[tuple[str, str, list[str], dict[str, Any], str]] = [
    (
        "HbA1c and BMI in type 2 diabetes",
        "requester@demo.lifes.test",
        ["leiden-diabetes-cohort"],
        {"purpose_code": "DUO:0000007", "purpose_diseases": ["MONDO:0005148"]},
        "permitted",
    ),
    (
        "Kidney function under diabetes medication",
        "requester@demo.lifes.test",
        ["leiden-diabetes-cohort"],
        {"purpose_code": "DUO:0000007"},
        "draft",
    ),
    (
        "Cardiovascular outcomes after statin therapy",
        "requester@demo.lifes.test",
        ["lumc-cardiovascular-biobank"],
        {"purpose_code": "DUO:0000006"},
        "in_review",
    ),
    (
        "Sex differences in glycaemic control",
        "requester@demo.lifes.test",
        ["leiden-diabetes-cohort"],
        {"purpose_code": "DUO:0000007", "purpose_diseases": ["MONDO:0005015"]},
        "owners",
    ),
    (
        "Healthy ageing and lifestyle",
        "requester@demo.lifes.test",
        ["leiden-population-health-study"],
        {"purpose_code": "DUO:0000042"},
        "changes_requested",
    ),
    (
        "Biomarker discovery for a commercial assay",
        "industry@demo.lifes.test",
        ["lumc-cardiovascular-biobank"],
        {"purpose_code": "DUO:0000006", "is_commercial": True},
        "rejected",
    ),
    (
        "Pilot: data quality of the diabetes cohort",
        "requester@demo.lifes.test",
        ["leiden-diabetes-cohort"],
        {"purpose_code": "DUO:0000007", "purpose_diseases": ["MONDO:0005015"]},
        "withdrawn",
    ),
    (
        "Earlier pilot on HbA1c measurement",
        "requester@demo.lifes.test",
        ["leiden-diabetes-cohort"],
        {"purpose_code": "DUO:0000007", "purpose_diseases": ["MONDO:0005015"]},
        "closed",
    ),
]


def _board(users: dict[str, User], organisation: Organisation) -> ReviewBoard:
    board = ReviewBoard.objects.filter(name=BOARD).first()
    if board is None:
        board = services.board_create(
            actor=None,
            name=BOARD,
            kind=BoardKind.ETHICS,
            organisation=organisation,
            min_votes=2,
            contact_email="metc@lumc.example",
        )
        services.board_member_add(
            actor=None, board=board, user=users["chair@demo.lifes.test"], role="chair"
        )
        for email in ("member1@demo.lifes.test", "member2@demo.lifes.test"):
            services.board_member_add(actor=None, board=board, user=users[email])
    for dataset in Dataset.objects.all():
        if not dataset.review_stages.exists():
            services.dataset_boards_set(actor=None, dataset=dataset, boards=[board])
    return board


def _fill(
    title: str,
    requester: User,
    datasets: list[str],
    purpose: dict[str, Any],
    *,
    complete: bool = True,
) -> AccessRequest:
    request = services.request_create(actor=requester, title=title)
    answers = {"lay_summary": f"{title}: what we learn helps patients and clinicians.", **purpose}
    if complete:
        answers = {
            **BASE_ANSWERS,
            **answers,
            "pi_name": requester.full_name,
            "pi_email": requester.email,
        }
    services.request_update(
        actor=requester,
        request_id=request.pk,
        changes=answers,
        datasets=list(Dataset.objects.filter(slug__in=datasets)),
        algorithms=list(Algorithm.objects.filter(name="mean-bmi-by-sex")) if complete else None,
    )
    if complete:
        services.attachment_add(
            actor=requester,
            request_id=request.pk,
            kind="ethics_letter",
            upload=SimpleUploadedFile("ethics-approval.pdf", LETTER),
        )
    return request


def _submit(request: AccessRequest, requester: User) -> None:
    services.request_submit(actor=requester, request_id=request.pk)
    request.refresh_from_db()
    if request.state == RequestState.SUBMITTED:  # a real worker may not have run the checks yet
        services.checks_run(request_id=request.pk)


def _board_votes(request: AccessRequest, users: dict[str, User], choice: str) -> None:
    for email in ("member1@demo.lifes.test", "member2@demo.lifes.test"):
        services.conflict_declare(actor=users[email], request_id=request.pk, has_conflict=False)
        services.vote_cast(
            actor=users[email],
            request_id=request.pk,
            choice=choice,
            comment="" if choice == "approve" else "Please clarify the purpose.",
        )


def _story(request: AccessRequest, users: dict[str, User], requester: User, end: str) -> None:
    chair, owner = users["chair@demo.lifes.test"], users["owner@demo.lifes.test"]
    if end == "draft":
        return
    if end == "withdrawn":
        _submit(request, requester)
        services.request_withdraw(
            actor=requester, request_id=request.pk, reason="Replaced by a larger study."
        )
        return
    _submit(request, requester)
    if end == "in_review":
        services.conflict_declare(
            actor=users["member1@demo.lifes.test"], request_id=request.pk, has_conflict=False
        )
        services.vote_cast(
            actor=users["member1@demo.lifes.test"], request_id=request.pk, choice="approve"
        )
        return
    choice = {"changes_requested": "request_changes", "rejected": "reject"}.get(end, "approve")
    _board_votes(request, users, choice)
    services.round_close(
        actor=chair,
        request_id=request.pk,
        note="" if choice == "approve" else "See the members' comments.",
    )
    if end in ("changes_requested", "rejected", "owners"):
        return
    for item in request.requested_datasets.select_related("dataset"):
        services.dataset_decide(
            actor=owner,
            request_id=request.pk,
            dataset_slug=item.dataset.slug,
            decision="granted",
            conditions="Acknowledge the LUMC in publications.",
        )
    if end == "closed":
        request.refresh_from_db()
        if request.state in (RequestState.APPROVED, RequestState.PERMITTED):
            services.request_close(
                actor=requester, request_id=request.pk, reason="The pilot is finished."
            )


def seed_requests(report: Any, users: dict[str, User]) -> None:
    lumc = Organisation.objects.get(name="Leiden University Medical Center")
    _board(users, lumc)
    for title, email, datasets, purpose, end in REQUESTS:
        requester = users[email]
        if AccessRequest.objects.filter(title=title, requester=requester).exists():
            continue
        request = _fill(title, requester, datasets, purpose, complete=end != "draft")
        _story(request, users, requester, end)
        report.created.append(f"request {request.reference} ({end})")
