"""Reads of access requests, always scoped to who is asking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from accounts.selectors import is_person
from catalogue.models import Dataset
from lifes.errors import NotFound
from requests_app import workflow
from requests_app.after_models import RequestFee
from requests_app.models import (
    AccessBar,
    AccessRequest,
    BoardMembership,
    CheckResult,
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
from requests_app.permissions import (
    boards_phase_filter,
    open_stage,
    prefetched,
    roles_of,
    roles_prepare,
    situation_of,
)
from requests_app.services.common import VIEW_PERM
from requests_app.workflow import actions_for


def _grants(user: Any) -> tuple[QuerySet, QuerySet]:
    """The pks of the requests ``user`` holds ``VIEW_PERM`` on in django-guardian, directly and
    through one of their groups (a board's group): together exactly the rows guardian's
    ``get_objects_for_user(user, VIEW_PERM, klass=AccessRequest, accept_global_perms=False,
    with_superuser=False)`` selects (tests/requests/test_waiting_candidates.py compares them).

    Why not call it: for an integer pk on guardian's generic tables it filters
    ``CAST(request.id AS varchar) IN (object_pk …)``, which no index serves, so every list
    and dashboard scanned the whole request table (100,000 requests: ~160 ms per evaluation,
    see bench/bench_scale.py). Here the grant's ``object_pk`` is cast to the pk's type instead,
    so PostgreSQL reads only the user's grants (guardian's ``(user, content_type, object_pk)``
    and ``(group, content_type, object_pk)`` indexes). Guardian stays the store of grants
    (``services.common.grant_view``) and the services still re-check with it; this function
    is the one place its table is read for requests."""
    content_type = ContentType.objects.get_for_model(AccessRequest)  # cached per process
    codename = VIEW_PERM.split(".", 1)[1]
    grant = {"content_type": content_type, "permission__codename": codename}
    as_pk = Cast("object_pk", BigIntegerField())
    direct = UserObjectPermission.objects.filter(user=user, **grant).values_list(as_pk)
    groups = GroupObjectPermission.objects.filter(group__user=user, **grant).values_list(as_pk)
    return direct, groups


def _sees_every_request(user: Any) -> bool:
    return bool(user.is_auditor or user.is_superuser or user.is_staff)


def requests_visible_to(user: Any) -> QuerySet[AccessRequest]:
    """Own and team requests, those routed to one's boards, those for one's datasets (all via
    django-guardian object grants); auditors and staff see everything."""
    if not is_person(user):
        return AccessRequest.objects.none()
    if _sees_every_request(user):
        return AccessRequest.objects.all()
    direct, groups = _grants(user)
    # An OR of two IN lists, not IN (a UNION): PostgreSQL then hashes the grants once and walks
    # the ``request_recent_first`` index until the page is full, instead of fetching every
    # granted request to sort them (a steward with 6,000 grants: ~40 ms instead of ~180 ms).
    return AccessRequest.objects.filter(Q(pk__in=direct) | Q(pk__in=groups))


def request_pks_visible_to(user: Any) -> QuerySet | None:
    """The same rule as a subquery of request pks (``None``: every request), for lists of
    things that hang off requests (permits): a UNION of the grants, which PostgreSQL joins by
    index to the other table instead of scanning the requests."""
    if not is_person(user):
        return AccessRequest.objects.none().values("pk")
    if _sees_every_request(user):
        return None
    direct, groups = _grants(user)
    return direct.union(groups)


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
        raise NotFound(_("No such request."))
    return request


def board_queue(*, user: Any, board_id: int) -> tuple[ReviewBoard, QuerySet[ReviewStage]]:
    """The open stages of a board the user sits on, in a fixed number of queries."""
    board = ReviewBoard.objects.filter(pk=board_id, memberships__user=user).first()
    if board is None and not (user.is_auditor or user.is_staff):
        raise NotFound(_("No such board."))
    board = board or ReviewBoard.objects.filter(pk=board_id).first()
    if board is None:
        raise NotFound(_("No such board."))
    stages = (
        ReviewStage.objects.filter(board=board, state=StageState.OPEN)
        .select_related("request", "request__requester", "request__organisation")
        .annotate(
            # Counted per shown stage, not grouped over the whole queue: the page is then an
            # index range of ``stage_open_by_board`` that stops after its rows.
            vote_count=Coalesce(
                Subquery(
                    Vote.objects.filter(stage=OuterRef("pk"))
                    .order_by()
                    .values("stage")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            ),
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
    label: Any = ""


@dataclass(frozen=True)
class _Done:
    """What ``user`` already did on the weighed requests, asked once for the whole list."""

    voted_stages: set[int]  # open stages they voted on
    pending_mine: set[int]  # requests with one of their datasets still pending
    checked: set[tuple[int, int]]  # (request, round) whose automated checks ran


def _done_of(user: Any, requests: list[AccessRequest]) -> _Done:
    stages = [s.pk for s in (open_stage(r) for r in requests) if s is not None]
    ids = [r.pk for r in requests]
    return _Done(
        voted_stages=set(
            Vote.objects.filter(stage__in=stages, voter=user).values_list("stage_id", flat=True)
        ),
        pending_mine=set(
            RequestedDataset.objects.filter(
                request__in=ids, dataset__stewards=user, decision=OwnerDecision.PENDING
            ).values_list("request_id", flat=True)
        ),
        checked=set(CheckResult.objects.filter(request__in=ids).values_list("request_id", "round")),
    )


def _still_to_do(action: str, request: AccessRequest, user: Any, done: _Done) -> bool:
    """Whether an action the table lets ``user`` take now is still theirs to do (the table
    says who *may*; this says who has not done it yet). Actions not named here: always."""
    if action == "accept_terms":  # asked for once the request is approved (the permit waits)
        return (
            request.state in (RequestState.APPROVED, RequestState.PERMITTED)
            and user.email.lower() in terms_status(request).pending
        )
    if action == "accept_complete":  # the completeness check comes after the automated checks
        return (request.pk, request.round) in done.checked
    stage = open_stage(request)
    voted = stage is not None and stage.pk in done.voted_stages
    if action == "vote":
        return not voted
    if action == "close_round":  # a chair votes first, then closes the round
        return voted
    if action == "decide_dataset":
        return request.pk in done.pending_mine
    return True


_ENDED = [RequestState.REJECTED, RequestState.WITHDRAWN, RequestState.CLOSED]


_RECENT_FIRST = ("-updated_at", "pk")
# The same order in words the ``request_recent_first`` index cannot serve (``updated_at`` is
# never null): for a branch whose rows the planner cannot count in advance (the owners' phase
# is a NOT EXISTS on the stages) walking that index "until 41 are found" read every request in
# review for a steward with one hit (160–330 ms at 100,000 requests); with this order it
# collects the steward's few pending rows from their datasets' side and sorts them (~3 ms).
_RECENT_FIRST_COLLECTED = (Coalesce("updated_at", "created_at").desc(), "pk")


def _waiting_branches(user: Any) -> list[tuple[QuerySet[AccessRequest], tuple]]:
    """Where something could wait for ``user``, one small indexed set per reason: their own
    and their team's live requests, those open at one of their boards, those with one of their
    datasets pending in the owners' phase, and for staff the submitted and appealed ones."""
    live = AccessRequest.objects.exclude(state__in=_ENDED)
    branches = [
        (live.filter(requester=user), _RECENT_FIRST),
        # ``iexact`` as the team rule has it; the index ``team_email_upper`` serves it.
        (
            live.filter(
                pk__in=TeamMember.objects.filter(email__iexact=user.email).values("request")
            ),
            _RECENT_FIRST,
        ),
        (
            live.filter(
                pk__in=ReviewStage.objects.filter(
                    state=StageState.OPEN,
                    board__in=BoardMembership.objects.filter(user=user).values("board"),
                ).values("request")
            ),
            _RECENT_FIRST,
        ),
        # An owner's turn comes once the boards are done (the owners' phase of in_review), so
        # the requests still at a board are not weighed for them (``boards_phase_filter``).
        (
            AccessRequest.objects.filter(
                ~boards_phase_filter(),
                state=RequestState.IN_REVIEW,
                pk__in=RequestedDataset.objects.filter(
                    dataset__stewards=user, decision=OwnerDecision.PENDING
                ).values("request"),
            ),
            _RECENT_FIRST_COLLECTED,
        ),
    ]
    if user.is_staff:
        # The access body's staff check the completeness of submitted applications (EHDS
        # Art. 68) and record the outcome of appeals (``decide_appeal``).
        staff = [RequestState.SUBMITTED, RequestState.APPEALED]
        branches.append((AccessRequest.objects.filter(state__in=staff), _RECENT_FIRST))
    return branches


