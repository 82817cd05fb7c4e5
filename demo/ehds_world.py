"""The EHDS completeness check and statutory clocks in the demo (README, "The EHDS lifecycle").

``complete_after_checks`` is how the demo (and the test factories) take a submitted request
past the completeness check, as the access body's staff would. ``seed_ehds`` shows each clock
state: an incomplete application (missing items, completion window), running clocks with
days left (every request in review), a stopped clock (the request sent back for changes) and
an extended one.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from requests_app import services
from requests_app.models import AccessRequest, RequestState, StatutoryClock

INCOMPLETE_TITLE = "Medication adherence in heart failure"
MISSING_ITEMS = [
    "The ethics approval letter covers another study: upload the letter for this one.",
    "The data management plan named in the DPIA summary is not attached.",
]
EXTENDED_TITLE = "Sex differences in glycaemic control"
EXTENSION_REASON = "Two data holders must be consulted on the linkage of their records."


def access_body_staff(*, besides: AccessRequest | None = None) -> User:
    """A person of the access body's staff (``is_staff``) to check completeness: not on the
    request's own side. The demo's admin; in tests without one, a staff member made here."""
    people = User.objects.filter(is_staff=True, is_active=True, is_machine=False).order_by("pk")
    if besides is not None:
        people = people.exclude(pk=besides.requester_id).exclude(
            email__in=besides.team.values("email")
        )
    staff = people.first()
    if staff is None:
        from accounts.services import user_create

        staff = user_create(
            actor=None,
            email="access-body@staff.lifes.test",
            full_name="Access Body Staff",
            password=None,
            is_staff=True,
        )
    return staff


def complete_after_checks(request: AccessRequest) -> AccessRequest:
    """Run the automated checks if no worker ran them yet, then, for a first submission, have
    the access body's staff accept the application as complete (the clock starts)."""
    request.refresh_from_db()
    if (
        request.state == RequestState.SUBMITTED
        and not request.checks.filter(round=request.round).exists()
    ):
        services.checks_run(request_id=request.pk)
        request.refresh_from_db()
    if request.state == RequestState.SUBMITTED:
        services.completeness_accept(
            actor=access_body_staff(besides=request), request_id=request.pk
        )
        request.refresh_from_db()
    return request


def seed_ehds(report: Any, users: dict[str, User]) -> None:
    from demo.requests_world import _fill

    staff = users["admin@demo.lifes.test"]
    requester = users["requester@demo.lifes.test"]
    if not AccessRequest.objects.filter(title=INCOMPLETE_TITLE, requester=requester).exists():
        request = _fill(
            INCOMPLETE_TITLE,
            requester,
            ["lumc-cardiovascular-biobank"],
            {"purpose_code": "DUO:0000006"},
            complete=True,
        )
        services.request_submit(actor=requester, request_id=request.pk)
        request.refresh_from_db()
        if not request.checks.filter(round=request.round).exists():
            services.checks_run(request_id=request.pk)
        services.completeness_return(
            actor=staff, request_id=request.pk, missing_items=MISSING_ITEMS
        )
        report.created.append(f"request {request.reference} (incomplete)")
    extended = (
        StatutoryClock.objects.filter(
            request__title=EXTENDED_TITLE,
            request__state=RequestState.IN_REVIEW,
            extended_at__isnull=True,
        )
        .select_related("request")
        .first()
    )
    if extended is not None:
        services.clock_extend(
            actor=staff, request_id=extended.request_id, reason=EXTENSION_REASON, months=2
        )
        report.created.append(f"request {extended.request.reference} (clock extended)")
