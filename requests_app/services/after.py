"""After the decision: amendments and renewals of a permit (Art. 68), appeals against a
refusal. Each is a row of the transition table (``amend``, ``appeal``, ``decide_appeal``).

An amendment is reviewed as a new round of the same request by the same boards and owners;
the permit issued at its end supersedes the old one (``permits.services.permit_issue``). While
it is in review the old permit stays valid; refused or withdrawn, the request returns to
``permitted`` with the old permit unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lifes.errors import InvalidInput, InvalidTransition
from requests_app.after_models import (
    Amendment,
    AmendmentKind,
    AmendmentOutcome,
    Appeal,
    AppealOutcome,
)
from requests_app.errors import Code
from requests_app.models import AccessRequest, RequestState, TeamMember
from requests_app.notifications import notify, team_addresses
from requests_app.services.common import apply, lock_and_authorize
from requests_app.services.submission import _submit

MAX_TEXT = 3000
#: The permit statuses in which a permit is live (``permits.models.LIVE_STATUSES``; this app
#: sits above permits and reads them by value).
LIVE_PERMIT = ("active", "suspended")


def _required(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message, code=Code.REASON_REQUIRED, errors={field: [message]})
    return text[:MAX_TEXT]


def pending_amendment(request: AccessRequest) -> Amendment | None:
    return request.amendments.filter(outcome=AmendmentOutcome.PENDING).first()


def renewals_used(request: AccessRequest) -> int:
    """Renewals asked for that count: granted or still in review (a refused or withdrawn one
    does not use up the renewal)."""
    return request.amendments.filter(
        kind=AmendmentKind.RENEWAL,
        outcome__in=[AmendmentOutcome.PENDING, AmendmentOutcome.GRANTED],
    ).count()


def renewals_left(request: AccessRequest) -> int:
    return max(settings.EHDS_MAX_RENEWALS - renewals_used(request), 0)


def _emails(team: list[str] | None, request: AccessRequest) -> list[str]:
    emails: list[str] = []
    for raw in team or []:
        email = (raw or "").strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError as exc:
            message = _("Enter a valid email address.")
            raise InvalidInput(message, errors={"team": [f"{email}: {message}"]}) from exc
        if email == request.requester.email.lower() or request.team.filter(email=email).exists():
            continue  # already on the team: nothing to add
        if email not in emails:
            emails.append(email)
    return emails


def request_amend(
    *,
    actor: Any,
    request_id: int,
    kind: str,
    changes: str,
    reason: str,
    new_period_end: dt.date | None = None,
    team: list[str] | None = None,
    algorithms: list[Any] | None = None,
) -> AccessRequest:
    """The holder asks to amend (add team members or algorithms) or renew (extend the period)
    the permit: the changes go into the request and a new round is submitted for review.

    Refusals (stable codes): ``reason_required`` (what changes or why is empty),
    ``renewal_limit`` (``EHDS_MAX_RENEWALS`` reached), ``period_not_extended`` (a renewal whose
    end is not after the current one), ``extension_is_renewal`` (an amendment that moves the
    end), ``nothing_changes`` (an amendment that adds nobody and nothing).
    """
    if kind not in AmendmentKind.values:
        raise InvalidInput(
            _("Choose amendment or renewal."), errors={"kind": [_("Choose amendment or renewal.")]}
        )
    what = _required(changes, "changes", _("Say what changes."))
    why = _required(reason, "reason", _("Say why the change is needed."))
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="amend")
        request = locked.request
        permit = request.permits.filter(status__in=LIVE_PERMIT).order_by("-pk").first()
        if permit is None:
            raise InvalidTransition(
                _("This request has no live permit to amend."), code=Code.NO_LIVE_PERMIT
            )
        emails = _emails(team, request)
        present = set(request.algorithms.values_list("pk", flat=True))
        added = [a for a in (algorithms or []) if a.pk not in present]
        previous_end = request.period_end
        if kind == AmendmentKind.RENEWAL:
            if renewals_left(request) <= 0:
                raise InvalidTransition(
                    _("This permit was renewed already; no further renewal is possible."),
                    code=Code.RENEWAL_LIMIT,
                )
            if new_period_end is None or (previous_end and new_period_end <= previous_end):
                message = _("A renewal needs a new end after the current one.")
                raise InvalidInput(
                    message, code=Code.PERIOD_NOT_EXTENDED, errors={"new_period_end": [message]}
                )
        else:
            if new_period_end is not None and new_period_end != previous_end:
                message = _("A longer period is a renewal; choose renewal.")
                raise InvalidInput(
                    message, code=Code.EXTENSION_IS_RENEWAL, errors={"new_period_end": [message]}
                )
            if not emails and not added:
                message = _("Add a team member or an algorithm, or ask for a renewal.")
                raise InvalidInput(message, code=Code.NOTHING_CHANGES, errors={"team": [message]})
        now = timezone.now()
        amendment = Amendment.objects.create(
            request=request,
            round=request.round + 1,
            kind=kind,
            changes=what,
            reason=why,
            new_period_end=new_period_end if kind == AmendmentKind.RENEWAL else None,
            previous_period_end=previous_end,
            added_team=emails,
            permit_number=permit.number,
            requested_by=actor,
            requested_at=now,
        )
        amendment.added_algorithms.set(added)
        for email in emails:
            TeamMember.objects.create(request=request, email=email)
            notify(
                template="team_invite",
                request=request,
                recipients=[email],
                context={"inviter": actor},
            )
        if added:
            request.algorithms.add(*added)
        if kind == AmendmentKind.RENEWAL:
            request.period_end = new_period_end
            request.save(update_fields=["period_end", "updated_at"])
        # Every dataset is decided again by its owner in the new round.
        request.requested_datasets.update(decision="pending", decided_by=None, decided_at=None)
        _submit(
            locked,
            actor=actor,
            kind=kind,
            permit=permit.number,
            changes=what,
            reason=why,
            new_period_end=amendment.new_period_end,
            added_team=emails,
            added_algorithms=[f"{a.name} {a.version}" for a in added],
        )
    return request


def amendment_settle(request: AccessRequest, *, outcome: str, permit_number: str = "") -> bool:
    """Record the end of the request's pending amendment (inside the caller's transaction);
    whether there was one. Refused or withdrawn, the request goes back to ``permitted``."""
    amendment = pending_amendment(request)
    if amendment is None:
        return False
    amendment.outcome = outcome
    amendment.decided_at = timezone.now()
    amendment.new_permit_number = permit_number
    amendment.save(update_fields=["outcome", "decided_at", "new_permit_number"])
    if outcome in (AmendmentOutcome.REFUSED, AmendmentOutcome.WITHDRAWN):
        # The period goes back to the permit's; the people and algorithms stay named on the
        # request's history (the old permit, which the node checks, never had them).
        if amendment.kind == AmendmentKind.RENEWAL:
            request.period_end = amendment.previous_period_end
            request.save(update_fields=["period_end", "updated_at"])
    return True


def refusal_target(request: AccessRequest) -> str:
    """Where a refusal leads: ``rejected``, or back to ``permitted`` when what was refused is
    an amendment (the permit it would have replaced stays as it was)."""
    if amendment_settle(request, outcome=AmendmentOutcome.REFUSED):
        return RequestState.PERMITTED
    return RequestState.REJECTED


def appeal_lodge(*, actor: Any, request_id: int, reasons: str) -> Appeal:
    """The refused requester appeals, with reasons; once per refusal (``already_appealed``)."""
    text = _required(reasons, "reasons", _("Give the reasons of the appeal."))
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="appeal")
        request = locked.request
        if request.appeals.filter(round=request.round).exists():
            raise InvalidTransition(
                _("This refusal was appealed already."), code=Code.ALREADY_APPEALED
            )
        appeal = Appeal.objects.create(
            request=request,
            round=request.round,
            reasons=text[:5000],
            lodged_by=actor,
            lodged_at=timezone.now(),
        )
        apply(locked, actor=actor, target=RequestState.APPEALED, reasons=appeal.reasons)
        notify(template="appeal_lodged", request=request, recipients=team_addresses(request))
    return appeal


def appeal_decide(*, actor: Any, request_id: int, outcome: str, reasons: str) -> Appeal:
    """Staff record the appeal's outcome. Upheld: the request is submitted again as a new
    round, to the same boards and owners. Dismissed: the refusal stands (``rejected``)."""
    if outcome not in (AppealOutcome.UPHELD, AppealOutcome.DISMISSED):
        raise InvalidInput(
            _("Choose upheld or dismissed."),
            errors={"outcome": [_("Choose upheld or dismissed.")]},
        )
    text = _required(reasons, "reasons", _("Give the reasons of the outcome."))
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="decide_appeal")
        request = locked.request
        appeal = request.appeals.select_for_update().get(
            round=request.round, outcome=AppealOutcome.PENDING
        )
        appeal.outcome, appeal.outcome_reasons = outcome, text[:5000]
        appeal.decided_by, appeal.decided_at = actor, timezone.now()
        appeal.save(update_fields=["outcome", "outcome_reasons", "decided_by", "decided_at"])
        if outcome == AppealOutcome.UPHELD:
            request.requested_datasets.update(decision="pending", decided_by=None, decided_at=None)
            _submit(
                locked,
                actor=actor,
                submitted_by=request.requester,
                outcome=outcome,
                reasons=appeal.outcome_reasons,
            )
        else:
            apply(
                locked,
                actor=actor,
                target=RequestState.REJECTED,
                outcome=outcome,
                reasons=appeal.outcome_reasons,
            )
        notify(
            template="appeal_decided",
            request=request,
            recipients=team_addresses(request),
            context={"appeal": appeal},
        )
    return appeal
