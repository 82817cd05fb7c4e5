"""The transition table of an access request: state (and phase) × action → next state, and who.

Each row names its action, the service that performs it, its API command slug, its HTML form,
its audit action and its targets. Everything else is generated from the rows: services consult
``authorize`` before every write and move the state through ``services.common.apply`` (which
refuses a target the row does not name); the API command views and URLs (``api.commands``),
the page's dispatch (``views.request_act``), the buttons (``actions_for``), the dashboard's
"waiting for you" (``selectors.waiting_for``), ``docs/workflow.md`` (``manage.py
workflow_docs``) and the test that walks the state × role × action matrix.

Services, forms and serializers are named by dotted path and imported when first used: the
table sits below them (they import it), so it cannot import them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from lifes.errors import InvalidTransition, NotAllowed
from requests_app.errors import Code
from requests_app.models import RequestState as S


class Role(StrEnum):
    REQUESTER = "requester"
    TEAM = "team_member"
    MEMBER = "board_member"
    CHAIR = "board_chair"
    OWNER = "data_owner"
    AUDITOR = "auditor"
    STAFF = "staff"
    SYSTEM = "system"
    # Derived from the member's conflict declaration on the open stage (and the team):
    CLEARED = "cleared_member"  # declared no conflict of interest
    RECUSED = "recused_member"  # declared a conflict, or is the requester or on the team


class Phase(StrEnum):
    """In review, the boards decide first; then each dataset's owner."""

    BOARDS = "boards"
    OWNERS = "owners"


# A situation is a state, or a state with its phase ("in_review:boards").
IN_REVIEW_BOARDS = f"{S.IN_REVIEW}:{Phase.BOARDS}"
IN_REVIEW_OWNERS = f"{S.IN_REVIEW}:{Phase.OWNERS}"
SITUATIONS = (
    S.DRAFT,
    S.SUBMITTED,
    IN_REVIEW_BOARDS,
    IN_REVIEW_OWNERS,
    S.CHANGES_REQUESTED,
    S.APPROVED,
    S.PERMITTED,
    S.REJECTED,
    S.WITHDRAWN,
    S.CLOSED,
    S.INCOMPLETE,
    S.LAPSED,
    S.APPEALED,
)
OPEN_BEFORE_DECISION = frozenset(
    {S.DRAFT, S.SUBMITTED, IN_REVIEW_BOARDS, IN_REVIEW_OWNERS, S.CHANGES_REQUESTED, S.INCOMPLETE}
)
ACTIVE = OPEN_BEFORE_DECISION | {S.APPROVED, S.PERMITTED}


@dataclass(frozen=True)
class Waiting:
    """How the dashboard's "waiting for you" names a transition someone may take now."""

    why: str  # a stable key (the API's ``why``)
    label: Any  # what the dashboard shows


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    targets: tuple[str, ...]  # () = the state stays; several = the service decides which
    roles: frozenset[Role]
    label: str
    is_irreversible: bool = False
    # Separation of duties: holding one of these roles refuses the action, whatever other role
    # would allow it (checked in this order; the first one found gives the reason).
    barred: tuple[Role, ...] = ()
    # The service that performs it: ``service(actor=..., request_id=..., **input)``.
    service: str = ""
    # POST /api/v1/requests/{reference}/<api> and its DRF input serializer (None: no input).
    api: str | None = None
    api_input: str | None = None
    # POST /requests/{reference}/act/<action>/ and its Django form (None: no input). An
    # action without ``html`` has its own page (``edit``: the wizard) or no person takes it.
    html: bool = True
    form: str | None = None
    # "Waiting for you", by situation ("*" for all of them); () = never listed.
    waiting: tuple[tuple[str, Waiting], ...] = ()
    # What the confirmation page says an irreversible action does ("" : the generic text).
    confirmation: Any = ""

    @property
    def audit_action(self) -> str:
        """The audit event's action: the action's one name."""
        return f"request.{self.action}"

    def waiting_in(self, current: str) -> Waiting | None:
        for where, waiting in self.waiting:
            if where in ("*", current):
                return waiting
        return None