def _waiting_candidates(user: Any, *, take: int, ordered: bool = True) -> QuerySet[AccessRequest]:
    """The requests where something could wait for ``user`` (``_waiting_branches``), most
    recently changed first; at least the first ``take`` of them, exactly.

    A UNION of the branches, each already cut to its own first ``take`` rows, so the cost
    follows ``take`` and not the number of requests a chair or steward has (one OR of joins
    over all of them took 58× its demo time at 100,000 requests). The union of each branch's
    first ``take`` holds the first ``take`` of the whole, so both the page and a count capped
    at ``take`` are exact. ``ordered=False`` cuts each branch anywhere: enough for a count."""
    from django.db import connection

    parts = []
    for branch, order in _waiting_branches(user):
        cut = (branch.order_by(*order) if ordered else branch.order_by()).values("pk")[:take]
        if not connection.features.supports_slicing_ordering_in_compound:
            # SQLite refuses LIMIT inside a compound SELECT: the cut goes in a subquery.
            cut = AccessRequest.objects.filter(pk__in=cut).order_by().values("pk")
        parts.append(cut)
    pks = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return AccessRequest.objects.filter(pk__in=pks).order_by(*_RECENT_FIRST)


@dataclass(frozen=True)
class WaitingPage:
    """The first ``items`` of what waits for a person, and how many requests may hold
    something for them (``count``, exact up to the pagination cap; ``more`` when the list
    stops before the end)."""

    items: list[WaitingItem]
    count: int
    count_exact: bool
    more: bool


