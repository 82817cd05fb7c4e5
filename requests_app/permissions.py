"""Who someone is on a request (their roles), and what they may see. The one place for both."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from accounts.selectors import is_person
from catalogue.models import Dataset
from requests_app.models import (
    AccessRequest,
    BoardMembership,
    ConflictDeclaration,
    RequestState,
    ReviewStage,
    StageState,
    TeamMember,
)
from requests_app.workflow import Phase, Role, situation


def prefetched(request: AccessRequest, name: str) -> list[Any] | None:
    """The request's ``name`` relation when the caller prefetched it (the request page does,
    ``selectors.request_get_for_page``), else ``None``: then each rule below asks the database
    as before. Reading the prefetched rows keeps one page from asking the same thing thrice."""
    cache = getattr(request, "_prefetched_objects_cache", None) or {}
    return list(cache[name]) if name in cache else None


def open_stage(request: AccessRequest) -> ReviewStage | None:
    stages = prefetched(request, "stages")
    if stages is not None:
        return next(
            (s for s in stages if s.round == request.round and s.state == StageState.OPEN), None
        )
    return (
        request.stages.filter(round=request.round, state=StageState.OPEN)
        .select_related("board")
        .first()
    )


def board_memberships(user: Any, request: AccessRequest) -> dict[int, BoardMembership]:
    """``user``'s memberships of the boards that review or reviewed ``request``, by board id:
    one query, kept on the request object for the page that prefetched its stages."""
    stages = prefetched(request, "stages")
    if stages is None:
        return {
            m.board_id: m
            for m in BoardMembership.objects.filter(user=user, board__stages__request=request)
        }
    memo = request.__dict__.setdefault("_board_memberships", {})
    if user.pk not in memo:
        if all(hasattr(s, "my_board_role") for s in stages) and _page_viewer(request) == user.pk:
            # The page annotated each stage with the viewer's role on its board: no query.
            memo[user.pk] = {
                s.board_id: BoardMembership(board_id=s.board_id, user=user, role=s.my_board_role)
                for s in stages
                if s.my_board_role is not None
            }
        else:
            memo[user.pk] = {
                m.board_id: m
                for m in BoardMembership.objects.filter(
                    user=user, board_id__in={s.board_id for s in stages}
                )
            }
    return memo[user.pk]


def _page_viewer(request: AccessRequest) -> int | None:
    """The user the request page read ``request`` for (``selectors.request_get_for_page``
    annotates the viewer's board roles and stewardship); other users are asked about."""
    return request.__dict__.get("_page_viewer")


def declarations_of(user: Any, stage: ReviewStage) -> list[ConflictDeclaration]:
    """``user``'s conflict declarations on ``stage``, newest first (prefetched or asked)."""
    cache = getattr(stage, "_prefetched_objects_cache", None) or {}
    if "declarations" in cache:
        mine = [d for d in cache["declarations"] if d.member_id == user.pk]
        return sorted(mine, key=lambda d: (d.declared_at, d.pk), reverse=True)
    return list(
        ConflictDeclaration.objects.filter(stage=stage, member=user).order_by("-declared_at", "-pk")
    )


def is_team_member(user: Any, request: AccessRequest) -> bool:
    team = prefetched(request, "team")
    if team is not None:
        return any(m.email.lower() == user.email.lower() for m in team)
    return TeamMember.objects.filter(request=request, email__iexact=user.email).exists()


def phase_of(request: AccessRequest) -> Phase | None:
    """In review, the boards' phase lasts while a stage of the round is pending; the one rule
    (``boards_phase_filter``) serves both this and the lists that filter by phase."""
    if request.state != RequestState.IN_REVIEW:
        return None
    pending = getattr(request, "is_boards_phase", None)  # annotated by the list and the page
    if pending is None:
        pending = AccessRequest.objects.filter(boards_phase_filter(), pk=request.pk).exists()
    return Phase.BOARDS if pending else Phase.OWNERS


def situation_of(request: AccessRequest) -> str:
    return situation(request.state, phase_of(request))


def is_owner(user: Any, request: AccessRequest) -> bool:
    if prefetched(request, "stages") is not None:  # the page: one query serves both
        return bool(stewarded_in(user, request))
    return Dataset.objects.filter(requested_in__request=request, stewards=user).exists()


def stewarded_in(user: Any, request: AccessRequest) -> set[str]:
    """The slugs of the request's datasets ``user`` stewards (kept on the request object)."""
    memo = request.__dict__.setdefault("_stewarded", {})
    if user.pk not in memo:
        items = prefetched(request, "requested_datasets")
        if items is not None and _page_viewer(request) == user.pk:
            memo[user.pk] = {i.dataset.slug for i in items if i.is_stewarded_by_viewer}
        else:
            memo[user.pk] = set(
                Dataset.objects.filter(requested_in__request=request, stewards=user).values_list(
                    "slug", flat=True
                )
            )
    return memo[user.pk]


def roles_of(user: Any, request: AccessRequest) -> set[Role]:
    """The roles ``user`` holds on ``request`` now (``None`` is the system)."""
    if user is None:
        return {Role.SYSTEM}
    if not is_person(user):
        return set()
    roles: set[Role] = set()
    if request.requester_id == user.pk:
        roles.add(Role.REQUESTER)
    if is_team_member(user, request):
        roles.add(Role.TEAM)
    stage = open_stage(request)
    if stage is not None:
        if prefetched(request, "stages") is not None:
            membership = board_memberships(user, request).get(stage.board_id)
        else:
            membership = BoardMembership.objects.filter(board=stage.board, user=user).first()
        if membership is not None:
            roles.add(Role.MEMBER)
            if membership.is_chair:
                roles.add(Role.CHAIR)
            # Separation of duties: a member on the request's own team is recused
            # automatically; the others are cleared or recused by their declaration.
            declarations = declarations_of(user, stage)
            declared = declarations[0].has_conflict if declarations else None
            if roles & {Role.REQUESTER, Role.TEAM} or declared is True:
                roles.add(Role.RECUSED)
            elif declared is False:
                roles.add(Role.CLEARED)
    if is_owner(user, request):
        roles.add(Role.OWNER)
    if user.is_auditor or user.is_superuser:
        roles.add(Role.AUDITOR)
    if user.is_staff:
        roles.add(Role.STAFF)
    return roles


def may_write_internal_notes(roles: set[Role]) -> bool:
    """Internal notes are the boards' deliberation: a member on the request's own team, or
    recused, may not read them (``visibility``), so may not write them either."""
    return bool(roles & {Role.MEMBER, Role.CHAIR}) and not roles & {
        Role.REQUESTER,
        Role.TEAM,
        Role.RECUSED,
    }


def boards_phase_filter() -> Q:
    """Requests in review whose current round still has a board stage pending."""
    pending = ReviewStage.objects.filter(
        request=OuterRef("pk"),
        round=OuterRef("round"),
        state__in=[StageState.OPEN, StageState.WAITING],
    )
    return Q(Exists(pending))


def roles_prepare(user: Any, requests: list[AccessRequest]) -> None:
    """Ready ``roles_of(user, r)`` for each request of a list in two queries for the whole list
    (the "waiting for you" list weighs up to 100 requests): the requests must come with their
    ``stages`` (and the stages' ``declarations``) and ``team`` prefetched; this fills the two
    per-request memos the rules above keep (``board_memberships``, ``stewarded_in``) with
    exactly what each would have asked."""
    if not requests or not is_person(user):
        return
    mine = {m.board_id: m for m in BoardMembership.objects.filter(user=user)}
    slugs: dict[int, set[str]] = {r.pk: set() for r in requests}
    for request_id, slug in Dataset.objects.filter(
        requested_in__request__in=list(slugs), stewards=user
    ).values_list("requested_in__request", "slug"):
        slugs[request_id].add(slug)
    for request in requests:
        boards = {s.board_id for s in prefetched(request, "stages") or []}
        request.__dict__.setdefault("_board_memberships", {})[user.pk] = {
            board_id: m for board_id, m in mine.items() if board_id in boards
        }
        request.__dict__.setdefault("_stewarded", {})[user.pk] = slugs[request.pk]
