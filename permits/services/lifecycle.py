"""Suspend, resume, revoke and expire: the life of a permit after issue (``permits.workflow``).

Each is one transaction: lock the permit row, check state and role against the table, write,
audit, mark the revocation list stale where it changes, and queue side effects after commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from lifes.errors import InvalidInput, InvalidTransition, NotFound
from permits import workflow
from permits.errors import Code
from permits.models import LIVE_STATUSES, Permit, PermitStatus
from permits.services.common import notify_team, revocations_changed
from requests_app.models import AccessRequest, RequestState
from requests_app.services.bars import access_bar_set

MAX_REASON = 2000


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise InvalidInput(
            _("Give a reason; the holder and the audit log will read it."),
            code=Code.REASON_REQUIRED,
            errors={"reason": [_("A reason is required.")]},
        )
    return reason[:MAX_REASON]


def _locked(number: str) -> Permit:
    permit = (
        Permit.objects.select_for_update(of=("self", "request"))  # not the holder's user row
        .select_related("request", "holder")
        .filter(number=number)
        .first()
    )
    if permit is None:
        raise NotFound(_("No such permit."))
    return permit


def transition_apply(
    permit: Permit,
    action: str,
    *,
    actor: Any,
    roles: set[workflow.PermitRole],
    status_reason: str,
    now: dt.datetime,
    **payload: Any,
) -> Permit:
    """The one way a permit's status changes: the table checks action, state and role, names
    the target and the audit action; the row (locked by the caller) and its event are written
    together."""
    transition = workflow.authorize(action, permit=permit, roles=roles)
    permit.status = transition.target
    permit.status_reason = status_reason
    permit.status_changed_at, permit.status_changed_by = now, actor
    permit.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])
    audit_record(
        actor=actor,
        action=transition.audit_action,
        target=permit,
        payload={"number": permit.number, "jti": str(permit.jti), **payload},
    )
    return permit


def _change(*, actor: Any, number: str, action: str, reason: str | None) -> Permit:
    transition = workflow.BY_ACTION[action]
    text = _reason(reason) if transition.needs_reason else (reason or "").strip()
    with transaction.atomic():
        permit = _locked(number)
        roles = workflow.roles_on_permit(actor, permit)
        workflow.authorize(action, permit=permit, roles=roles)
        now = timezone.now()
        if action == "resume" and permit.valid_until <= now:
            raise InvalidTransition(
                _("This permit's validity has ended; it cannot be resumed."), code=Code.EXPIRED
            )
        transition_apply(
            permit,
            action,
            actor=actor,
            roles=roles,
            status_reason=text,
            now=now,
            **{"from": permit.status, "to": transition.target, "reason": text},
        )
        if action == "revoke":
            # The holder may not ask for these datasets again until an owner lifts the bar.
            for dataset in permit.datasets.order_by("pk"):
                access_bar_set(
                    actor=actor,
                    user=permit.holder,
                    dataset=dataset,
                    reason=f"Permit {permit.number} was revoked: {text}",
                )
        revocations_changed()
        notify_team(permit, template=action, context={"reason": text})
    return permit


def permit_suspend(*, actor: Any, number: str, reason: str) -> Permit:
    """Stop every run at once (the permit goes onto the revocation list) without ending it."""
    return _change(actor=actor, number=number, action="suspend", reason=reason)


def permit_resume(*, actor: Any, number: str, reason: str) -> Permit:
    """Lift a suspension (it leaves the revocation list); not once its validity has ended."""
    return _change(actor=actor, number=number, action="resume", reason=reason)


def permit_revoke(*, actor: Any, number: str, reason: str) -> Permit:
    """End the permit everywhere: it goes onto the signed revocation list at once, and the
    holder is barred from asking for its datasets again."""
    return _change(actor=actor, number=number, action="revoke", reason=reason)


def permits_expire_due(*, batch_size: int | None = None, now: dt.datetime | None = None) -> int:
    """Expire at most ``batch_size`` live permits whose validity has ended, oldest first, in one
    transaction; return how many. The beat task calls it again while batches come back full."""
    batch_size = batch_size or settings.PERMIT_EXPIRY_BATCH_SIZE
    now = now or timezone.now()
    due = list(
        Permit.objects.filter(status__in=LIVE_STATUSES, valid_until__lte=now)
        .order_by("valid_until", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    if not due:
        return 0
    expired = 0
    with transaction.atomic():
        permits = list(
            Permit.objects.select_for_update()
            .filter(pk__in=due, status__in=LIVE_STATUSES, valid_until__lte=now)
            .order_by("pk")
        )
        was_listed = False
        for permit in permits:
            was_listed |= permit.status == PermitStatus.SUSPENDED
            transition_apply(
                permit,
                "expire",
                actor=None,
                roles={workflow.PermitRole.SYSTEM},
                status_reason="validity ended",
                now=now,
                **{"from": permit.status, "valid_until": permit.valid_until},
            )
            expired += 1
        if was_listed:
            revocations_changed()  # an expired permit no longer needs a list entry
    return expired


def permits_close_with_request(*, request_id: int) -> int:
    """The request was closed: its live permit ends too, and goes onto the revocation list (a
    node must not keep running it until its exp). No bar: closing is not a sanction. Safe to run
    twice; returns how many permits it ended."""
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.state != RequestState.CLOSED:
            return 0
        permits = list(
            Permit.objects.select_for_update()
            .filter(request=request, status__in=LIVE_STATUSES)
            .order_by("pk")
        )
        now = timezone.now()
        for permit in permits:
            transition_apply(
                permit,
                "close",
                actor=None,
                roles={workflow.PermitRole.SYSTEM},
                status_reason="the request was closed",
                now=now,
                **{"from": permit.status, "request": request.reference},
            )
        if permits:
            revocations_changed()
    return len(permits)
