"""What one person may see of one request: the single rule behind every output.

The request page, the API, the PDF dossier, the CSV export and the e-mails all render the
``RequestView`` built here (or ask ``sight_of`` who may receive board-only news); none of them
reads answers, votes, declarations or notes from the models for a person. The rule:

- *private answers* (the questions the round's form templates mark private: in the default
  Five Safes form funding, commercial interests, the PI's e-mail, the DPIA summary, the
  team) and private attachments (DPIA, other) reach the
  requester's team and board members who declared no conflict of interest, nobody else;
- *the deliberation* (who voted what and why, the members' conflict declarations and
  statements, internal notes, and who did these things in the timeline) reaches the reviewing
  boards' members who are not recused, auditors and staff; never the requester's team or the
  data owners, who see each board's decision and its reasons and each owner's decision;
- a member on the request's own team is recused automatically and sees what the team sees;
- *addressed to the requester* (``board_reasons``): once a board closed its round requesting
  changes or refusing, its note and the reasons members gave with the votes for that outcome
  reach everyone who may see the request, as the board's words: without the voter's name
  (unless the reader may see the deliberation) and without anyone's vote. An open round's
  votes, approving votes' comments and internal notes are never addressed to them.
- *run results* (the disclosure-checked aggregate outputs nodes upload with their receipts)
  reach the requester's team only: they are the team's research results. Boards, data owners
  and auditors see each run's signed receipt (output digest, cohort, disclosure verdict), which
  is what oversight needs; the data owners' own node produced the output and keeps it.

Capabilities add up over the roles a person holds (an owner who is also a cleared member of a
board sees what the member sees), except that being on the team or recused always withholds
the deliberation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import is_person
from audit.merkle import leaf_hash
from audit.selectors import events_for_object, leaf_data_of
from requests_app.answers import PRIVATE_ATTACHMENT_KINDS, display, redact
from requests_app.application_form import ApplicationForm, form_for_submission
from requests_app.models import (
    AccessRequest,
    Attachment,
    BoardMembership,
    CheckResult,
    Comment,
    ConflictDeclaration,
    RequestedDataset,
    ReviewStage,
    Submission,
    Vote,
)
from requests_app.permissions import (
    board_memberships,
    declarations_of,
    open_stage,
    prefetched,
    roles_of,
)
from requests_app.workflow import LEGACY_AUDIT_ACTIONS, Role

#: Timeline events that belong to the deliberation: left out for those who may not see it.
# Events already in the log keep the names they were written with (LEGACY_AUDIT_ACTIONS).
DELIBERATION_ACTIONS = frozenset(
    {"request.vote", "request.declare_conflict", "request.conflict_declare"}
)


@dataclass(frozen=True)
class Sight:
    """What a person may see of a request, and in which capacity (for "whose view is this")."""

    capacity: str
    private_answers: bool
    deliberation: bool
    # The aggregate outputs of the runs under the request's permits: the research results of
    # the requester's team, theirs alone (see ``run_results_visible``).
    run_results: bool = False

    def describe(self) -> str:
        shown = []
        withheld = []
        (shown if self.private_answers else withheld).append(_("private answers"))
        for what in (
            _("who voted what"),
            _("conflict-of-interest statements"),
            _("internal notes"),
        ):
            (shown if self.deliberation else withheld).append(what)
        text = _("Seen as %(capacity)s.") % {"capacity": self.capacity}
        if shown:
            text += " " + _("Shown: %(items)s.") % {"items": ", ".join(shown)}
        if withheld:
            text += " " + _("Left out: %(items)s.") % {"items": ", ".join(withheld)}
        return text


NOTHING = Sight(capacity="", private_answers=False, deliberation=False)


def _declaration_state(user: Any, request: AccessRequest) -> tuple[bool, bool | None]:
    """(sits on a board that reviews or reviewed the request, what they declared or None).

    On the board of the open stage only that stage's declaration counts (a new round asks
    again); otherwise the latest declaration on the request does.
    """
    stages = prefetched(request, "stages")
    if stages is not None:  # the request page: what it prefetched, no new query
        boards = set(board_memberships(user, request))
        if not boards:
            return False, None
        stage = open_stage(request)
        if stage is not None and stage.board_id in boards:
            mine = declarations_of(user, stage)
        else:
            mine = sorted(
                (d for s in stages for d in declarations_of(user, s)),
                key=lambda d: (d.declared_at, d.pk),
                reverse=True,
            )
        return True, mine[0].has_conflict if mine else None
    boards = set(
        BoardMembership.objects.filter(user=user, board__stages__request=request).values_list(
            "board_id", flat=True
        )
    )
    if not boards:
        return False, None
    declarations = ConflictDeclaration.objects.filter(stage__request=request, member=user)
    stage = open_stage(request)
    if stage is not None and stage.board_id in boards:
        declarations = declarations.filter(stage=stage)
    latest = declarations.order_by("-declared_at", "-pk").values_list("has_conflict", flat=True)
    return True, latest.first()


def sight_of(user: Any, request: AccessRequest, roles: set[Role] | None = None) -> Sight:
    """The rule (see the module docstring) for one person on one request."""
    if not is_person(user):
        return NOTHING
    roles = roles_of(user, request) if roles is None else roles
    is_team = bool(roles & {Role.REQUESTER, Role.TEAM})
    on_board, declared = _declaration_state(user, request)
    is_recused = on_board and (is_team or declared is True)
    is_cleared = on_board and not is_recused and declared is False
    is_oversight = bool(roles & {Role.AUDITOR, Role.STAFF})
    capacities = []
    if Role.REQUESTER in roles:
        capacities.append(_("the requester"))
    elif Role.TEAM in roles:
        capacities.append(_("a team member"))
    if on_board:
        capacities.append(
            _("a recused board member")
            if is_recused
            else _("a board member who declared no conflict")
            if is_cleared
            else _("a board member who has not declared yet")
        )
    if Role.OWNER in roles:
        capacities.append(_("a data owner"))
    if Role.AUDITOR in roles:
        capacities.append(_("an auditor"))
    elif Role.STAFF in roles:
        capacities.append(_("staff"))
    return Sight(
        capacity=_(" and ").join(capacities) or _("a reader"),
        private_answers=is_team or is_cleared,
        deliberation=not is_team and not is_recused and (on_board or is_oversight),
        run_results=is_team,
    )


@dataclass(frozen=True)
class StageView:
    stage: ReviewStage
    votes: list[Vote] | None  # None: not for this viewer
    declarations: list[ConflictDeclaration] | None

    @property
    def vote_count(self) -> int | None:
        return None if self.votes is None else len(self.votes)


@dataclass(frozen=True)
class RoundView:
    round: int
    submitted_at: Any
    digest: str
    submitted_by: Any
    answers: dict[str, Any]  # redacted for this viewer
    form: ApplicationForm  # the form this round answered (its templates' exact versions)
    titles: dict[str, str] = field(default_factory=dict)  # dataset titles already read

    @cached_property
    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        return display(self.answers, self.form, self.titles)


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: Any
    action: str  # without the "request." prefix, as the page shows it
    event_action: str  # as recorded
    actor: str
    payload: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class MinimisationView:
    """One requested dataset's minimisation answers next to the dataset's data dictionary."""

    item: RequestedDataset
    answers: Any  # DataMinimisation or None (not answered)
    dictionary: list[Any]  # catalogue.DatasetVariable, in order

    @property
    def requested(self) -> set[str]:
        return set(self.answers.variables) if self.answers else set()

    @property
    def rows(self) -> list[tuple[Any, bool]]:
        """Each variable of the dictionary, and whether it is requested."""
        return [(v, v.name in self.requested) for v in self.dictionary]


def minimisation_of(request: AccessRequest) -> list[MinimisationView]:
    from requests_app.models import DataMinimisation

    loaded = prefetched(request, "requested_datasets")
    if loaded is not None:  # the request page read them with their answers and dictionaries
        return [
            MinimisationView(
                item=i,
                answers=getattr(i, "minimisation", None),
                dictionary=list(i.dataset.variables.all()),
            )
            for i in loaded
        ]
    items = list(
        RequestedDataset.objects.filter(request=request)
        .select_related("dataset")
        .prefetch_related("dataset__variables")
        .order_by("dataset__slug")
    )
    answers = {m.item_id: m for m in DataMinimisation.objects.filter(item__in=items)}
    return [
        MinimisationView(
            item=i, answers=answers.get(i.pk), dictionary=list(i.dataset.variables.all())
        )
        for i in items
    ]


@dataclass(frozen=True)
class RequestView:
    """A request as one person may see it. Every output renders this and nothing else."""

    request: AccessRequest
    viewer: Any
    roles: frozenset[Role]
    sight: Sight
    rounds: list[RoundView]
    team: list[Any] | None  # None: private for this viewer
    attachments: list[Attachment]
    stages: list[StageView]
    decisions: list[RequestedDataset]
    comments: list[Comment]
    checks: list[CheckResult]
    # EHDS: what of each dataset is asked for, beside its dictionary (everyone who may read the
    # request: reviewers judge it); the current terms in full; who of the team accepted them
    # (None: the team is private for this viewer).
    minimisation: list[MinimisationView] = field(default_factory=list)
    terms: list[Any] = field(default_factory=list)
    acceptances: list[tuple[str, bool]] | None = None

    @property
    def latest(self) -> RoundView | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def viewer_label(self) -> str:
        name = getattr(self.viewer, "full_name", "") or ""
        email = getattr(self.viewer, "email", "")
        return f"{name} <{email}>" if name else email

    def round_answers(self, number: int) -> dict[str, Any] | None:
        return next((r.answers for r in self.rounds if r.round == number), None)

    def round_form(self, number: int) -> ApplicationForm | None:
        return next((r.form for r in self.rounds if r.round == number), None)

    def timeline(self, events: Any = None) -> list[TimelineEntry]:
        """The request's audit events as this viewer may read them. ``events`` (an iterable of
        ``AuditEvent``) defaults to all events of the request."""
        return timeline_for(self, events_for_object(self.request) if events is None else events)


def timeline_for(view: RequestView, events: Any) -> list[TimelineEntry]:
    """Leave out the deliberation for those who may not see it, and name no voter or member:
    a closed round is the board's act, not its chair's; team members other than the requester
    are private and stay unnamed for those who may not see the team."""
    hidden_actors: set[str] = set()
    team = prefetched(view.request, "team")
    if (
        not view.sight.private_answers
        and team is not None
        and all(hasattr(m, "account_id") for m in team)
    ):  # the request page read each member's account with the team
        hidden_actors = {
            str(m.account_id)
            for m in team
            if m.account_id is not None and m.account_id != view.request.requester_id
        }
    elif not view.sight.private_answers:
        emails = (
            [m.email for m in team]
            if team is not None
            else list(view.request.team.values_list("email", flat=True))
        )
        hidden_actors = {
            str(pk)
            for pk in User.objects.filter(email__in=emails)
            .exclude(pk=view.request.requester_id)
            .values_list("pk", flat=True)
        }
    entries = []
    for event in events:
        payload = event.payload or {}
        actor = event.actor_label
        if not view.sight.deliberation:
            if event.action in DELIBERATION_ACTIONS or (
                event.action == "request.comment" and payload.get("internal")
            ):
                continue
            if event.action == "request.close_round":
                actor = payload.get("board") or _("the board")
        if event.actor_id in hidden_actors:
            actor = _("a team member")
        entries.append(
            TimelineEntry(
                seq=event.seq,
                at=event.occurred_at,
                action=LEGACY_AUDIT_ACTIONS.get(event.action, event.action).removeprefix(
                    "request."
                ),
                event_action=event.action,
                actor=actor,
                payload=payload,
                hash=leaf_hash(leaf_data_of(event)).hex(),
            )
        )
    return entries


def _visible_attachments(request: AccessRequest, sight: Sight) -> list[Attachment]:
    attachments = request.attachments.filter(is_current=True).order_by("uploaded_at", "pk")
    if not sight.private_answers:
        attachments = attachments.exclude(kind__in=PRIVATE_ATTACHMENT_KINDS)
    return list(attachments)


def attachment_visible(
    *, user: Any, request: AccessRequest, attachment_id: int
) -> Attachment | None:
    """One attachment this person may download (current or earlier versions alike), or
    ``None``. Who may read the request's answers may read its non-private attachments."""
    sight = sight_of(user, request)
    attachments = Attachment.objects.filter(request=request, pk=attachment_id)
    if not sight.private_answers:
        attachments = attachments.exclude(kind__in=PRIVATE_ATTACHMENT_KINDS)
    return attachments.first()


