"""Demo review board and access requests in every state, built through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organisation, User
from catalogue.models import Algorithm, Dataset
from demo.ehds_world import complete_after_checks
from demo.forms_world import custodian_answers
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
    "public_benefit": "Better care for the patients the data are about.",
    "no_stigmatisation": True,
    "gdpr_art6_basis": "e",
    "gdpr_art9_basis": "j",
    "ethics_reference": "METC-2026-042",
    "ethics_committee": "METC Leiden Den Haag Delft",
    "ethics_expires_on": dt.date(2029, 12, 31),
    "expected_outputs": "Counts, means and sums per group; no row-level data.",
    "period_start": dt.date(2026, 11, 1),
    "period_end": dt.date(2027, 10, 31),
}

# Private answers (answers.PRIVATE_FIELDS) of the requests the boards are reviewing, so the
# visibility rule shows in the demo: member1 declared no conflict and reads them; member2 has
# not declared yet and sees "(private)"; the data owner never does. The team member has no
# account: the invitation is by e-mail.
PRIVATE_ANSWERS: dict[str, Any] = {
    "funding_source": "ZonMw Open Competition grant 09120012310045 (public funding, 2026-2029)",
    "commercial_interests": (
        "None for the study. The principal investigator advises Statina Pharma B.V. on an "
        "unrelated trial (paid consultancy, declared to the LUMC in 2025)."
    ),
    "dpia_done": True,
    "dpia_summary": (
        "DPIA LUMC-DPIA-2026-117: federated analysis, no data leave the data station; only "
        "aggregates with cells of at least 10 are returned; pseudonymous identifiers never "
        "reach the hub. Residual risk: re-identification through small subgroups, mitigated "
        "by the minimum cell count and the disclosure check at the node. Approved by the "
        "LUMC data protection officer on 2026-09-14."
    ),
}
TEAM_MEMBER = ("j.devries@lumc.example", "Statistician")

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
        "Physical activity and frailty in older adults",
        "requester@demo.lifes.test",
        ["leiden-population-health-study"],
        {"purpose_code": "DUO:0000042"},
        "awaiting_acceptance",
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
    extra = custodian_answers(request) if complete else {}
    if extra:  # the LUMC's own questions on the population study (demo/forms_world.py)
        services.request_update(actor=requester, request_id=request.pk, changes=extra)
    if complete:
        services.attachment_add(
            actor=requester,
            request_id=request.pk,
            kind="ethics_letter",
            upload=SimpleUploadedFile("ethics-approval.pdf", LETTER),
        )
        from demo.terms_world import minimise

        minimise(request)
    return request


def _submit(request: AccessRequest, requester: User) -> None:
    services.request_submit(actor=requester, request_id=request.pk)
    # A real worker may not have run the checks yet; then the access body finds it complete.
    complete_after_checks(request)


def _board_votes(request: AccessRequest, users: dict[str, User], choice: str) -> None:
    for email in ("member1@demo.lifes.test", "member2@demo.lifes.test"):
        services.conflict_declare(actor=users[email], request_id=request.pk, has_conflict=False)
        services.vote_cast(
            actor=users[email],
            request_id=request.pk,
            choice=choice,
            comment="" if choice == "approve" else "Please clarify the purpose.",
        )


#: The committee's reasons for the rejected demo request: published on the register.
REJECTION_NOTE = (
    "The committee rejects the application: the study would link data of minors without the "
    "parental consent the cohort's consent requires, and the requested period exceeds the "
    "ethics approval."
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
    if end in ("permitted", "closed"):
        # The requester accepts the datasets' terms in the wizard: the permit is active at issue.
        services.terms_accept(actor=requester, request_id=request.pk)
    if end == "awaiting_acceptance":
        # An invited statistician without an account: the permit waits for their acceptance.
        services.team_member_invite(
            actor=requester, request_id=request.pk, email=TEAM_MEMBER[0], role=TEAM_MEMBER[1]
        )
    if end in ("in_review", "owners"):
        services.request_update(actor=requester, request_id=request.pk, changes=PRIVATE_ANSWERS)
        services.team_member_invite(
            actor=requester, request_id=request.pk, email=TEAM_MEMBER[0], role=TEAM_MEMBER[1]
        )
    _submit(request, requester)
    if end == "in_review":
        services.conflict_declare(
            actor=users["member1@demo.lifes.test"], request_id=request.pk, has_conflict=False
        )
        services.vote_cast(
            actor=users["member1@demo.lifes.test"], request_id=request.pk, choice="approve"
        )
        # An internal note: the boards read it, the requester and the data owner never do.
        services.comment_add(
            actor=users["member1@demo.lifes.test"],
            request_id=request.pk,
            body="The PI's consultancy for Statina Pharma is unrelated; no conflict for us.",
            is_internal=True,
        )
        return
    choice = {"changes_requested": "request_changes", "rejected": "reject"}.get(end, "approve")
    _board_votes(request, users, choice)
    services.round_close(
        actor=chair,
        request_id=request.pk,
        note=REJECTION_NOTE
        if choice == "reject"
        else ("" if choice == "approve" else "See the members' comments."),
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
    if end == "awaiting_acceptance":
        request.refresh_from_db()
        if request.state == RequestState.APPROVED:  # no worker issued it (yet)
            from permits.services import permit_issue

            permit_issue(actor=None, request_id=request.pk)
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
