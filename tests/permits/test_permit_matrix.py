"""Generated from the permit table (``permits/workflow.py``): every actor tries every manager
action on an active and on a suspended permit. Allowed attempts land where the table says;
refused ones change nothing (no row, no audit event, no e-mail queued). The actors include the
self-resume cases: the holder who is also a steward, and a board secretary on the request's
team."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.services import user_create
from catalogue.models import Dataset
from catalogue.services import dataset_stewards_set
from lifes.errors import DomainError
from permits import workflow
from permits.models import PermitStatus
from permits.services import permit_resume, permit_revoke, permit_suspend
from permits.workflow import PermitRole as R
from requests_app.services import board_member_add

from .conftest import DATASET
from .test_lifecycle import footprint

COMMANDS = {"suspend": permit_suspend, "resume": permit_resume, "revoke": permit_revoke}
EXPECTED_ROLES = {
    "steward": {R.STEWARD},
    "holder_steward": {R.STEWARD, R.HOLDER},
    "board_chair": {R.BOARD_CHAIR},
    "insider_secretary": {R.BOARD_CHAIR, R.HOLDER},
    "auditor": set(),
    "outsider": set(),
}


class Rollback(Exception):
    pass


@pytest.fixture
def actors(permit, consented):
    admin = consented["admin"]
    insider = user_create(
        actor=None, email="insider@demo.lifes.test", password="a-long-test-password"
    )
    board_member_add(actor=admin, board=consented["ethics"], user=insider, role="secretary")
    # Written directly: through the services a secretary on the team could not have closed
    # the round that led to this permit (recused), which is what these rules are about.
    permit.request.team.create(email=insider.email, role="Data manager")
    dataset_stewards_set(
        actor=admin,
        dataset=Dataset.objects.get(slug=DATASET),
        stewards=[consented["owner"], consented["requester"]],
    )
    return {
        "steward": consented["owner"],
        "holder_steward": consented["requester"],
        "board_chair": consented["chair"],
        "insider_secretary": insider,
        "auditor": consented["auditor"],
        "outsider": consented["industry"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("status", [PermitStatus.ACTIVE, PermitStatus.SUSPENDED])
def test_every_actor_tries_every_permit_action(
    status, permit, actors, consented, django_capture_on_commit_callbacks
):
    if status == PermitStatus.SUSPENDED:
        permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")
    permit.refresh_from_db()
    assert permit.status == status
    problems: list[str] = []
    outcomes: dict[tuple[str, str], str] = {}
    for name, actor in actors.items():
        assert workflow.roles_on_permit(actor, permit) == EXPECTED_ROLES[name], name
    for action, command in COMMANDS.items():
        transition = workflow.BY_ACTION[action]
        for name, actor in actors.items():
            roles = EXPECTED_ROLES[name]
            allowed = (
                status in transition.sources
                and bool(roles & transition.roles)
                and not roles & transition.barred
            )
            before = footprint(permit)
            try:
                with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
                    try:
                        command(actor=actor, number=permit.number, reason="Because.")
                    except DomainError as exc:
                        outcome = f"refused ({exc.code})"
                    else:
                        outcome = "done"
                    after = footprint(permit)
                    raise Rollback
            except Rollback:
                pass
            outcomes[action, name] = outcome
            where = f"{status} × {action} × {name}"
            if allowed and outcome != "done":
                problems.append(f"{where}: allowed by the table but {outcome}")
            elif allowed and after[0] != transition.target:
                problems.append(f"{where}: ended in {after[0]}, not {transition.target}")
            elif not allowed and outcome == "done":
                problems.append(f"{where}: refused by the table but it succeeded")
            elif not allowed and (after != before or callbacks):
                problems.append(f"{where}: refused but changed something or queued effects")
    assert problems == [], "\n".join(problems)
    if status == PermitStatus.SUSPENDED:  # self-resume, named
        assert outcomes["resume", "holder_steward"] == "refused (own_permit)"
        assert outcomes["resume", "insider_secretary"] == "refused (own_permit)"
        assert outcomes["resume", "steward"] == outcomes["resume", "board_chair"] == "done"
