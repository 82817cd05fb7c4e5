"""Review boards, their members, and which boards a dataset's requests go through."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.permissions import require_staff
from audit.services import audit_record
from catalogue.models import Dataset
from requests_app.models import BoardMembership, DatasetReviewStage, ReviewBoard


def board_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    organisation: Organisation,
    quorum_rule: str = "min_votes",
    min_votes: int = 2,
    approval_threshold: int = 50,
    deadline_days: int = 21,
    reminder_days: int = 3,
    contact_email: str = "",
) -> ReviewBoard:
    require_staff(actor, _("Only hub staff can manage review boards."))
    with transaction.atomic():
        group = Group.objects.create(name=f"board:{name}"[:150])
        board = ReviewBoard(
            name=name,
            kind=kind,
            organisation=organisation,
            quorum_rule=quorum_rule,
            min_votes=min_votes,
            approval_threshold=approval_threshold,
            deadline_days=deadline_days,
            reminder_days=reminder_days,
            contact_email=contact_email,
            group=group,
        )
        board.full_clean()
        board.save()
        audit_record(
            actor=actor,
            action="board.create",
            target=board,
            payload={
                "name": name,
                "kind": kind,
                "quorum_rule": quorum_rule,
                "min_votes": min_votes,
                "approval_threshold": approval_threshold,
                "deadline_days": deadline_days,
            },
        )
    return board


def board_member_add(
    *, actor: Any, board: ReviewBoard, user: User, role: str = "member"
) -> BoardMembership:
    require_staff(actor, _("Only hub staff can manage review boards."))
    with transaction.atomic():
        membership, created = BoardMembership.objects.update_or_create(
            board=board, user=user, defaults={"role": role}
        )
        user.groups.add(board.group)
        audit_record(
            actor=actor,
            action="board.member_set",
            target=board,
            payload={"user": user.email, "role": role, "created": created},
        )
    return membership


def board_member_remove(*, actor: Any, board: ReviewBoard, user: User) -> None:
    """The member leaves the board, and with it the board's group (its object grants)."""
    require_staff(actor, _("Only hub staff can manage review boards."))
    with transaction.atomic():
        deleted, _by_model = BoardMembership.objects.filter(board=board, user=user).delete()
        user.groups.remove(board.group)
        audit_record(
            actor=actor,
            action="board.member_remove",
            target=board,
            payload={"user": user.email, "was_member": bool(deleted)},
        )


def dataset_boards_set(
    *, actor: Any, dataset: Dataset, boards: list[ReviewBoard]
) -> list[DatasetReviewStage]:
    """The boards that must approve this dataset's requests, in this order."""
    require_staff(actor, _("Only hub staff can manage review boards."))
    with transaction.atomic():
        DatasetReviewStage.objects.filter(dataset=dataset).delete()
        stages = [
            DatasetReviewStage.objects.create(dataset=dataset, board=board, order=index)
            for index, board in enumerate(boards, start=1)
        ]
        audit_record(
            actor=actor,
            action="dataset.boards_set",
            target=dataset,
            payload={"boards": [b.name for b in boards]},
        )
    return stages