def _team(request: AccessRequest) -> list[Any]:
    team = prefetched(request, "team")
    return team if team is not None else list(request.team.order_by("invited_at", "pk"))


def known_titles(request: AccessRequest) -> dict[str, str]:
    """The titles of the request's datasets when the page read them (slug → title)."""
    loaded = prefetched(request, "requested_datasets")
    return {i.dataset.slug: i.dataset.title for i in loaded} if loaded is not None else {}


def _decisions(request: AccessRequest) -> list[RequestedDataset]:
    loaded = prefetched(request, "requested_datasets")  # the page's, ordered by dataset slug
    if loaded is not None:
        return loaded
    return list(
        RequestedDataset.objects.filter(request=request)
        .select_related("dataset", "dataset__owner", "decided_by")
        .order_by("dataset__slug")
    )


def request_view(*, user: Any, request: AccessRequest) -> RequestView:
    """Build the presentation of ``request`` for ``user``. The caller has already checked that
    the user may see the request at all (``selectors.request_get``)."""
    roles = roles_of(user, request)
    sight = sight_of(user, request, roles)
    rounds = []
    titles = known_titles(request)
    submissions = prefetched(request, "submissions")
    for sub in (
        submissions
        if submissions is not None
        else Submission.objects.filter(request=request)
        .select_related("submitted_by")
        .order_by("round")
    ):
        form = form_for_submission(sub)
        rounds.append(
            RoundView(
                round=sub.round,
                submitted_at=sub.submitted_at,
                digest=sub.digest,
                submitted_by=sub.submitted_by,
                answers=redact(
                    sub.answers, can_see_private=sight.private_answers, private=form.private_keys
                ),
                form=form,
                titles=titles,
            )
        )
    stages = []
    loaded = prefetched(request, "stages")
    for stage in (
        loaded
        if loaded is not None
        else ReviewStage.objects.filter(request=request)
        .select_related("board", "closed_by")
        .prefetch_related("votes__voter", "declarations__member")
        .order_by("round", "order")
    ):
        stages.append(
            StageView(
                stage=stage,
                votes=list(stage.votes.all()) if sight.deliberation else None,
                declarations=list(stage.declarations.all()) if sight.deliberation else None,
            )
        )
    from requests_app.selectors import terms_status

    status = terms_status(request)
    comments = Comment.objects.filter(request=request).select_related("author")
    if not sight.deliberation:
        comments = comments.filter(is_internal=False)
    return RequestView(
        request=request,
        viewer=user,
        roles=frozenset(roles),
        sight=sight,
        rounds=rounds,
        team=_team(request) if sight.private_answers else None,
        attachments=_visible_attachments(request, sight),
        stages=stages,
        decisions=_decisions(request),
        comments=list(comments.order_by("created_at", "pk")),
        checks=list(
            CheckResult.objects.filter(request=request, round=request.round).select_related(
                "dataset"
            )
        ),
        minimisation=minimisation_of(request),
        terms=status.terms,
        acceptances=status.people if sight.private_answers else None,
    )


