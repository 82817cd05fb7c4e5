"""The life of a permit after issue: state × action → next state, and who may take it.

Issue itself is a transition of the *request* (``issue_permit`` in ``requests_app.workflow``);
from then on the permit has its own table. Services consult ``authorize`` before every write,
the permit page derives its buttons from ``actions_for``, and the tests walk the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from lifes.errors import InvalidTransition, NotAllowed
from permits.models import Permit, PermitStatus
from requests_app.models import BoardMembership, BoardRole

S = PermitStatus


class PermitRole(StrEnum):
    STEWARD = "steward"  # a steward of one of the permit's datasets
    BOARD_CHAIR = "board_chair"  # chair or secretary of a board that reviewed the request
    SYSTEM = "system"  # the hub itself (expiry, supersession)


@dataclass(frozen=True)
class PermitTransition:
    action: str
    sources: frozenset[str]
    target: str
    roles: frozenset[PermitRole]
    label: str
    needs_reason: bool


def _t(
    action: str,
    sources: set[str],
    target: str,
    roles: set[PermitRole],
    label: Any,
    *,
    needs_reason: bool,
) -> PermitTransition:
    return PermitTransition(
        action, frozenset(sources), target, frozenset(roles), label, needs_reason
    )


MANAGERS = {PermitRole.STEWARD, PermitRole.BOARD_CHAIR}
TRANSITIONS: tuple[PermitTransition, ...] = (
    _t("suspend", {S.ACTIVE}, S.SUSPENDED, MANAGERS, _("Suspend the permit"), needs_reason=True),
    _t("resume", {S.SUSPENDED}, S.ACTIVE, MANAGERS, _("Resume the permit"), needs_reason=True),
    _t(
        "revoke",
        {S.ACTIVE, S.SUSPENDED},
        S.REVOKED,
        MANAGERS,
        _("Revoke the permit"),
        needs_reason=True,
    ),
    _t(
        "expire",
        {S.ACTIVE, S.SUSPENDED},
        S.EXPIRED,
        {PermitRole.SYSTEM},
        _("Expire the permit at the end of its validity"),
        needs_reason=False,
    ),
    _t(
        "supersede",
        {S.ACTIVE, S.SUSPENDED},
        S.SUPERSEDED,
        {PermitRole.SYSTEM},
        _("Replace the permit by the one issued after an amendment"),
        needs_reason=False,
    ),
    _t(
        "close",
        {S.ACTIVE, S.SUSPENDED},
        S.CLOSED,
        {PermitRole.SYSTEM},
        _("End the permit because its request was closed"),
        needs_reason=False,
    ),
)
BY_ACTION: dict[str, PermitTransition] = {t.action: t for t in TRANSITIONS}


def roles_on_permit(user: Any, permit: Permit) -> set[PermitRole]:
    """The roles ``user`` holds on ``permit`` (``None`` is the system). Machine users none."""
    if user is None:
        return {PermitRole.SYSTEM}
    if not user.is_authenticated or getattr(user, "is_machine", False):
        return set()
    roles: set[PermitRole] = set()
    if permit.datasets.filter(stewards=user).exists():
        roles.add(PermitRole.STEWARD)
    if BoardMembership.objects.filter(
        user=user,
        role__in=[BoardRole.CHAIR, BoardRole.SECRETARY],
        board__stages__request_id=permit.request_id,
    ).exists():
        roles.add(PermitRole.BOARD_CHAIR)
    return roles


def authorize(action: str, *, permit: Permit, roles: set[PermitRole]) -> PermitTransition:
    """Refuse unless ``action`` is allowed on ``permit`` now for one of ``roles``."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise InvalidTransition(f"Unknown action '{action}'.", code="unknown_action")
    if permit.status not in transition.sources:
        raise InvalidTransition(
            f"'{transition.label}' is not possible while the permit is {permit.status}.",
            code="invalid_state",
        )
    if not roles & transition.roles:
        raise NotAllowed(f"You may not '{transition.label}' on this permit.")
    return transition


def actions_for(*, permit: Permit, roles: set[PermitRole]) -> list[PermitTransition]:
    return [t for t in TRANSITIONS if permit.status in t.sources and roles & t.roles]