def _t(
    action: str,
    sources,
    targets: tuple[str, ...],
    roles,
    label,
    *,
    is_irreversible: bool = False,
    barred: tuple[Role, ...] = (),
    service: str = "",
    api: str | None = None,
    api_input: str | None = None,
    html: bool = True,
    form: str | None = None,
    waiting: dict[str, Waiting] | None = None,
    confirmation: Any = "",
) -> Transition:
    return Transition(
        action,
        frozenset(sources),
        targets,
        frozenset(roles),
        label,
        is_irreversible,
        barred,
        service=service,
        api=api,
        api_input=api_input,
        html=html,
        form=form,
        waiting=tuple((waiting or {}).items()),
        confirmation=confirmation,
    )


SERVICES = "requests_app.services."
FORMS = "requests_app.forms."
INPUTS = "requests_app.api."


#: Nobody decides on a request they made or are on the team of.
OWN_REQUEST = (Role.REQUESTER, Role.TEAM)


TRANSITIONS: tuple[Transition, ...] = (
    # Edited through the wizard's pages and PATCH /api/v1/requests/{reference}; the team and
    # attachment commands are part of it (they authorize "edit").
    _t(
        "edit",
        {S.DRAFT, S.CHANGES_REQUESTED, S.INCOMPLETE},
        (),
        {Role.REQUESTER},
        _("Edit the answers, team and attachments"),
        service=SERVICES + "request_update",
        html=False,
        waiting={
            S.DRAFT: Waiting("draft", _("finish and submit your draft")),
            S.CHANGES_REQUESTED: Waiting("changes_requested", _("the board asks for changes")),
            S.INCOMPLETE: Waiting("incomplete", _("complete your application")),
        },
    ),
    _t(
        "submit",
        {S.DRAFT},
        (S.SUBMITTED,),
        {Role.REQUESTER},
        _("Submit"),
        service=SERVICES + "request_submit",
        api="submit",
    ),
    _t(
        "resubmit",
        {S.CHANGES_REQUESTED, S.INCOMPLETE},
        (S.SUBMITTED,),
        {Role.REQUESTER},
        _("Resubmit (opens a new round)"),
        service=SERVICES + "request_resubmit",
        api="resubmit",
    ),
    _t(
        "withdraw",
        OPEN_BEFORE_DECISION,
        (S.WITHDRAWN, S.PERMITTED),  # permitted: an amendment is withdrawn, the permit stays
        {Role.REQUESTER},
        _("Withdraw"),
        is_irreversible=True,
        service=SERVICES + "request_withdraw",
        api="withdraw",
        api_input=INPUTS + "ReasonSerializer",
        form=FORMS + "ReasonForm",
    ),
    _t(
        "route",
        {S.SUBMITTED},
        (S.IN_REVIEW,),
        {Role.SYSTEM},
        _("Route to the review boards once the automated checks ran"),
        service=SERVICES + "request_route",
        html=False,
    ),
    _t(
        "accept_terms",
        ACTIVE,
        (),
        {Role.TEAM, Role.REQUESTER},
        _("Accept the dataset terms personally"),
        service=SERVICES + "terms_accept",
        api="accept-terms",
        waiting={"*": Waiting("accept_terms", _("accept the dataset terms"))},
    ),
    _t(
        "comment",
        {S.SUBMITTED, IN_REVIEW_BOARDS, IN_REVIEW_OWNERS, S.CHANGES_REQUESTED},
        (),
        {Role.REQUESTER, Role.TEAM, Role.MEMBER, Role.CHAIR, Role.OWNER},
        _("Comment"),
        service=SERVICES + "comment_add",
        api="comments",
        api_input=INPUTS + "CommentSerializer",
        form=FORMS + "CommentForm",
    ),
    _t(
        "declare_conflict",
        {IN_REVIEW_BOARDS},
        (),
        {Role.MEMBER, Role.CHAIR},
        _("Declare conflicts of interest"),
        barred=(*OWN_REQUEST, Role.CLEARED, Role.RECUSED),
        service=SERVICES + "conflict_declare",
        api="declare-conflict",
        api_input=INPUTS + "DeclareSerializer",
        form=FORMS + "DeclareForm",
        waiting={"*": Waiting("declare", _("declare conflicts of interest"))},
    ),
    # A vote needs a declaration of no conflict first: only cleared members hold the role.
    _t(
        "vote",
        {IN_REVIEW_BOARDS},
        (),
        {Role.CLEARED},
        _("Vote"),
        barred=(*OWN_REQUEST, Role.RECUSED),
        service=SERVICES + "vote_cast",
        api="votes",
        api_input=INPUTS + "VoteSerializer",
        form=FORMS + "VoteForm",
        waiting={"*": Waiting("vote", _("vote"))},
    ),
    _t(
        "close_round",
        {IN_REVIEW_BOARDS},
        # permitted: a refused amendment leaves the permit as it was
        (S.IN_REVIEW, S.CHANGES_REQUESTED, S.REJECTED, S.PERMITTED),
        {Role.CHAIR},
        _("Close the board's round and record its decision"),
        is_irreversible=True,
        barred=(*OWN_REQUEST, Role.RECUSED),
        service=SERVICES + "round_close",
        api="close-round",
        api_input=INPUTS + "CloseRoundSerializer",
        form=FORMS + "CloseRoundForm",
        waiting={"*": Waiting("close_round", _("close the board's round"))},
    ),
    _t(
        "decide_dataset",
        {IN_REVIEW_OWNERS},
        (S.IN_REVIEW, S.APPROVED, S.REJECTED, S.PERMITTED),
        {Role.OWNER},
        _("Grant or refuse a dataset"),
        is_irreversible=True,
        barred=OWN_REQUEST,
        service=SERVICES + "dataset_decide",
        api="decide",
        api_input=INPUTS + "DecideSerializer",
        form=FORMS + "DecideForm",
        waiting={"*": Waiting("decide", _("grant or refuse your dataset"))},
    ),
    # Performed by the permits app, which has its own page and API for it (a permit, not the
    # request, is what they answer with): POST /api/v1/permits/issue, /permits/issue/<ref>/.
    _t(
        "issue_permit",
        {S.APPROVED},
        (S.PERMITTED,),
        {Role.OWNER, Role.SYSTEM},
        _("Issue the permit"),
        barred=OWN_REQUEST,
        service="permits.services.permit_issue",
        html=False,
    ),
    # The holder's amendment or renewal (Art. 68): a form of what changes and why, reviewed
    # as a new round by the same boards and owners; its permit supersedes the old one.
    _t(
        "amend",
        {S.PERMITTED},
        (S.SUBMITTED,),
        {Role.REQUESTER},
        _("Ask for an amendment or a renewal"),
        service=SERVICES + "request_amend",
        api="amend",
        api_input=INPUTS + "AmendSerializer",
        form=FORMS + "AmendForm",
    ),
    _t(
        "close",
        {S.APPROVED, S.PERMITTED},
        (S.CLOSED,),
        {Role.REQUESTER, Role.STAFF},
        _("Close the request"),
        is_irreversible=True,
        confirmation=_(
            "Closing ends the request for good, and its permit ends with it: the permit goes"
            " onto the revocation list and no node will run it again."
        ),
        service=SERVICES + "request_close",
        api="close",
        api_input=INPUTS + "ReasonSerializer",
        form=FORMS + "ReasonForm",
    ),
    # The EHDS completeness check and statutory clock (Reg. (EU) 2025/327 Art. 68;
    # services/ehds.py). A named person at the access body (staff) checks completeness after
    # the automated checks: complete starts the clock and routes to the boards; incomplete
    # returns it with the missing items and a completion window, after which it lapses.
    _t(
        "accept_complete",
        {S.SUBMITTED},
        (S.IN_REVIEW,),
        {Role.STAFF},
        _("Accept as complete (starts the decision deadline)"),
        barred=OWN_REQUEST,
        service=SERVICES + "completeness_accept",
        api="accept-complete",
        waiting={"*": Waiting("completeness", _("check the application's completeness"))},
    ),
    _t(
        "return_incomplete",
        {S.SUBMITTED},
        (S.INCOMPLETE,),
        {Role.STAFF},
        _("Return as incomplete (names what is missing)"),
        barred=OWN_REQUEST,
        service=SERVICES + "completeness_return",
        api="return-incomplete",
        api_input=INPUTS + "MissingItemsSerializer",
        form=FORMS + "MissingItemsForm",
    ),
    _t(
        "lapse",
        {S.INCOMPLETE},
        (S.LAPSED,),
        {Role.SYSTEM},
        _("Lapse: not completed within the completion window"),
        is_irreversible=True,
        service=SERVICES + "request_lapse",
        html=False,
    ),
    _t(
        "extend_clock",
        {IN_REVIEW_BOARDS, IN_REVIEW_OWNERS, S.CHANGES_REQUESTED},
        (),
        {Role.STAFF},
        _("Extend the decision deadline (once, with a reason)"),
        is_irreversible=True,
        barred=OWN_REQUEST,
        service=SERVICES + "clock_extend",
        api="extend-clock",
        api_input=INPUTS + "ExtendClockSerializer",
        form=FORMS + "ExtendClockForm",
    ),
    # An appeal against a refusal, with its reasons; staff record its outcome. Upheld, the
    # request is reviewed again in a new round; dismissed, the refusal stands.
    _t(
        "appeal",
        {S.REJECTED},
        (S.APPEALED,),
        {Role.REQUESTER},
        _("Appeal against the refusal"),
        service=SERVICES + "appeal_lodge",
        api="appeal",
        api_input=INPUTS + "AppealSerializer",
        form=FORMS + "AppealForm",
    ),
    _t(
        "decide_appeal",
        {S.APPEALED},
        (S.REJECTED, S.SUBMITTED),
        {Role.STAFF},
        _("Record the outcome of the appeal"),
        is_irreversible=True,
        barred=OWN_REQUEST,
        service=SERVICES + "appeal_decide",
        api="decide-appeal",
        api_input=INPUTS + "AppealDecideSerializer",
        form=FORMS + "AppealDecideForm",
        waiting={"*": Waiting("decide_appeal", _("record the outcome of an appeal"))},
    ),
)
BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


