"""What every request service does first: lock the row, check visibility, state and role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from audit.services import audit_record
from lifes.errors import NotFound
from requests_app import spans, workflow
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
    before: str = ""  # the state when the row was locked


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
    return Locked(request, transition, roles, current, request.state)


def apply(
    locked: Locked,
    *,
    actor: Any,
    target: str | None = None,
    fields: tuple[str, ...] = (),
    **payload: Any,
) -> AccessRequest:
    """Write the transition: the new state (one the table names) and its audit event.

    ``target`` None keeps the state; ``fields`` are the other columns the service changed on
    the row and saves with it. A target the row does not name is a programming error, so it
    fails loudly (and the transaction rolls back) instead of writing an unplanned state.
    """
    request, transition = locked.request, locked.transition
    landing = target if target is not None else request.state
    if transition.targets and landing not in transition.targets:
        raise ImproperlyConfigured(
            f"'{transition.action}' may lead to {transition.targets}, not '{landing}'."
        )
    if not transition.targets and landing != locked.before:
        raise ImproperlyConfigured(f"'{transition.action}' keeps the state; it cannot move it.")
    if target is not None or fields:
        request.state = landing
        request.save(update_fields=["state", "updated_at", *fields])
    record(actor=actor, action=transition.action, request=request, before=locked.before, **payload)
    # The statutory clock follows every change of state (EHDS Art. 68): services/ehds.py.
    from requests_app.services.ehds import clock_follow

    clock_follow(request, before=locked.before, after=landing)
    return request


def _audit_action(action: str) -> str:
    transition = next((t for t in workflow.TRANSITIONS if t.action == action), None)
    return transition.audit_action if transition is not None else f"request.{action}"


def record(*, actor: Any, action: str, request: AccessRequest, before: str, **payload: Any) -> None:
    """The request's audit event; for a transition, its action is the table's audit action."""
    event = audit_record(
        actor=actor,
        action=_audit_action(action),
        target=request,
        payload={
            "reference": request.reference,
            "from": before,
            "to": request.state,
            "round": request.round,
            **payload,
        },
    )
    # The time-in-state facts move with the log, at the event's own time (requests_app.spans).
    spans.move(request_id=request.pk, before=before, after=request.state, at=event.occurred_at)


def grant_view(request: AccessRequest, *, users: list[Any] = (), groups: list[Any] = ()) -> None:
    """Object grant (django-guardian): who may see this request from now on."""
    for user in users:
        assign_perm(VIEW_PERM, user, request)
    for group in groups:
        assign_perm(VIEW_PERM, group, request)