def waiting_page(user: Any, *, limit: int | None = None) -> WaitingPage:
    """What waits for this person, bounded: the most recently changed candidates are weighed
    against the transition table until ``limit`` items are found (or ``4 × limit`` candidates
    weighed), so a chair with a thousand open stages costs what one with ten does."""
    if not is_person(user):
        return WaitingPage([], 0, True, False)
    limit = limit or settings.WAITING_PAGE_SIZE
    cap = int(getattr(settings, "PAGINATION_COUNT_CAP", 1000))
    # How many requests may hold something for them: exact up to the cap, as BoundedPaginator.
    # Unordered: a sliced query keeps its ORDER BY in the count, which made the database sort
    # every request of the hub by recency to count 1,001 of one requester's (34 ms at size).
    found_count = (
        _waiting_candidates(user, take=cap + 1, ordered=False).order_by()[: cap + 1].count()
    )
    # The weighed requests come with what the rules read (stages, declarations, team, phase),
    # so weighing 4 × limit of them costs a fixed handful of queries, not a few per request.
    weighed = list(
        _waiting_candidates(user, take=limit * 4 + 1)
        .select_related("requester")  # terms_status names the requester
        .annotate(is_boards_phase=boards_phase_filter())
        .prefetch_related(
            "team",
            Prefetch(
                "stages",
                queryset=ReviewStage.objects.select_related("board").prefetch_related(
                    "declarations"
                ),
            ),
        )[: limit * 4 + 1]
    )
    roles_prepare(user, weighed[: limit * 4])
    terms_status_prepare(
        [
            r
            for r in weighed[: limit * 4]
            if r.state in (RequestState.APPROVED, RequestState.PERMITTED)
        ]
    )
    done = _done_of(user, weighed[: limit * 4])
    found: list[tuple[int, WaitingItem]] = []
    order = {t.action: index for index, t in enumerate(workflow.TRANSITIONS)}
    seen = 0
    for request in weighed[: limit * 4]:
        if len(found) >= limit:
            break
        seen += 1
        current = situation_of(request)
        for transition in actions_for(current=current, roles=roles_of(user, request)):
            waiting = transition.waiting_in(current)
            if waiting is not None and _still_to_do(transition.action, request, user, done):
                item = WaitingItem(request, waiting.why, waiting.label)
                found.append((order[transition.action], item))
    # Grouped by action, in the table's order; within one, the most recently changed first.
    items = [item for _index, item in sorted(found, key=lambda pair: pair[0])][:limit]
    return WaitingPage(items, min(found_count, cap), found_count <= cap, seen < len(weighed))