def situation(state: str, phase: Phase | None) -> str:
    return f"{state}:{phase}" if state == S.IN_REVIEW else state


def find(action: str) -> Transition:
    for transition in TRANSITIONS:
        if transition.action == action:
            return transition
    raise InvalidTransition(
        _("Unknown action '%(action)s'.") % {"action": action}, code=Code.UNKNOWN_ACTION
    )


def by_api(slug: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.api == slug), None)


def resolve(dotted: str) -> Any:
    """The service, form or serializer a row names (imported on first use)."""
    return import_string(dotted)


# Audit actions written before the table named them (events in the log keep their names);
# the explorer and the timeline read them as today's action.
LEGACY_AUDIT_ACTIONS: dict[str, str] = {
    "request.conflict_declare": "request.declare_conflict",
    "request.terms_accept": "request.accept_terms",
}


# Why a barred role refuses: (error code, message).
BAR_REASONS: dict[Role, tuple[str, Any]] = {
    Role.REQUESTER: (
        Code.OWN_REQUEST,
        _("This is your own request: you cannot take part in deciding it."),
    ),
    Role.TEAM: (
        Code.OWN_REQUEST,
        _("You are on this request's team: you cannot take part in deciding it."),
    ),
    Role.CLEARED: (Code.ALREADY_DECLARED, _("You already declared for this review.")),
    Role.RECUSED: (
        Code.RECUSED,
        _("You are recused from this review (a declared conflict of interest)."),
    ),
}
# A member who is not cleared yet is told what to do first.
NEEDS_DECLARATION = frozenset({Role.MEMBER, Role.CHAIR})


