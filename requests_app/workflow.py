"""The transition table of an access request: state (and phase) × action → next state, and who.

Services consult ``authorize`` before every write; views and the API derive the buttons they
show from ``actions_for``; ``docs/workflow.md`` is generated from ``TRANSITIONS`` by
``manage.py workflow_docs``; a test walks the whole state × role × action matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from lifes.errors import InvalidTransition, NotAllowed
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
)
OPEN_BEFORE_DECISION = frozenset(
    {S.DRAFT, S.SUBMITTED, IN_REVIEW_BOARDS, IN_REVIEW_OWNERS, S.CHANGES_REQUESTED}
)
ACTIVE = OPEN_BEFORE_DECISION | {S.APPROVED, S.PERMITTED}


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    targets: tuple[str, ...]  # () = the state stays; several = the service decides which
    roles: frozenset[Role]
    label: str
    is_irreversible: bool = False


def _t(
    action: str, sources, targets: tuple[str, ...], roles, label, *, is_irreversible: bool = False
) -> Transition:
    return Transition(action, frozenset(sources), targets, frozenset(roles), label, is_irreversible)


TRANSITIONS: tuple[Transition, ...] = (
    _t(
        "edit",
        {S.DRAFT, S.CHANGES_REQUESTED},
        (),
        {Role.REQUESTER},
        _("Edit the answers, team and attachments"),
    ),
    _t("submit", {S.DRAFT}, (S.SUBMITTED,), {Role.REQUESTER}, _("Submit")),
    _t(
        "resubmit",
        {S.CHANGES_REQUESTED},
        (S.SUBMITTED,),
        {Role.REQUESTER},
        _("Resubmit (opens a new round)"),
    ),
    _t(
        "withdraw",
        OPEN_BEFORE_DECISION,
        (S.WITHDRAWN,),
        {Role.REQUESTER},
        _("Withdraw"),
        is_irreversible=True,
    ),
    _t(
        "route",
        {S.SUBMITTED},
        (S.IN_REVIEW,),
        {Role.SYSTEM},
        _("Route to the review boards once the automated checks ran"),
    ),
    _t(
        "accept_terms",
        ACTIVE,
        (),
        {Role.TEAM, Role.REQUESTER},
        _("Accept the dataset terms personally"),
    ),
    _t(
        "comment",
        {S.SUBMITTED, IN_REVIEW_BOARDS, IN_REVIEW_OWNERS, S.CHANGES_REQUESTED},
        (),
        {Role.REQUESTER, Role.TEAM, Role.MEMBER, Role.CHAIR, Role.OWNER},
        _("Comment"),
    ),
    _t(
        "declare_conflict",
        {IN_REVIEW_BOARDS},
        (),
        {Role.MEMBER, Role.CHAIR},
        _("Declare conflicts of interest"),
    ),
    _t("vote", {IN_REVIEW_BOARDS}, (), {Role.MEMBER, Role.CHAIR}, _("Vote")),
    _t(
        "close_round",
        {IN_REVIEW_BOARDS},
        (S.IN_REVIEW, S.CHANGES_REQUESTED, S.REJECTED),
        {Role.CHAIR},
        _("Close the board's round and record its decision"),
        is_irreversible=True,
    ),
    _t(
        "decide_dataset",
        {IN_REVIEW_OWNERS},
        (S.IN_REVIEW, S.APPROVED, S.REJECTED),
        {Role.OWNER},
        _("Grant or refuse a dataset"),
        is_irreversible=True,
    ),
    _t(
        "issue_permit",
        {S.APPROVED},
        (S.PERMITTED,),
        {Role.OWNER, Role.SYSTEM},
        _("Issue the permit"),
    ),
    _t(
        "amend",
        {S.PERMITTED},
        (S.CHANGES_REQUESTED,),
        {Role.REQUESTER},
        _("Ask for an extension or amendment (a new round; the new permit supersedes the old)"),
    ),
    _t(
        "close",
        {S.APPROVED, S.PERMITTED},
        (S.CLOSED,),
        {Role.REQUESTER, Role.STAFF},
        _("Close the request"),
        is_irreversible=True,
    ),
)
BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


def situation(state: str, phase: Phase | None) -> str:
    return f"{state}:{phase}" if state == S.IN_REVIEW else state


def find(action: str) -> Transition:
    try:
        return BY_ACTION[action]
    except KeyError:
        raise InvalidTransition(f"Unknown action '{action}'.", code="unknown_action") from None


def authorize(action: str, *, current: str, roles: set[Role]) -> Transition:
    """Refuse unless ``action`` is allowed in ``current`` for one of ``roles``.

    The state is checked before the role so that a wrong-state attempt tells the person what
    state the request is in, which they may see anyway.
    """
    transition = find(action)
    if current not in transition.sources:
        where = current.replace("_", " ")
        raise InvalidTransition(
            _("'%(action)s' is not possible while the request is %(state)s.")
            % {"action": transition.label, "state": where},
            code="invalid_state",
        )
    if not roles & transition.roles:
        raise NotAllowed(
            _("You may not '%(action)s' on this request.") % {"action": transition.label}
        )
    return transition


def actions_for(*, current: str, roles: set[Role]) -> list[Transition]:
    return [t for t in TRANSITIONS if current in t.sources and roles & t.roles]


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
        "| action | allowed in | leads to | who |",
        "|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        sources = ", ".join(f"`{s}`" for s in SITUATIONS if s in t.sources)
        targets = ", ".join(f"`{s}`" for s in t.targets) or "(stays)"
        roles = ", ".join(sorted(str(r) for r in t.roles))
        lines.append(f"| `{t.action}` | {sources} | {targets} | {roles} |")
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
