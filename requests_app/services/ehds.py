"""The EHDS completeness check and statutory clock (Reg. (EU) 2025/327 Art. 68).

- Completeness before substance: after submission and the automated checks, a named person at
  the access body (staff) accepts the application as complete — which starts the clock and
  routes it to the boards — or returns it as incomplete with the missing items; the applicant
  completes it within ``EHDS_COMPLETION_WINDOW_DAYS`` or it lapses (``incomplete_lapse_sweep``).
- The clock: a decision within ``EHDS_DECISION_MONTHS`` of completeness (or the short track's
  ``EHDS_SHORT_TRACK_MONTHS``), one extension of at most ``EHDS_EXTENSION_MONTHS`` with a
  reason; stopped while the applicant is asked for information (changes requested) and
  restarted with the time that was left when they answer (``clock_follow``, called by
  ``apply`` on every transition); reminders and escalation before it runs out.

Every clock event is an audit event in the transaction of the change; emails are outbox rows.
Services take ``now=`` so that tests (and the beat) decide what time it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from lifes.errors import InvalidInput, InvalidTransition
from requests_app.clock import add_months
from requests_app.errors import Code
from requests_app.models import (
    AccessRequest,
    ClockTrack,
    CompletenessCheck,
    CompletenessOutcome,
    RequestState,
    StatutoryClock,
)
from requests_app.notifications import (
    board_addresses,
    notify,
    owner_addresses,
    team_addresses,
)
from requests_app.services.common import apply, lock_and_authorize

MISSING_ITEMS_MAX = 50
MISSING_ITEM_LENGTH = 500
# The states in which the clock runs towards a decision (reminders and escalation).
DECIDING = (RequestState.SUBMITTED, RequestState.IN_REVIEW)
DECISIONS = (RequestState.APPROVED, RequestState.REJECTED)
ENDS = (RequestState.WITHDRAWN, RequestState.CLOSED, RequestState.LAPSED)


def clock_of(request: AccessRequest) -> StatutoryClock | None:
    return StatutoryClock.objects.filter(request=request).first()


def track_for(request: AccessRequest) -> tuple[str, int]:
    """The request's track and its length in months: the short track when its organisation's
    kind is one ``EHDS_SHORT_TRACK_ORGANISATION_KINDS`` names (e.g. public-health bodies)."""
    if request.organisation.kind in settings.EHDS_SHORT_TRACK_ORGANISATION_KINDS:
        return ClockTrack.SHORT, settings.EHDS_SHORT_TRACK_MONTHS
    return ClockTrack.STANDARD, settings.EHDS_DECISION_MONTHS


def _clock_audit(action: str, request: AccessRequest, clock: StatutoryClock, **extra: Any) -> None:
    audit_record(
        actor=None,
        action=f"request.{action}",
        target=request,
        payload={
            "reference": request.reference,
            "due_at": clock.due_at.isoformat(),
            "track": clock.track,
            **extra,
        },
    )


def completeness_accept(
    *, actor: Any, request_id: int, now: datetime | None = None
) -> AccessRequest:
    """The application is complete: record who found it so, start the statutory clock, and
    route it to its boards (one transition, one audit event)."""
    from requests_app.services.submission import route_locked

    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="accept_complete")
        request = locked.request
        if not request.checks.filter(round=request.round).exists():
            raise InvalidTransition(
                _("The automated checks have not run yet; check completeness after them."),
                code=Code.CHECKS_PENDING,
            )
        CompletenessCheck.objects.create(
            request=request,
            round=request.round,
            outcome=CompletenessOutcome.COMPLETE,
            checked_by=actor,
            checked_at=now,
        )
        track, months = track_for(request)
        clock = StatutoryClock.objects.create(
            request=request, track=track, started_at=now, due_at=add_months(now, months)
        )
        route_locked(
            locked,
            actor=actor,
            clock={"started_at": now.isoformat(), "due_at": clock.due_at.isoformat()},
            track=track,
        )
    return request


def _clean_items(missing_items: Any) -> list[str]:
    if isinstance(missing_items, str):
        missing_items = missing_items.splitlines()
    items = [str(item).strip() for item in missing_items or [] if str(item).strip()]
    if not items:
        raise InvalidInput(
            _("Name at least one missing item."),
            errors={"missing_items": [_("Name at least one missing item.")]},
        )
    if len(items) > MISSING_ITEMS_MAX or any(len(i) > MISSING_ITEM_LENGTH for i in items):
        raise InvalidInput(
            _("At most %(count)d items of at most %(length)d characters each.")
            % {"count": MISSING_ITEMS_MAX, "length": MISSING_ITEM_LENGTH},
            errors={"missing_items": [_("Too many or too long items.")]},
        )
    return items


def completeness_return(
    *, actor: Any, request_id: int, missing_items: Any = (), now: datetime | None = None
) -> AccessRequest:
    """The application is incomplete: back to the applicant with what is missing and the date
    by which to complete it (``EHDS_COMPLETION_WINDOW_DAYS``)."""
    items = _clean_items(missing_items)
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="return_incomplete")
        request = locked.request
        complete_by = now + timedelta(days=settings.EHDS_COMPLETION_WINDOW_DAYS)
        CompletenessCheck.objects.create(
            request=request,
            round=request.round,
            outcome=CompletenessOutcome.INCOMPLETE,
            missing_items=items,
            checked_by=actor,
            checked_at=now,
            complete_by=complete_by,
        )
        apply(
            locked,
            actor=actor,
            target=RequestState.INCOMPLETE,
            missing_items=items,
            complete_by=complete_by.isoformat(),
        )
        notify(
            template="incomplete",
            request=request,
            recipients=team_addresses(request),
            context={"missing_items": items, "complete_by": complete_by},
        )
    return request


def latest_check(request: AccessRequest) -> CompletenessCheck | None:
    cache = getattr(request, "_prefetched_objects_cache", None) or {}
    if "completeness_checks" in cache:  # the request page's, newest first
        return next(iter(cache["completeness_checks"]), None)
    return request.completeness_checks.order_by("-round", "-pk").first()


def request_lapse(*, actor: Any, request_id: int, now: datetime | None = None) -> AccessRequest:
    """An incomplete application not completed within its window lapses (an end)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="lapse")
        request = locked.request
        check = latest_check(request)
        if check is not None and check.complete_by is not None and check.complete_by > now:
            raise InvalidTransition(
                _("The completion window is still open."), code=Code.WINDOW_OPEN
            )
        request.decided_at = now
        apply(
            locked,
            actor=actor,
            target=RequestState.LAPSED,
            fields=("decided_at",),
            complete_by=check.complete_by.isoformat() if check and check.complete_by else None,
        )
        notify(template="lapsed", request=request, recipients=team_addresses(request))
    return request