def waiting_for(user: Any, *, limit: int | None = None) -> list[WaitingItem]:
    """What waits for this person: the 'waiting for me' list on every dashboard. Generated from
    the transition table: each action the person may take now whose row says it waits.
    Bounded (``WAITING_PAGE_SIZE``; ``waiting_page`` gives the count too)."""
    return waiting_page(user, limit=limit).items


def requests_under_review_for_dataset(dataset_id: int) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(
        requested_datasets__dataset_id=dataset_id,
        state__in=[RequestState.SUBMITTED, RequestState.IN_REVIEW],
    ).distinct()


def bars_liftable_by(user: Any) -> QuerySet[AccessBar]:
    """The bars in force that ``user`` may lift: on datasets they may change (their stewards),
    or all of them for staff. The service checks again, under the row lock."""
    if not is_person(user):
        return AccessBar.objects.none()
    bars = AccessBar.objects.filter(lifted_at__isnull=True).select_related("user", "dataset")
    if not (user.is_staff or user.is_superuser):
        datasets = get_objects_for_user(user, "catalogue.change_dataset", klass=Dataset)
        bars = bars.filter(dataset__in=datasets.values("pk"))
    return bars.order_by("-created_at", "pk")


def clocks_attach(requests: list[AccessRequest]) -> list[AccessRequest]:
    """Each request's ``clock`` (``requests_app.clock.clock_data``, None before completeness),
    in one query for the whole list: what the dashboard shows next to each request."""
    from requests_app.clock import clock_data
    from requests_app.models import StatutoryClock

    clocks = {
        c.request_id: c for c in StatutoryClock.objects.filter(request__in=[r.pk for r in requests])
    }
    for request in requests:
        request.clock = clock_data(clocks.get(request.pk))
    return requests


#: What the apps above this one (in the import layers) show on the request page through their
#: template tags, read with the request: each entry, given the viewer, returns its
#: ``Prefetch`` objects (``permits.apps`` adds the permits).
PAGE_PREFETCHES: list[Callable[[Any], list[Prefetch]]] = []


