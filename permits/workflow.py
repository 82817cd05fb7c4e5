"""The life of a permit after issue: state × action → next state, and who may take it.

Issue itself is a transition of the *request* (``issue_permit`` in ``requests_app.workflow``);
from then on the permit has its own table, in the same shape: each row names its action, its
target and (by its action) its audit action. Every status change (suspend, resume, revoke,
expire, supersede, close) goes through ``services.lifecycle.transition_apply``, which checks
the row and writes status and audit event; the permit page derives its buttons from
``actions_for``, and the tests walk the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from accounts.selectors import is_person
from lifes.errors import InvalidTransition, NotAllowed
from permits.errors import Code
from permits.models import Permit, PermitStatus
from requests_app.models import BoardMembership
from requests_app.permissions import (
    board_memberships,
    is_team_member,
    prefetched,
    stewarded_in,
)

S = PermitStatus


class PermitRole(StrEnum):
    STEWARD = "steward"  # a steward of one of the permit's datasets
    BOARD_CHAIR = "board_chair"  # chair or secretary of a board that reviewed the request
    SYSTEM = "system"  # the hub itself (expiry, supersession)
    HOLDER = "holder"  # the permit's holder, or on the team of its request


@dataclass(frozen=True)
class PermitTransition:
    action: str
    sources: frozenset[str]
    target: str  # "" : the status stays
    roles: frozenset[PermitRole]
    label: str
    needs_reason: bool
    # Separation of duties: holding one of these refuses the action whatever else allows it.
    barred: frozenset[PermitRole] = frozenset()
    # The service that performs it; people's actions (not only the system's) also get an API
    # command (POST /api/v1/permits/{number}/<action>) and a page command from it.
    service: str = ""

    @property
    def audit_action(self) -> str:
        """The audit event's action: the action's one name."""
        return f"permit.{self.action}"


def _t(
    action: str,
    sources: set[str],
    target: str,
    roles: set[PermitRole],
    label: Any,
    *,
    needs_reason: bool,
    barred: set[PermitRole] = frozenset(),
    service: str = "",
) -> PermitTransition:
    return PermitTransition(
        action,
        frozenset(sources),
        target,
        frozenset(roles),
        label,
        needs_reason,
        frozenset(barred),
        service=service,
    )


SERVICES = "permits.services."


MANAGERS = {PermitRole.STEWARD, PermitRole.BOARD_CHAIR}
TRANSITIONS: tuple[PermitTransition, ...] = (
    _t(
        "suspend",
        {S.ACTIVE},
        S.SUSPENDED,
        MANAGERS,
        _("Suspend the permit"),
        needs_reason=True,
        service=SERVICES + "permit_suspend",
    ),
    # Nobody lifts a suspension of a permit they hold or whose request's team they are on.
    _t(
        "resume",
        {S.SUSPENDED},
        S.ACTIVE,
        MANAGERS,
        _("Resume the permit"),
        needs_reason=True,
        service=SERVICES + "permit_resume",
        barred={PermitRole.HOLDER},
    ),
    _t(
        "revoke",
        {S.ACTIVE, S.SUSPENDED},
        S.REVOKED,
        MANAGERS,
        _("Revoke the permit"),
        needs_reason=True,
        service=SERVICES + "permit_revoke",
    ),
    _t(
        "expire",
        {S.ACTIVE, S.SUSPENDED},
        S.EXPIRED,
        {PermitRole.SYSTEM},
        _("Expire the permit at the end of its validity"),
        needs_reason=False,
        service=SERVICES + "permits_expire_due",
    ),
    _t(
        "supersede",
        {S.ACTIVE, S.SUSPENDED},
        S.SUPERSEDED,
        {PermitRole.SYSTEM},
        _("Replace the permit by the one issued after an amendment"),
        needs_reason=False,
        service=SERVICES + "permit_issue",
    ),
    _t(
        "close",
        {S.ACTIVE, S.SUSPENDED},
        S.CLOSED,
        {PermitRole.SYSTEM},
        _("End the permit because its request was closed"),
        needs_reason=False,
        service=SERVICES + "permits_close_with_request",
    ),
    # The holder's progress reports while it runs and closeout report after it ends; the
    # status stays (target ""). The report's text is the command's input.
    _t(
        "file_report",
        {S.ACTIVE, S.SUSPENDED, S.EXPIRED, S.CLOSED, S.REVOKED},
        "",
        {PermitRole.HOLDER},
        _("File a progress or closeout report"),
        needs_reason=True,
        service=SERVICES + "permit_report_file",
    ),
    # EHDS Art. 68: a granted permit waits (unsigned) for every team member's acceptance of the
    # data-use terms; then it is signed and active, or it lapses after PERMIT_ACCEPTANCE_DAYS.
    _t(
        "activate",
        {S.AWAITING_ACCEPTANCE},
        S.ACTIVE,
        {PermitRole.SYSTEM},
        _("Activate the permit once every team member accepted the terms"),
        needs_reason=False,
        service=SERVICES + "permit_activate_if_accepted",
    ),
    _t(
        "lapse",
        {S.AWAITING_ACCEPTANCE},
        S.LAPSED,
        {PermitRole.SYSTEM},
        _("Let the permit lapse: the terms were not accepted in time"),
        needs_reason=False,
        service=SERVICES + "permits_acceptance_sweep",
    ),
)
BY_ACTION: dict[str, PermitTransition] = {t.action: t for t in TRANSITIONS}


def _read_with_page(permit: Permit, request: Any) -> bool:
    """Whether the request page read what the permit roles need: the request's stages and
    datasets, and the permit's datasets, all among the request's."""
    cache = getattr(permit, "_prefetched_objects_cache", None) or {}
    requested = prefetched(request, "requested_datasets")
    if prefetched(request, "stages") is None or requested is None or "permit_datasets" not in cache:
        return False
    return {e.dataset_id for e in cache["permit_datasets"]} <= {i.dataset_id for i in requested}


def roles_on_permit(user: Any, permit: Permit) -> set[PermitRole]:
    """The roles ``user`` holds on ``permit`` (``None`` is the system). Machine users none."""
    if user is None:
        return {PermitRole.SYSTEM}
    if not is_person(user):
        return set()
    roles: set[PermitRole] = set()
    request = permit.request
    if (
        permit.holder_id == user.pk
        or request.requester_id == user.pk
        or is_team_member(user, request)  # the page's prefetched team when it has one
    ):
        roles.add(PermitRole.HOLDER)
    if _read_with_page(permit, request):
        # The request page read the request's stages (with the viewer's board roles), its
        # datasets (with the viewer's stewardship) and the permit's datasets: no query.
        stewarded = stewarded_in(user, request)
        if any(entry.dataset.slug in stewarded for entry in permit.permit_datasets.all()):
            roles.add(PermitRole.STEWARD)
        if any(m.is_chair for m in board_memberships(user, request).values()):
            roles.add(PermitRole.BOARD_CHAIR)
        return roles
    if permit.datasets.filter(stewards=user).exists():
        roles.add(PermitRole.STEWARD)
    if (
        BoardMembership.objects.chairs()
        .filter(user=user, board__stages__request_id=permit.request_id)
        .exists()
    ):
        roles.add(PermitRole.BOARD_CHAIR)
    return roles


def authorize(action: str, *, permit: Permit, roles: set[PermitRole]) -> PermitTransition:
    """Refuse unless ``action`` is allowed on ``permit`` now for one of ``roles``."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise InvalidTransition(
            _("Unknown action '%(action)s'.") % {"action": action}, code=Code.UNKNOWN_ACTION
        )
    if permit.status not in transition.sources:
        raise InvalidTransition(
            _("'%(action)s' is not possible while the permit is %(status)s.")
            % {"action": transition.label, "status": permit.status},
            code=Code.INVALID_STATE,
        )
    if roles & transition.barred:
        raise NotAllowed(
            _(
                "You may not '%(action)s': this is your own permit (you hold it or are on"
                " its request's team)."
            )
            % {"action": transition.label},
            code=Code.OWN_PERMIT,
        )
    if not roles & transition.roles:
        raise NotAllowed(
            _("You may not '%(action)s' on this permit.") % {"action": transition.label}
        )
    return transition


def resolve(dotted: str) -> Any:
    return import_string(dotted)


def commands() -> list[PermitTransition]:
    """The rows people take (from a page or the API); the system's run in services."""
    return [t for t in TRANSITIONS if t.service and t.roles - {PermitRole.SYSTEM}]


def actions_for(*, permit: Permit, roles: set[PermitRole]) -> list[PermitTransition]:
    return [
        t
        for t in TRANSITIONS
        if permit.status in t.sources and roles & t.roles and not roles & t.barred
    ]