def incomplete_lapse_sweep(*, now: datetime | None = None, batch_size: int = 200) -> list[str]:
    """Beat: lapse the incomplete applications whose completion window passed. Idempotent:
    a lapsed request is no longer incomplete, so a second run finds nothing to do."""
    now = now or timezone.now()
    due = (
        AccessRequest.objects.filter(
            state=RequestState.INCOMPLETE,
            completeness_checks__outcome=CompletenessOutcome.INCOMPLETE,
            completeness_checks__complete_by__lte=now,
            completeness_checks__round=F("round"),  # the current round's check
        )
        .order_by("pk")
        .values_list("pk", "reference")
        .distinct()[:batch_size]
    )
    lapsed = []
    for request_id, reference in due:
        try:
            request_lapse(actor=None, request_id=request_id, now=now)
        except InvalidTransition:
            continue  # completed (or lapsed) meanwhile: nothing to do
        lapsed.append(reference)
    return lapsed


def clock_extend(
    *,
    actor: Any,
    request_id: int,
    reason: str = "",
    months: int | None = None,
    now: datetime | None = None,
) -> AccessRequest:
    """Extend the decision deadline once, by at most ``EHDS_EXTENSION_MONTHS``, with a recorded
    reason. A second extension is refused (``already_extended``) and writes nothing."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    limit = settings.EHDS_EXTENSION_MONTHS
    months = limit if months is None else months
    if not reason:
        raise InvalidInput(
            _("Give the reason for the extension."),
            errors={"reason": [_("Give the reason for the extension.")]},
        )
    if not 1 <= months <= limit:
        raise InvalidInput(
            _("An extension is of 1 to %(limit)d months.") % {"limit": limit},
            errors={"months": [_("An extension is of 1 to %(limit)d months.") % {"limit": limit}]},
        )
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="extend_clock")
        request = locked.request
        clock = StatutoryClock.objects.select_for_update().filter(request=request).first()
        if clock is None or clock.stopped_at is not None:
            raise InvalidTransition(
                _("This request has no running decision deadline."), code=Code.NO_CLOCK
            )
        if clock.extended_at is not None:
            raise InvalidTransition(
                _("The decision deadline was extended already; it can be extended only once."),
                code=Code.ALREADY_EXTENDED,
            )
        before = clock.due_at
        clock.due_at = add_months(clock.due_at, months)
        if clock.paused_at is not None:  # the extension adds to the time left
            clock.remaining = (clock.remaining or timedelta()) + (clock.due_at - before)
        clock.extended_at, clock.extended_by = now, actor
        clock.extension_reason = reason[:2000]
        clock.save(
            update_fields=[
                "due_at",
                "remaining",
                "extended_at",
                "extended_by",
                "extension_reason",
            ]
        )
        apply(
            locked,
            actor=actor,
            reason=clock.extension_reason,
            months=months,
            due_before=before.isoformat(),
            due_at=clock.due_at.isoformat(),
        )
    return request


def clock_follow(
    request: AccessRequest, *, before: str, after: str, now: datetime | None = None
) -> None:
    """Keep the clock with the request's state (``apply`` calls it on every transition): it
    stops while the applicant is asked for information (changes requested) and restarts with
    the time that was left when they answer (resubmit); a decision or an end stops it."""
    if before == after:
        return
    clock = StatutoryClock.objects.select_for_update().filter(request=request).first()
    if clock is None or clock.stopped_at is not None:
        return
    now = now or timezone.now()
    if after == RequestState.CHANGES_REQUESTED and clock.paused_at is None:
        clock.paused_at = now
        clock.remaining = max(clock.due_at - now, timedelta())
        clock.save(update_fields=["paused_at", "remaining"])
        _clock_audit("clock_paused", request, clock, remaining_days=clock.remaining.days)
    elif after == RequestState.SUBMITTED and clock.paused_at is not None:
        paused_for = now - clock.paused_at
        clock.due_at = now + (clock.remaining or timedelta())
        clock.paused_at, clock.remaining = None, None
        clock.save(update_fields=["due_at", "paused_at", "remaining"])
        _clock_audit("clock_resumed", request, clock, paused_days=paused_for.days)
    elif after in DECISIONS or after in ENDS:
        clock.stopped_at = now
        fields = ["stopped_at"]
        if after in DECISIONS:
            clock.decided_at = now
            fields.append("decided_at")
        clock.save(update_fields=fields)
        _clock_audit(
            "clock_stopped",
            request,
            clock,
            state=after,
            within_deadline=(clock.decided_at <= clock.due_at) if clock.decided_at else None,
        )


def staff_addresses(request: AccessRequest) -> list[str]:
    """The access body's staff, less anyone on the request's own side."""
    from accounts.models import User
    from requests_app.visibility import team_user_filter

    return list(
        User.objects.filter(is_staff=True, is_active=True, is_machine=False)
        .exclude(pk=request.requester_id)
        .exclude(team_user_filter(request))
        .values_list("email", flat=True)
    )


def _deciders(request: AccessRequest) -> list[str]:
    """Who holds the request now: the open stage's board, else the datasets' owners."""
    from requests_app.permissions import open_stage

    stage = open_stage(request)
    if stage is not None:
        return board_addresses(stage.board, request)
    return owner_addresses(request)


def clock_reminders_send(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Beat: before a running clock runs out, remind those deciding (``EHDS_CLOCK_REMIND_DAYS``
    before) and escalate to the access body's staff (``EHDS_CLOCK_ESCALATE_DAYS`` before).
    Once per deadline each (``reminded_for`` / ``escalated_for``, under the row lock), so a
    second run sends nothing; an extension moves the deadline and they come again."""
    now = now or timezone.now()
    remind = now + timedelta(days=settings.EHDS_CLOCK_REMIND_DAYS)
    escalate = now + timedelta(days=settings.EHDS_CLOCK_ESCALATE_DAYS)
    not_sent = lambda field: Q(**{f"{field}__isnull": True}) | ~Q(**{field: F("due_at")})  # noqa: E731
    candidates = list(
        StatutoryClock.objects.filter(
            stopped_at__isnull=True,
            paused_at__isnull=True,
            request__state__in=DECIDING,
        )
        .filter(
            (Q(due_at__lte=remind) & not_sent("reminded_for"))
            | (Q(due_at__lte=escalate) & not_sent("escalated_for"))
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    sent = 0
    for clock_id in candidates:
        with transaction.atomic():
            clock = (
                StatutoryClock.objects.select_for_update()
                .select_related("request")
                .filter(pk=clock_id, stopped_at__isnull=True, paused_at__isnull=True)
                .first()
            )
            if clock is None:
                continue
            request = clock.request
            days_left = (timezone.localdate(clock.due_at) - timezone.localdate(now)).days
            context = {"clock": clock, "days_left": days_left}
            # (the row's field, its threshold, the e-mail and audit action, who receives it)
            for field, threshold, action, addressees in (
                ("reminded_for", remind, "clock_reminder", _deciders),
                ("escalated_for", escalate, "clock_escalation", staff_addresses),
            ):
                if clock.due_at > threshold or getattr(clock, field) == clock.due_at:
                    continue
                recipients = addressees(request)
                setattr(clock, field, clock.due_at)
                clock.save(update_fields=[field])
                _clock_audit(
                    action, request, clock, days_left=days_left, recipients=len(recipients)
                )
                notify(template=action, request=request, recipients=recipients, context=context)
                sent += 1
    return sent
