"""Generated from the transition table: every role tries every action in every situation.

Allowed attempts succeed and land where the table says; all others are refused and change
nothing: no row, no audit event, no email queued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from accounts.services import user_create
from audit.models import AuditEvent
from catalogue.models import Dataset
from lifes.errors import DomainError
from requests_app import services
from requests_app.models import AccessRequest
from requests_app.permissions import situation_of
from requests_app.workflow import SITUATIONS, TRANSITIONS, Role
from tests.requests.conftest import fill_draft


class Rollback(Exception):
    pass


# Each actor and the roles the table should see in them, by situation.
def expected_roles(actor: str, situation: str) -> set[Role]:
    reviewing = situation == "in_review:boards"
    return {
        "requester": {Role.REQUESTER},
        "team_member": {Role.TEAM},
        "board_member": {Role.MEMBER} if reviewing else set(),
        "board_chair": {Role.MEMBER, Role.CHAIR} if reviewing else set(),
        "data_owner": {Role.OWNER},
        "auditor": {Role.AUDITOR},
        "staff": {Role.STAFF},
        "outsider": set(),
        "system": {Role.SYSTEM},
    }[actor]


ACTORS = (
    "requester",
    "team_member",
    "board_member",
    "board_chair",
    "data_owner",
    "auditor",
    "staff",
    "outsider",
    "system",
)


def commands() -> dict[str, Callable[..., Any]]:
    from permits.services import permit_issue

    return {
        "edit": lambda a, r: services.request_update(
            actor=a, request_id=r, changes={"lay_summary": "Edited."}
        ),
        "submit": lambda a, r: services.request_submit(actor=a, request_id=r),
        "resubmit": lambda a, r: services.request_resubmit(actor=a, request_id=r),
        "withdraw": lambda a, r: services.request_withdraw(actor=a, request_id=r),
        "route": lambda a, r: services.request_route(actor=a, request_id=r),
        "accept_terms": lambda a, r: services.terms_accept(actor=a, request_id=r),
        "comment": lambda a, r: services.comment_add(actor=a, request_id=r, body="A question."),
        "declare_conflict": lambda a, r: services.conflict_declare(
            actor=a, request_id=r, has_conflict=False
        ),
        "vote": lambda a, r: services.vote_cast(actor=a, request_id=r, choice="approve"),
        "close_round": lambda a, r: services.round_close(actor=a, request_id=r),
        "decide_dataset": lambda a, r: services.dataset_decide(
            actor=a, request_id=r, dataset_slug="leiden-diabetes-cohort", decision="granted"
        ),
        "issue_permit": lambda a, r: permit_issue(actor=a, request_id=r),
        "amend": lambda a, r: services.request_amend(actor=a, request_id=r),
        "close": lambda a, r: services.request_close(actor=a, request_id=r),
    }


@pytest.fixture
def people(review):
    make = lambda email, **flags: user_create(  # noqa: E731
        actor=None, email=email, password="a-long-test-password", **flags
    )
    voter_a, voter_b = make("voter.a@demo.lifes.test"), make("voter.b@demo.lifes.test")
    for voter in (voter_a, voter_b):
        services.board_member_add(actor=review["admin"], board=review["ethics"], user=voter)
    team = make("team@demo.lifes.test")
    return {
        "requester": review["requester"],
        "team_member": team,
        "board_member": review["member1"],
        "board_chair": review["chair"],
        "data_owner": review["owner"],
        "auditor": review["auditor"],
        "staff": make("staff@demo.lifes.test", is_staff=True),
        "outsider": review["industry"],
        "system": None,
        "voters": (voter_a, voter_b),
    }


def build(situation: str, people: dict[str, Any]) -> AccessRequest:
    requester, chair = people["requester"], people["board_chair"]
    request = fill_draft(requester, ["leiden-diabetes-cohort"])
    services.team_member_invite(
        actor=requester, request_id=request.pk, email=people["team_member"].email
    )
    if situation == "draft":
        return request
    if situation == "withdrawn":
        services.request_withdraw(actor=requester, request_id=request.pk)
        return request
    services.request_submit(actor=requester, request_id=request.pk)
    if situation == "submitted":
        return request
    services.request_route(actor=None, request_id=request.pk)
    choice = {"changes_requested": "request_changes", "rejected": "reject"}.get(
        situation, "approve"
    )
    for voter in people["voters"]:
        services.vote_cast(actor=voter, request_id=request.pk, choice=choice, comment="Because.")
    if situation == "in_review:boards":
        return request
    services.round_close(actor=chair, request_id=request.pk)
    if situation in ("in_review:owners", "changes_requested", "rejected"):
        return request
    services.dataset_decide(
        actor=people["data_owner"],
        request_id=request.pk,
        dataset_slug="leiden-diabetes-cohort",
        decision="granted",
    )
    if situation == "approved":
        return request
    from permits.services import permit_issue

    permit_issue(actor=None, request_id=request.pk)
    if situation == "permitted":
        return request
    services.request_close(actor=requester, request_id=request.pk)
    assert situation == "closed"
    return request


def footprint(request_id: int) -> tuple:
    request = AccessRequest.objects.get(pk=request_id)
    return (
        request.state,
        request.round,
        request.lay_summary,
        request.submissions.count(),
        request.stages.count(),
        tuple(request.stages.values_list("state", flat=True).order_by("pk")),
        request.comments.count(),
        request.team.filter(accepted_terms_at__isnull=False).count(),
        request.checks.count(),
        tuple(request.requested_datasets.values_list("decision", flat=True)),
        sum(s.votes.count() + s.declarations.count() for s in request.stages.all()),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("situation", SITUATIONS)
def test_every_role_tries_every_action(situation, people, django_capture_on_commit_callbacks):
    request = build(situation, people)
    request.refresh_from_db()  # the services changed the row, not this instance
    assert situation_of(request) == situation
    run = commands()
    assert set(run) == {t.action for t in TRANSITIONS}, "every action needs a command here"
    problems: list[str] = []
    for transition in TRANSITIONS:
        for actor_name in ACTORS:
            actor = people[actor_name]
            allowed = situation in transition.sources and bool(
                expected_roles(actor_name, situation) & transition.roles
            )
            before = footprint(request.pk)
            outcome = ""
            try:
                with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
                    try:
                        run[transition.action](actor, request.pk)
                    except DomainError as exc:
                        outcome = f"refused ({exc.code}: {exc.message})"
                        after = footprint(request.pk)
                    else:
                        outcome = "done"
                        after = footprint(request.pk)
                    raise Rollback
            except Rollback:
                pass
            where = f"{situation} × {transition.action} × {actor_name}"
            if allowed:
                if outcome != "done":
                    problems.append(f"{where}: allowed by the table but {outcome}")
                    continue
                if transition.targets and after[0] not in transition.targets:
                    problems.append(f"{where}: ended in {after[0]}, not {transition.targets}")
                if after[-1] <= before[-1]:
                    problems.append(f"{where}: no audit event")
            else:
                if outcome == "done":
                    problems.append(f"{where}: refused by the table but it succeeded")
                elif after != before:
                    problems.append(f"{where}: refused but changed {before} → {after}")
                elif callbacks:
                    problems.append(f"{where}: refused but queued {len(callbacks)} side effects")
    assert problems == [], "\n".join(problems)
    assert Dataset.objects.filter(slug="leiden-diabetes-cohort").exists()