def request_get_for_page(*, user: Any, reference: str) -> AccessRequest:
    """``request_get`` with everything the request page shows read in a fixed number of
    queries, one per relation family, whatever the request has gathered: the stages (with
    boards, the viewer's membership of each board, declarations and votes), the team (with
    each member's account), the requested datasets (with their owners, deciders,
    minimisation answers, dictionaries, whether the viewer stewards them), the rounds' answers
    and the form templates they answered, the completeness checks, clock and fee, amendments,
    appeals, and what the apps above this one add (``PAGE_PREFETCHES``: the permits with
    their datasets and last receipts). ``permissions``, ``visibility``, the page's blocks and
    the permits' tags read these instead of asking again."""
    from requests_app.after_models import Amendment
    from requests_app.application_form import FormTemplate
    from requests_app.models import CompletenessCheck, Submission

    my_role = BoardMembership.objects.filter(board=OuterRef("board_id"), user=user)
    request = (
        requests_visible_to(user)
        .select_related("requester", "organisation", "statutory_clock", "fee")
        .annotate(is_boards_phase=boards_phase_filter())
        .prefetch_related(
            Prefetch(
                "stages",
                queryset=ReviewStage.objects.select_related("board", "closed_by")
                .annotate(my_board_role=Subquery(my_role.values("role")[:1]))
                .order_by("round", "order", "pk"),
            ),
            Prefetch(
                "stages__declarations",
                queryset=ConflictDeclaration.objects.select_related("member"),
            ),
            Prefetch("stages__votes", queryset=Vote.objects.select_related("voter")),
            Prefetch(
                "team",
                queryset=TeamMember.objects.annotate(
                    account_id=Subquery(
                        get_user_model().objects.filter(email=OuterRef("email")).values("pk")[:1]
                    )
                ).order_by("invited_at", "pk"),
            ),
            Prefetch(
                "requested_datasets",
                queryset=RequestedDataset.objects.select_related(
                    "dataset", "dataset__owner", "decided_by", "minimisation"
                )
                .annotate(
                    is_stewarded_by_viewer=Exists(
                        Dataset.stewards.through.objects.filter(
                            dataset_id=OuterRef("dataset_id"), user_id=getattr(user, "pk", None)
                        )
                    )
                )
                .order_by("dataset__slug"),
            ),
            "requested_datasets__dataset__variables",
            Prefetch(
                "submissions",
                queryset=Submission.objects.select_related("submitted_by").order_by("round"),
            ),
            Prefetch(
                "submissions__templates",
                queryset=FormTemplate.objects.prefetch_related("sections", "questions"),
            ),
            Prefetch(
                "completeness_checks",
                queryset=CompletenessCheck.objects.select_related("checked_by").order_by(
                    "-round", "-pk"
                ),
            ),
            Prefetch("amendments", queryset=Amendment.objects.prefetch_related("added_algorithms")),
            "appeals",
            *(prefetch for extend in PAGE_PREFETCHES for prefetch in extend(user)),
        )
        .filter(reference=reference)
        .first()
    )
    if request is None:
        raise NotFound(_("No such request."))
    request.__dict__["_page_viewer"] = getattr(user, "pk", None)
    return request


def after_decision_of(request: AccessRequest) -> dict[str, Any]:
    """The request's fee (fixed at submission), amendments and renewals, and appeals: what its
    page and the API show of the EHDS after the decision. Whoever sees the request sees these
    (none of them is a board's deliberation or a private answer)."""
    if prefetched(request, "amendments") is not None:  # the request page read them all
        fee = request.fee if hasattr(request, "fee") else None
        amendments = prefetched(request, "amendments") or []
    else:
        fee = RequestFee.objects.filter(request=request).first()
        amendments = list(request.amendments.prefetch_related("added_algorithms"))
    # The rule of ``services.after.renewals_used``, on the rows already read.
    renewals = sum(a.kind == "renewal" and a.outcome in ("pending", "granted") for a in amendments)
    return {
        "fee": (
            {
                "amount": str(fee.amount),
                "currency": fee.currency,
                "lines": fee.lines,
                "recorded_at": fee.recorded_at,
            }
            if fee is not None
            else None
        ),
        "amendments": [
            {
                "round": a.round,
                "kind": a.kind,
                "kind_display": str(a.get_kind_display()),
                "changes": a.changes,
                "reason": a.reason,
                "new_period_end": a.new_period_end,
                "added_team": a.added_team,
                "added_algorithms": [str(x) for x in a.added_algorithms.all()],
                "permit": a.permit_number,
                "new_permit": a.new_permit_number or None,
                "outcome": a.outcome,
                "outcome_display": str(a.get_outcome_display()),
                "requested_at": a.requested_at,
            }
            for a in amendments
        ],
        "renewals_left": max(settings.EHDS_MAX_RENEWALS - renewals, 0),
        "appeals": [
            {
                "round": a.round,
                "reasons": a.reasons,
                "lodged_at": a.lodged_at,
                "outcome": a.outcome,
                "outcome_display": str(a.get_outcome_display()),
                "outcome_reasons": a.outcome_reasons,
                "decided_at": a.decided_at,
            }
            for a in request.appeals.all()
        ],
    }


