"""What every request service does first: lock the row, check visibility, state and role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from audit.services import audit_record
from lifes.errors import NotFound
from requests_app.models import AccessRequest
from requests_app.permissions import roles_of, situation_of
from requests_app.workflow import Role, Transition, authorize

VIEW_PERM = "requests_app.view_accessrequest"


@dataclass
class Locked:
    request: AccessRequest
    transition: Transition
    roles: set[Role]
    situation: str


def lock_and_authorize(*, actor: Any, request_id: int, action: str) -> Locked:
    """Lock the request row and apply the transition table. Must run inside ``atomic()``.

    A request the actor may not see answers 'not found', exactly like a missing one.
    """
    assert transaction.get_connection().in_atomic_block  # noqa: S101 - a programming error
    request = AccessRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound(_("No such request."))
    roles = roles_of(actor, request)
    if actor is not None and not (roles or actor.has_perm(VIEW_PERM, request)):
        raise NotFound(_("No such request."))
    current = situation_of(request)
    transition = authorize(action, current=current, roles=roles)
    return Locked(request, transition, roles, current)


def record(*, actor: Any, action: str, request: AccessRequest, before: str, **payload: Any) -> None:
    audit_record(
        actor=actor,
        action=f"request.{action}",
        target=request,
        payload={
            "reference": request.reference,
            "from": before,
            "to": request.state,
            "round": request.round,
            **payload,
        },
    )


def grant_view(request: AccessRequest, *, users: list[Any] = (), groups: list[Any] = ()) -> None:
    """Object grant (django-guardian): who may see this request from now on."""
    for user in users:
        assign_perm(VIEW_PERM, user, request)
    for group in groups:
        assign_perm(VIEW_PERM, group, request)
