"""Reads of access requests, always scoped to who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from lifes.errors import NotFound
from requests_app.models import (
    AccessRequest,
    BoardMembership,
    ConflictDeclaration,
    OwnerDecision,
    RequestedDataset,
    RequestState,
    ReviewBoard,
    ReviewStage,
    StageState,
    TeamMember,
    Vote,
)
from requests_app.permissions import boards_phase_filter
from requests_app.services.common import VIEW_PERM


def requests_visible_to(user: Any) -> QuerySet[AccessRequest]:
    """Own and team requests, those routed to one's boards, those for one's datasets (all via
    django-guardian object grants); auditors and staff see everything."""
    if user is None or not user.is_authenticated or user.is_machine:
        return AccessRequest.objects.none()
    if user.is_auditor or user.is_superuser or user.is_staff:
        return AccessRequest.objects.all()
    granted = get_objects_for_user(
        user, VIEW_PERM, klass=AccessRequest, accept_global_perms=False, with_superuser=False
    )
    return AccessRequest.objects.filter(pk__in=granted.values("pk"))


def request_list(*, user: Any, state: str = "") -> QuerySet[AccessRequest]:
    """A list in a fixed number of queries, however long."""
    requests = (
        requests_visible_to(user)
        .select_related("requester", "organisation")
        .prefetch_related(
            Prefetch(
                "requested_datasets", queryset=RequestedDataset.objects.select_related("dataset")
            )
        )
        .annotate(is_boards_phase=boards_phase_filter())
    )
    if state:
        requests = requests.filter(state=state)
    return requests.order_by("-updated_at", "-pk")


def request_get(*, user: Any, reference: str) -> AccessRequest:
    request = (
        requests_visible_to(user)
        .select_related("requester", "organisation")
        .filter(reference=reference)
        .first()
    )
    if request is None:
        raise NotFound("No such request.")
    return request


def board_queue(*, user: Any, board_id: int) -> tuple[ReviewBoard, QuerySet[ReviewStage]]:
    """The open stages of a board the user sits on, in a fixed number of queries."""
    board = ReviewBoard.objects.filter(pk=board_id, memberships__user=user).first()
    if board is None and not (user.is_auditor or user.is_staff):
        raise NotFound("No such board.")
    board = board or ReviewBoard.objects.filter(pk=board_id).first()
    if board is None:
        raise NotFound("No such board.")
    stages = (
        ReviewStage.objects.filter(board=board, state=StageState.OPEN)
        .select_related("request", "request__requester", "request__organisation")
        .annotate(
            vote_count=Count("votes", distinct=True),
            has_my_vote=Exists(Vote.objects.filter(stage=OuterRef("pk"), voter=user)),
        )
        .order_by("deadline", "pk")
    )
    return board, stages


def boards_of(user: Any) -> QuerySet[ReviewBoard]:
    return ReviewBoard.objects.filter(memberships__user=user).distinct().order_by("name")


@dataclass(frozen=True)
class WaitingItem:
    request: AccessRequest
    why: str


def waiting_for(user: Any) -> list[WaitingItem]:
    """What waits for this person: the 'waiting for me' list on every dashboard."""
    if not user.is_authenticated or user.is_machine:
        return []
    items: list[WaitingItem] = []
    mine = AccessRequest.objects.filter(requester=user)
    for request in mine.filter(state=RequestState.DRAFT).order_by("-updated_at"):
        items.append(WaitingItem(request, "draft"))
    for request in mine.filter(state=RequestState.CHANGES_REQUESTED).order_by("-updated_at"):
        items.append(WaitingItem(request, "changes_requested"))
    for member in (
        TeamMember.objects.filter(email__iexact=user.email, accepted_terms_at__isnull=True)
        .exclude(
            request__state__in=[RequestState.REJECTED, RequestState.WITHDRAWN, RequestState.CLOSED]
        )
        .select_related("request")
    ):
        items.append(WaitingItem(member.request, "accept_terms"))
    memberships = {m.board_id: m.role for m in BoardMembership.objects.filter(user=user)}
    stages = (
        ReviewStage.objects.filter(board_id__in=memberships, state=StageState.OPEN)
        .select_related("request", "board")
        .annotate(
            has_my_vote=Exists(Vote.objects.filter(stage=OuterRef("pk"), voter=user)),
            has_declared=Exists(
                ConflictDeclaration.objects.filter(stage=OuterRef("pk"), member=user)
            ),
        )
        .order_by("deadline")
    )
    for stage in stages:
        if not stage.has_declared:
            items.append(WaitingItem(stage.request, "declare"))
        elif not stage.has_my_vote:
            items.append(WaitingItem(stage.request, "vote"))
        elif memberships[stage.board_id] in ("chair", "secretary"):
            items.append(WaitingItem(stage.request, "close_round"))
    pending = (
        RequestedDataset.objects.filter(
            dataset__stewards=user,
            decision=OwnerDecision.PENDING,
            request__state=RequestState.IN_REVIEW,
        )
        .exclude(Q(boards_phase_filter_for_item()))
        .select_related("request", "dataset")
    )
    for item in pending:
        items.append(WaitingItem(item.request, "decide"))
    return items


def boards_phase_filter_for_item() -> Q:
    pending = ReviewStage.objects.filter(
        request=OuterRef("request"),
        round=OuterRef("request__round"),
        state__in=[StageState.OPEN, StageState.WAITING],
    )
    return Q(Exists(pending))


def requests_under_review_for_dataset(dataset_id: int) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(
        requested_datasets__dataset_id=dataset_id,
        state__in=[RequestState.SUBMITTED, RequestState.IN_REVIEW],
    ).distinct()