# --- EHDS: the data-use terms every named team member accepts (Art. 68) -----------------------


@dataclass(frozen=True)
class TermsStatus:
    """The current terms of a request's datasets and who of its named team (the requester and
    every team member) has accepted all of them personally."""

    terms: list[Any]  # catalogue.DataUseTerms, current version per dataset, by dataset
    people: list[tuple[str, bool]]  # (email, accepted every current version)

    @property
    def pending(self) -> list[str]:
        return [email for email, accepted in self.people if not accepted]

    @property
    def is_complete(self) -> bool:
        return not self.pending


def terms_status(request: AccessRequest) -> TermsStatus:
    """One rule for the page, the API, "waiting for you" and the permit's activation: a person
    has accepted when they accepted personally (``accepted_terms_at``) and hold an acceptance of
    the current version of every dataset's terms (refused datasets left out)."""
    memo = request.__dict__.get("_terms_status")
    if memo is not None:  # the request page asks the page's view and the viewer's own status
        return memo
    items = prefetched(request, "requested_datasets")
    if items is None:
        return _terms_statuses([request])[request.pk]
    status = _terms_statuses([request], {request.pk: _terms_datasets(items)})[request.pk]
    # kept with the page's prefetched request, which lives one response
    request.__dict__["_terms_status"] = status
    return status


def terms_status_prepare(requests: list[AccessRequest]) -> None:
    """``terms_status`` of many requests (requester and team read with them) in three queries,
    kept with each for this response: "waiting for you" weighs up to 4 × 25 of them."""
    unread = {r.pk: r for r in requests if "_terms_status" not in r.__dict__}
    for request_id, status in _terms_statuses(list(unread.values())).items():
        unread[request_id].__dict__["_terms_status"] = status


def _terms_datasets(items: Any) -> list[int]:
    return [i.dataset_id for i in items if i.decision != OwnerDecision.REFUSED]


def _terms_statuses(
    requests: list[AccessRequest], datasets: dict[int, list[int]] | None = None
) -> dict[int, TermsStatus]:
    from catalogue.selectors import current_terms
    from requests_app.models import TermsAcceptance

    if not requests:
        return {}
    ids = [r.pk for r in requests]
    if datasets is None:
        datasets = {pk: [] for pk in ids}
        for request_id, dataset_id in (
            RequestedDataset.objects.filter(request__in=ids)
            .exclude(decision=OwnerDecision.REFUSED)
            .values_list("request_id", "dataset_id")
        ):
            datasets[request_id].append(dataset_id)
    current = current_terms(sorted({d for wanted in datasets.values() for d in wanted}))
    accepted: dict[int, set[int]] = {}
    for member_id, terms_id in TermsAcceptance.objects.filter(
        member__request__in=ids, terms_id__in=[t.pk for t in current.values()]
    ).values_list("member_id", "terms_id"):
        accepted.setdefault(member_id, set()).add(terms_id)
    statuses = {}
    for request in requests:
        mine = [current[pk] for pk in datasets[request.pk] if pk in current]
        terms = sorted(mine, key=lambda t: t.dataset.slug)
        wanted = {t.pk for t in terms}
        members = {m.email.lower(): m for m in request.team.all()}
        requester = request.requester.email.lower()
        people = []
        for email in [requester] + sorted(e for e in members if e != requester):
            member = members.get(email)
            done = (
                member is not None
                and member.accepted_terms_at is not None
                and wanted <= accepted.get(member.pk, set())
            )
            people.append((email, done))
        statuses[request.pk] = TermsStatus(terms=terms, people=people)
    return statuses