def addresses_seeing_deliberation(request: AccessRequest, users: Any) -> list[str]:
    """The e-mail addresses, among ``users``, of those the rule lets read the deliberation:
    board-only news (a vote was cast, a reminder to vote) goes to them and nobody else."""
    return [u.email for u in users if sight_of(u, request).deliberation]


def team_user_filter(request: AccessRequest) -> Q:
    """Users on the request's own team (the requester included)."""
    emails = list(request.team.values_list("email", flat=True))
    return Q(pk=request.requester_id) | Q(email__in=emails)


@dataclass(frozen=True)
class BoardReason:
    """One reason a board gave with a decision that sends the request back or refuses it.

    What is addressed to the requester: the board's note and the reasons members gave with the
    votes that decided the outcome, as the board's words. The voter is named only for those who
    may read the deliberation (``author`` is None for everyone else), and the vote itself is
    never shown here (who voted what stays in the deliberation)."""

    stage: ReviewStage
    text: str
    author: Any = None  # a User, or None: not for this viewer
    is_note: bool = False


def board_reasons(view: RequestView) -> list[BoardReason]:
    """The reasons of every closed stage that requested changes or rejected, oldest round
    first: the chair's note, then the reasons given with the votes for that outcome. An open
    round's votes are never shown: they are not a decision yet."""
    from requests_app.models import StageState, VoteChoice

    outcome_votes = {
        StageState.CHANGES_REQUESTED: VoteChoice.REQUEST_CHANGES,
        StageState.REJECTED: VoteChoice.REJECT,
    }
    request = view.request
    # The request page prefetches the stages with their declarations and votes
    # (``selectors.request_get_for_page``): read those instead of asking again.
    prefetched = "stages" in getattr(request, "_prefetched_objects_cache", {})
    if prefetched:
        stages = sorted(
            (s for s in request.stages.all() if s.state in outcome_votes),
            key=lambda s: (s.round, s.order),
        )
    else:
        stages = (
            ReviewStage.objects.filter(request=request, state__in=list(outcome_votes))
            .select_related("board")
            .order_by("round", "order")
        )
    reasons: list[BoardReason] = []
    for stage in stages:
        if stage.decision_note.strip():
            reasons.append(BoardReason(stage=stage, text=stage.decision_note, is_note=True))
        if prefetched:
            recused = {d.member_id for d in stage.declarations.all() if d.has_conflict}
            votes = sorted(
                (
                    v
                    for v in stage.votes.all()
                    if v.choice == outcome_votes[stage.state]
                    and v.voter_id not in recused
                    and v.comment != ""
                ),
                key=lambda v: (v.cast_at, v.pk),
            )
        else:
            recused_ids = stage.declarations.filter(has_conflict=True).values("member")
            votes = (
                stage.votes.filter(choice=outcome_votes[stage.state])
                .exclude(voter__in=recused_ids)
                .exclude(comment="")
                .select_related("voter")
                .order_by("cast_at", "pk")
            )
        for vote in votes:
            reasons.append(
                BoardReason(
                    stage=stage,
                    text=vote.comment,
                    author=vote.voter if view.sight.deliberation else None,
                )
            )
    return reasons


def run_results_visible(user: Any, request: AccessRequest) -> bool:
    """Whether ``user`` may read and download the run results of ``request``'s permits (the
    rule in the module docstring). The caller has already checked they may see the request."""
    return sight_of(user, request).run_results
