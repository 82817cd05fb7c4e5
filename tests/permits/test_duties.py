"""Separation of duties on permits: nobody lifts a suspension of their own permit, nor a bar on
themselves; the refusal changes nothing (no row, no audit event, no e-mail)."""

from __future__ import annotations

import pytest
from django.core import mail

from catalogue.models import Dataset
from catalogue.services import dataset_stewards_set
from lifes.errors import NotAllowed
from permits import workflow
from permits.models import PermitStatus
from permits.services import permit_resume, permit_revoke, permit_suspend
from requests_app.models import AccessBar
from requests_app.services import access_bar_lift

from .conftest import DATASET
from .test_lifecycle import footprint


def _steward_too(consented, *users) -> None:
    dataset = Dataset.objects.get(slug=DATASET)
    dataset_stewards_set(
        actor=consented["admin"], dataset=dataset, stewards=[consented["owner"], *users]
    )


@pytest.mark.django_db
def test_a_holder_who_is_also_a_steward_cannot_resume_their_own_permit(
    permit, consented, django_capture_on_commit_callbacks
):
    requester, owner = consented["requester"], consented["owner"]
    _steward_too(consented, requester)
    roles = workflow.roles_on_permit(requester, permit)
    assert roles == {workflow.PermitRole.STEWARD, workflow.PermitRole.HOLDER}
    permit_suspend(actor=owner, number=permit.number, reason="Checking the node.")
    permit.refresh_from_db()
    # revoke as a steward, file a report as the holder; never resume
    assert [t.action for t in workflow.actions_for(permit=permit, roles=roles)] == [
        "revoke",
        "file_report",
    ]
    before, emails = footprint(permit), len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(NotAllowed) as refused:
            permit_resume(actor=requester, number=permit.number, reason="It is mine, go on.")

    assert refused.value.code == "own_permit"
    assert footprint(permit) == before
    assert (callbacks, len(mail.outbox)) == ([], emails)
    # another steward lifts it
    permit_resume(actor=owner, number=permit.number, reason="The node is patched.")
    permit.refresh_from_db()
    assert permit.status == PermitStatus.ACTIVE


@pytest.mark.django_db
def test_a_team_member_who_chairs_a_board_cannot_resume_the_permit(permit, consented):
    chair = consented["chair"]
    # Written directly: through the services a chair on the team could not have closed the
    # round that led to this permit (they are recused), which is the point of these rules.
    permit.request.team.create(email=chair.email, role="Statistician")
    assert workflow.PermitRole.HOLDER in workflow.roles_on_permit(chair, permit)
    permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")
    before = footprint(permit)

    with pytest.raises(NotAllowed) as refused:
        permit_resume(actor=chair, number=permit.number, reason="Fine by me.")

    assert refused.value.code == "own_permit"
    assert footprint(permit) == before


@pytest.mark.django_db
def test_nobody_lifts_a_bar_on_themselves(permit, consented):
    requester = consented["requester"]
    permit_revoke(actor=consented["owner"], number=permit.number, reason="Misuse.")
    _steward_too(consented, requester)
    bar = AccessBar.objects.get(user=requester, lifted_at__isnull=True)
    before = footprint(permit)

    with pytest.raises(NotAllowed) as refused:
        access_bar_lift(actor=requester, bar_id=bar.pk)

    assert refused.value.code == "own_bar"
    bar.refresh_from_db()
    assert bar.lifted_at is None
    assert footprint(permit) == before