def is_allowed(transition: Transition, roles: set[Role]) -> bool:
    return bool(roles & transition.roles) and not roles & set(transition.barred)


def authorize(action: str, *, current: str, roles: set[Role]) -> Transition:
    """Refuse unless ``action`` is allowed in ``current`` for one of ``roles`` and none of
    the roles the transition bars (separation of duties) is held.

    The state is checked before the role so that a wrong-state attempt tells the person what
    state the request is in, which they may see anyway.
    """
    transition = find(action)
    if current not in transition.sources:
        where = current.replace("_", " ")
        raise InvalidTransition(
            _("'%(action)s' is not possible while the request is %(state)s.")
            % {"action": transition.label, "state": where},
            code=Code.INVALID_STATE,
        )
    for role in transition.barred:
        if role in roles:
            code, message = BAR_REASONS[role]
            raise NotAllowed(message, code=code)
    if not roles & transition.roles:
        if Role.CLEARED in transition.roles and roles & NEEDS_DECLARATION:
            raise NotAllowed(
                _("Declare your conflicts of interest before you vote."),
                code=Code.DECLARATION_REQUIRED,
            )
        raise NotAllowed(
            _("You may not '%(action)s' on this request.") % {"action": transition.label}
        )
    return transition


def actions_for(*, current: str, roles: set[Role]) -> list[Transition]:
    return [t for t in TRANSITIONS if current in t.sources and is_allowed(t, roles)]


