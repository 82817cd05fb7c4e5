"""Who someone is on a request (their roles), and what they may see. The one place for both."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from catalogue.models import Dataset
from requests_app.models import (
    AccessRequest,
    BoardMembership,
    BoardRole,
    ConflictDeclaration,
    RequestState,
    ReviewStage,
    StageState,
    TeamMember,
)
from requests_app.workflow import Phase, Role, situation


def open_stage(request: AccessRequest) -> ReviewStage | None:
    return (
        request.stages.filter(round=request.round, state=StageState.OPEN)
        .select_related("board")
        .first()
    )


def phase_of(request: AccessRequest) -> Phase | None:
    if request.state != RequestState.IN_REVIEW:
        return None
    pending = request.stages.filter(
        round=request.round, state__in=[StageState.OPEN, StageState.WAITING]
    ).exists()
    return Phase.BOARDS if pending else Phase.OWNERS


def situation_of(request: AccessRequest) -> str:
    return situation(request.state, phase_of(request))


def is_owner(user: Any, request: AccessRequest) -> bool:
    return Dataset.objects.filter(requested_in__request=request, stewards=user).exists()


def roles_of(user: Any, request: AccessRequest) -> set[Role]:
    """The roles ``user`` holds on ``request`` now (``None`` is the system)."""
    if user is None:
        return {Role.SYSTEM}
    if not user.is_authenticated or user.is_machine:
        return set()
    roles: set[Role] = set()
    if request.requester_id == user.pk:
        roles.add(Role.REQUESTER)
    if TeamMember.objects.filter(request=request, email__iexact=user.email).exists():
        roles.add(Role.TEAM)
    stage = open_stage(request)
    if stage is not None:
        membership = BoardMembership.objects.filter(board=stage.board, user=user).first()
        if membership is not None:
            roles.add(Role.MEMBER)
            if membership.role in (BoardRole.CHAIR, BoardRole.SECRETARY):
                roles.add(Role.CHAIR)
    if is_owner(user, request):
        roles.add(Role.OWNER)
    if user.is_auditor or user.is_superuser:
        roles.add(Role.AUDITOR)
    if user.is_staff:
        roles.add(Role.STAFF)
    return roles


def can_see_private(user: Any, request: AccessRequest, roles: set[Role]) -> bool:
    """Private answers: the team, auditors and chairs; members once they declared no conflict."""
    if roles & {Role.REQUESTER, Role.TEAM, Role.AUDITOR, Role.CHAIR}:
        return True
    if Role.MEMBER in roles:
        stage = open_stage(request)
        return (
            stage is not None
            and ConflictDeclaration.objects.filter(
                stage=stage, member=user, has_conflict=False
            ).exists()
        )
    if user is not None and user.is_authenticated:
        # A board member of an earlier stage keeps what they declared for it.
        return ConflictDeclaration.objects.filter(
            stage__request=request, member=user, has_conflict=False
        ).exists()
    return False


def is_recused(user: Any, stage: ReviewStage) -> bool:
    return ConflictDeclaration.objects.filter(stage=stage, member=user, has_conflict=True).exists()


def boards_phase_filter() -> Q:
    """Requests in review whose current round still has a board stage pending."""
    pending = ReviewStage.objects.filter(
        request=OuterRef("pk"),
        round=OuterRef("round"),
        state__in=[StageState.OPEN, StageState.WAITING],
    )
    return Q(Exists(pending))