def markdown_table() -> str:
    """docs/workflow.md: the same table people read and the code enforces."""
    lines = [
        "# Access request workflow",
        "",
        "Generated from `requests_app/workflow.py` by `python manage.py workflow_docs`;"
        " do not edit by hand.",
        "",
        "States: " + ", ".join(f"`{s}`" for s in SITUATIONS) + ". "
        "`in_review` has two phases: the boards review (`in_review:boards`), then each dataset's"
        " owner decides (`in_review:owners`).",
        "",
        "Separation of duties: a role under *never* refuses the action even when another role"
        " the person holds allows it. `cleared_member`: a member of the reviewing board who"
        " declared no conflict of interest; `recused_member`: one who declared a conflict, or"
        " who is the requester or on the team (recused automatically).",
        "",
        "| action | allowed in | leads to | who | never |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        sources = ", ".join(f"`{s}`" for s in SITUATIONS if s in t.sources)
        targets = ", ".join(f"`{s}`" for s in t.targets) or "(stays)"
        roles = ", ".join(sorted(str(r) for r in t.roles))
        barred = ", ".join(str(r) for r in t.barred) or "—"
        lines.append(f"| `{t.action}` | {sources} | {targets} | {roles} | {barred} |")
    lines += [
        "",
        "## Where each action is taken",
        "",
        "Every API command is `POST /api/v1/requests/{reference}/<slug>`; every page command is"
        " `POST /requests/{reference}/act/<action>/` (irreversible ones ask for confirmation).",
        "",
        "| action | service | API command | page form | audit action |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        api = f"`{t.api}`" if t.api else "—"
        form = (f"`{t.form.rsplit('.', 1)[1]}`" if t.form else "(no input)") if t.html else "—"
        lines.append(f"| `{t.action}` | `{t.service}` | {api} | {form} | `{t.audit_action}` |")
    lines += [
        "",
        "## Situations × roles",
        "",
        "| situation | " + " | ".join(str(r) for r in Role) + " |",
        "|---|" + "---|" * len(Role),
    ]
    for current in SITUATIONS:
        cells = []
        for role in Role:
            allowed = [t.action for t in actions_for(current=current, roles={role})]
            cells.append(", ".join(allowed) or "—")
        lines.append(f"| `{current}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: What a page says once an action succeeded (the flash message): what happened, in words.
#: An action not named here says its row's label.
DONE_MESSAGES: dict[str, Any] = {
    "submit": _("Request submitted. The automated checks run now; then the review boards."),
    "resubmit": _("Request resubmitted: a new review round opens."),
    "withdraw": _("Request withdrawn."),
    "accept_terms": _("You accepted the dataset terms."),
    "comment": _("Comment posted."),
    "declare_conflict": _("Your declaration is recorded."),
    "close_round": _("Round closed: the board's decision is recorded."),
    "decide_dataset": _("Your decision on the dataset is recorded."),
    "amend": _("Amendment asked for: a new round opens."),
    "close": _("Request closed."),
}
