"""The EHDS completeness check and statutory clock (Reg. (EU) 2025/327 Art. 68): every rule.

Time is frozen by passing ``now=`` into the services (no time-machine in this venv): the
clock's stored facts are then exact, and so are the assertions on them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts.models import Organisation
from accounts.services import membership_add, user_create
from audit.models import AuditEvent
from lifes.errors import DomainError
from reports.metrics import decision_deadlines
from requests_app import services
from requests_app.clock import add_months, clock_data
from requests_app.models import (
    AccessRequest,
    CompletenessCheck,
    RequestState,
    StatutoryClock,
)
from requests_app.selectors import waiting_for
from tests.requests.conftest import declare_none, fill_draft

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def staff(review):
    """A named person of the access body's staff (``is_staff``), nobody's requester."""
    person = user_create(
        actor=None,
        email="hdab.staff@demo.lifes.test",
        full_name="Hana Staff",
        password="a-long-test-password",
        is_staff=True,
    )
    hdab = Organisation.objects.get(name="Dutch Health Data Authority")
    membership_add(actor=None, user=person, organisation=hdab, role="member")
    return person


def submitted(review, *, checks: bool = True) -> AccessRequest:
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    services.request_submit(actor=review["requester"], request_id=request.pk)
    if checks:
        services.checks_run(request_id=request.pk)
    request.refresh_from_db()
    return request


def footprint(request: AccessRequest) -> tuple:
    request.refresh_from_db()
    clock = StatutoryClock.objects.filter(request=request).values().first()
    return (
        request.state,
        clock,
        CompletenessCheck.objects.filter(request=request).count(),
        AuditEvent.objects.count(),
    )


def refused(call, code: str | None = None) -> DomainError:
    with pytest.raises(DomainError) as error:
        call()
    if code is not None:
        assert error.value.code == code
    return error.value


def approve_board(request: AccessRequest, review) -> None:
    declare_none(request, review["member1"], review["member2"])
    for member in (review["member1"], review["member2"]):
        services.vote_cast(actor=member, request_id=request.pk, choice="approve")
    services.round_close(actor=review["chair"], request_id=request.pk)


# --- completeness before substance -------------------------------------------------------


@pytest.mark.django_db
def test_the_checks_leave_a_first_submission_waiting_for_the_completeness_check(review, staff):
    request = submitted(review)

    assert request.state == RequestState.SUBMITTED
    assert not StatutoryClock.objects.filter(request=request).exists()
    assert [w.why for w in waiting_for(staff) if w.request.pk == request.pk] == ["completeness"]
    assert [w.why for w in waiting_for(review["requester"]) if w.request.pk == request.pk] == []


@pytest.mark.django_db
def test_accepting_as_complete_starts_the_clock_and_routes_to_the_boards(review, staff):
    request = submitted(review)

    services.completeness_accept(actor=staff, request_id=request.pk, now=T0)

    request.refresh_from_db()
    clock = StatutoryClock.objects.get(request=request)
    assert request.state == RequestState.IN_REVIEW
    assert request.stages.filter(state="open").count() == 1
    assert (clock.started_at, clock.due_at, clock.track) == (T0, add_months(T0, 3), "standard")
    # three calendar months later, at the same time of day where the hub is (CET → CEST)
    local = timezone.localtime(clock.due_at)
    assert (local.date(), local.hour) == (dt.date(2026, 6, 2), 10)
    check = CompletenessCheck.objects.get(request=request)
    assert (check.outcome, check.checked_by, check.round) == ("complete", staff, 1)
    event = AuditEvent.objects.filter(action="request.accept_complete").get()
    assert event.payload["clock"] == {
        "started_at": T0.isoformat(),
        "due_at": add_months(T0, 3).isoformat(),
    }
    assert (event.payload["from"], event.payload["to"]) == ("submitted", "in_review")


@pytest.mark.django_db
def test_completeness_is_checked_after_the_automated_checks_only(review, staff):
    request = submitted(review, checks=False)
    before = footprint(request)

    refused(
        lambda: services.completeness_accept(actor=staff, request_id=request.pk),
        "checks_pending",
    )

    assert footprint(request) == before


@pytest.mark.django_db
def test_only_the_access_body_staff_check_completeness_and_never_their_own(review, staff):
    request = submitted(review)
    before = footprint(request)

    refused(lambda: services.completeness_accept(actor=review["chair"], request_id=request.pk))
    refused(
        lambda: services.completeness_return(
            actor=review["owner"], request_id=request.pk, missing_items=["x"]
        )
    )
    refused(
        lambda: services.completeness_accept(actor=review["requester"], request_id=request.pk),
        "own_request",
    )
    assert footprint(request) == before

    # A member of staff who asks for data themselves does not check their own application.
    own = fill_draft(staff, ["leiden-diabetes-cohort"], title="Staff's own study")
    services.request_submit(actor=staff, request_id=own.pk)
    services.checks_run(request_id=own.pk)
    own_before = footprint(own)
    refused(lambda: services.completeness_accept(actor=staff, request_id=own.pk), "own_request")
    assert footprint(own) == own_before


@pytest.mark.django_db
def test_an_incomplete_application_is_returned_with_its_missing_items_and_window(
    review, staff, client, django_capture_on_commit_callbacks
):
    request = submitted(review)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.completeness_return(
            actor=staff,
            request_id=request.pk,
            missing_items="The DPIA is not attached.\n\nThe ethics letter has expired.",
            now=T0,
        )

    request.refresh_from_db()
    check = CompletenessCheck.objects.get(request=request)
    assert request.state == RequestState.INCOMPLETE
    assert check.missing_items == ["The DPIA is not attached.", "The ethics letter has expired."]
    assert check.complete_by == T0 + dt.timedelta(days=28)
    assert not StatutoryClock.objects.filter(request=request).exists()  # no clock yet
    assert [m.to for m in mail.outbox] == [["requester@demo.lifes.test"]]
    assert "The DPIA is not attached." in mail.outbox[0].body
    # The applicant sees what is missing, on the page and in the API, and is told to act.
    client.force_login(review["requester"])
    page = client.get(f"/requests/{request.reference}/").content.decode()
    assert "The ethics letter has expired." in page
    api = client.get(f"/api/v1/requests/{request.reference}").json()
    assert api["completeness"]["missing_items"] == check.missing_items
    assert api["completeness"]["outcome"] == "incomplete"
    assert api["clock"] is None
    assert [w.why for w in waiting_for(review["requester"])] == ["incomplete"]


@pytest.mark.django_db
def test_returning_as_incomplete_names_what_is_missing(review, staff):
    request = submitted(review)
    before = footprint(request)

    refused(
        lambda: services.completeness_return(
            actor=staff, request_id=request.pk, missing_items="  \n "
        )
    )

    assert footprint(request) == before


@pytest.mark.django_db
def test_a_completed_application_is_checked_again_and_can_then_start_its_clock(review, staff):
    request = submitted(review)
    services.completeness_return(actor=staff, request_id=request.pk, missing_items=["DPIA"])

    services.request_update(
        actor=review["requester"], request_id=request.pk, changes={"dpia_done": True}
    )
    services.request_resubmit(actor=review["requester"], request_id=request.pk)
    services.checks_run(request_id=request.pk)
    request.refresh_from_db()
    assert (request.state, request.round) == (RequestState.SUBMITTED, 2)  # a person checks again

    services.completeness_accept(actor=staff, request_id=request.pk, now=T0)
    request.refresh_from_db()
    assert request.state == RequestState.IN_REVIEW
    assert list(request.completeness_checks.order_by("round").values_list("round", "outcome")) == [
        (1, "incomplete"),
        (2, "complete"),
    ]


@pytest.mark.django_db
def test_an_incomplete_application_lapses_after_its_window_once(
    review, staff, django_capture_on_commit_callbacks
):
    waiting = submitted(review)
    completed = submitted(review)
    for request in (waiting, completed):
        services.completeness_return(
            actor=staff, request_id=request.pk, missing_items=["DPIA"], now=T0
        )
    services.request_resubmit(actor=review["requester"], request_id=completed.pk)
    window_end = T0 + dt.timedelta(days=28)

    assert services.incomplete_lapse_sweep(now=window_end - dt.timedelta(seconds=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        lapsed = services.incomplete_lapse_sweep(now=window_end)
    again = services.incomplete_lapse_sweep(now=window_end + dt.timedelta(days=1))

    waiting.refresh_from_db()
    completed.refresh_from_db()
    assert lapsed == [waiting.reference]
    assert again == []  # idempotent
    assert (waiting.state, completed.state) == (RequestState.LAPSED, RequestState.SUBMITTED)
    assert AuditEvent.objects.filter(action="request.lapse", object_id=str(waiting.pk)).count() == 1
    assert waiting.decided_at == window_end


@pytest.mark.django_db
def test_a_lapse_before_the_window_ends_is_refused(review, staff):
    request = submitted(review)
    services.completeness_return(actor=staff, request_id=request.pk, missing_items=["x"], now=T0)
    before = footprint(request)

    refused(
        lambda: services.request_lapse(
            actor=None, request_id=request.pk, now=T0 + dt.timedelta(days=27)
        ),
        "window_open",
    )
    refused(lambda: services.request_lapse(actor=review["requester"], request_id=request.pk))

    assert footprint(request) == before


@pytest.mark.django_db
@override_settings(EHDS_COMPLETION_WINDOW_DAYS=7)
def test_the_completion_window_is_a_setting(review, staff):
    request = submitted(review)

    services.completeness_return(actor=staff, request_id=request.pk, missing_items=["x"], now=T0)

    assert CompletenessCheck.objects.get(request=request).complete_by == T0 + dt.timedelta(days=7)


# --- the statutory clock -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_clock_stops_while_the_applicant_is_asked_and_restarts_with_the_time_left(
    review, staff
):
    request = submitted(review)
    started = timezone.now() - dt.timedelta(days=10)
    services.completeness_accept(actor=staff, request_id=request.pk, now=started)
    declare_none(request, review["member1"], review["member2"])
    for member in (review["member1"], review["member2"]):
        services.vote_cast(
            actor=member, request_id=request.pk, choice="request_changes", comment="The DPIA?"
        )

    # when: the board asks the applicant for information
    asked = timezone.now()
    services.round_close(actor=review["chair"], request_id=request.pk)

    clock = StatutoryClock.objects.get(request=request)
    due = add_months(started, 3)
    assert clock.paused_at is not None
    assert asked <= clock.paused_at <= timezone.now()
    assert clock.remaining == due - clock.paused_at
    shown = clock_data(clock, now=clock.paused_at + dt.timedelta(days=40))
    assert (shown["paused"], shown["days_left"]) == (True, clock.remaining.days)  # frozen
    assert (decision_deadlines()["paused"], decision_deadlines()["running"]) == (1, 0)
    # 30 days of waiting pass (moved back in time: the stored facts are what counts)
    paused_at = clock.paused_at - dt.timedelta(days=30)
    StatutoryClock.objects.filter(pk=clock.pk).update(paused_at=paused_at)

    # when: the applicant answers
    before = timezone.now()
    services.request_resubmit(actor=review["requester"], request_id=request.pk)
    after = timezone.now()

    clock.refresh_from_db()
    assert (clock.paused_at, clock.remaining) == (None, None)
    remaining = due - (paused_at + dt.timedelta(days=30))
    assert before + remaining <= clock.due_at <= after + remaining
    assert clock_data(clock)["paused"] is False
    actions = list(
        AuditEvent.objects.filter(object_id=str(request.pk), action__startswith="request.clock_")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["request.clock_paused", "request.clock_resumed"]
    # the answer goes straight back to the boards: the application was complete already
    services.checks_run(request_id=request.pk)
    request.refresh_from_db()
    assert request.state == RequestState.IN_REVIEW


@pytest.mark.django_db
def test_the_deadline_is_extended_once_with_a_reason_and_a_second_time_refused(
    review, staff, client
):
    request = submitted(review)
    services.completeness_accept(actor=staff, request_id=request.pk, now=T0)

    services.clock_extend(
        actor=staff, request_id=request.pk, reason="Complex linkage.", now=T0 + dt.timedelta(1)
    )

    clock = StatutoryClock.objects.get(request=request)
    assert clock.due_at == add_months(T0, 6)  # 3 + 3 months
    assert timezone.localdate(clock.due_at) == dt.date(2026, 9, 2)
    assert (clock.extension_reason, clock.extended_by) == ("Complex linkage.", staff)
    event = AuditEvent.objects.get(action="request.extend_clock")
    assert event.payload["reason"] == "Complex linkage."
    assert event.payload["months"] == 3
    before = footprint(request)

    error = refused(
        lambda: services.clock_extend(actor=staff, request_id=request.pk, reason="Again."),
        "already_extended",
    )

    assert footprint(request) == before  # nothing written
    client.force_login(staff)
    response = client.post(
        f"/api/v1/requests/{request.reference}/extend-clock",
        {"reason": "Again."},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "already_extended")
    assert error.status_code == 409
    assert footprint(request) == before


@pytest.mark.django_db
def test_an_extension_needs_a_reason_staff_and_at_most_the_set_months(review, staff):
    request = submitted(review)
    services.completeness_accept(actor=staff, request_id=request.pk, now=T0)
    before = footprint(request)

    refused(lambda: services.clock_extend(actor=staff, request_id=request.pk, reason=" "))
    refused(lambda: services.clock_extend(actor=staff, request_id=request.pk, reason="x", months=4))
    refused(lambda: services.clock_extend(actor=review["chair"], request_id=request.pk, reason="x"))
    refused(
        lambda: services.clock_extend(actor=review["requester"], request_id=request.pk, reason="x"),
        "own_request",
    )

    assert footprint(request) == before


@pytest.mark.django_db
@override_settings(EHDS_SHORT_TRACK_ORGANISATION_KINDS=["academic"], EHDS_SHORT_TRACK_MONTHS=2)
def test_a_setting_puts_an_organisation_kind_on_the_short_track(review, staff):
    request = submitted(review)  # the requester's organisation is a university (academic)

    services.completeness_accept(actor=staff, request_id=request.pk, now=T0)

    clock = StatutoryClock.objects.get(request=request)
    assert (clock.track, clock.due_at) == ("short", add_months(T0, 2))


@pytest.mark.django_db
def test_a_decision_stops_the_clock_and_the_metric_counts_it_within_or_past(review, staff):
    on_time, late = submitted(review), submitted(review)
    services.completeness_accept(actor=staff, request_id=on_time.pk)
    services.completeness_accept(
        actor=staff, request_id=late.pk, now=timezone.now() - dt.timedelta(days=200)
    )
    running = submitted(review)
    services.completeness_accept(actor=staff, request_id=running.pk)
    assert decision_deadlines() == {
        "within": 0,
        "past": 0,
        "running": 3,
        "paused": 0,
        "overdue": 1,
    }

    for request in (on_time, late):
        approve_board(request, review)
        services.dataset_decide(
            actor=review["owner"],
            request_id=request.pk,
            dataset_slug="leiden-diabetes-cohort",
            decision="granted",
        )

    on_time_clock = StatutoryClock.objects.get(request=on_time)
    assert on_time_clock.decided_at is not None
    assert on_time_clock.stopped_at == on_time_clock.decided_at
    assert clock_data(on_time_clock)["days_left"] is None
    assert decision_deadlines() == {
        "within": 1,
        "past": 1,
        "running": 1,
        "paused": 0,
        "overdue": 0,
    }
    assert AuditEvent.objects.filter(action="request.clock_stopped").count() == 2


@pytest.mark.django_db
def test_the_metrics_page_shows_decisions_within_and_past_the_deadline(review, staff, client):
    request = submitted(review)
    services.completeness_accept(actor=staff, request_id=request.pk)
    StatutoryClock.objects.filter(request=request).update(
        decided_at=timezone.now(), stopped_at=timezone.now()
    )
    client.force_login(review["auditor"])

    page = client.get("/reports/metrics/").content.decode()

    assert '<td data-metric="within">1</td>' in page
    assert '<td data-metric="past">0</td>' in page


@pytest.mark.django_db
def test_reminders_then_escalation_before_the_deadline_each_once(
    review, staff, django_capture_on_commit_callbacks
):
    request = submitted(review)
    services.completeness_accept(actor=staff, request_id=request.pk, now=T0)
    due = add_months(T0, 3)
    mail.outbox.clear()

    def run(now):
        with django_capture_on_commit_callbacks(execute=True):
            return services.clock_reminders_send(now=now)

    assert run(due - dt.timedelta(days=15)) == 0
    assert run(due - dt.timedelta(days=14)) == 1  # the reminder, to the reviewing board
    reminded = sorted(a for m in mail.outbox for a in m.to)
    assert run(due - dt.timedelta(days=13)) == 0  # once
    assert run(due - dt.timedelta(days=5)) == 1  # the escalation, to the access body's staff
    assert run(due - dt.timedelta(days=4)) == 0  # once

    assert reminded == [
        "chair@demo.lifes.test",
        "member1@demo.lifes.test",
        "member2@demo.lifes.test",
    ]
    escalated = [m for m in mail.outbox if "Escalation" in m.subject]
    assert sorted(a for m in escalated for a in m.to) == sorted(
        ["admin@demo.lifes.test", "hdab.staff@demo.lifes.test"]
    )
    assert "5 days left" in escalated[0].body
    events = AuditEvent.objects.filter(
        action__in=["request.clock_reminder", "request.clock_escalation"]
    )
    assert [(e.action, e.payload["days_left"]) for e in events.order_by("seq")] == [
        ("request.clock_reminder", 14),
        ("request.clock_escalation", 5),
    ]


@pytest.mark.django_db
def test_a_stopped_clock_is_not_reminded_and_an_extension_reminds_again(review, staff):
    request = submitted(review)
    services.completeness_accept(actor=staff, request_id=request.pk, now=T0)
    due = add_months(T0, 3)
    assert services.clock_reminders_send(now=due - dt.timedelta(days=10)) == 1

    services.clock_extend(actor=staff, request_id=request.pk, reason="Complex.", months=1)

    new_due = StatutoryClock.objects.get(request=request).due_at
    assert services.clock_reminders_send(now=due - dt.timedelta(days=10)) == 0
    assert services.clock_reminders_send(now=new_due - dt.timedelta(days=10)) == 1
    StatutoryClock.objects.filter(request=request).update(paused_at=timezone.now())
    assert services.clock_reminders_send(now=new_due - dt.timedelta(days=1)) == 0  # paused


@pytest.mark.django_db
def test_the_api_the_page_and_the_dashboard_show_the_clock(review, staff, client):
    request = submitted(review)
    started = timezone.now() - dt.timedelta(days=1)
    services.completeness_accept(actor=staff, request_id=request.pk, now=started)
    clock = StatutoryClock.objects.get(request=request)
    client.force_login(review["requester"])

    shown = client.get(f"/api/v1/requests/{request.reference}").json()["clock"]
    page = client.get(f"/requests/{request.reference}/").content.decode()
    dashboard = client.get("/requests/").content.decode()

    days = (timezone.localdate(clock.due_at) - timezone.localdate()).days
    assert {k: shown[k] for k in ("paused", "days_left", "extended")} == {
        "paused": False,
        "days_left": days,
        "extended": False,
    }
    assert set(shown) >= {"started_at", "due_at", "paused", "days_left", "extended"}
    assert dt.datetime.fromisoformat(shown["due_at"]) == clock.due_at
    assert dt.datetime.fromisoformat(shown["started_at"]) == started
    assert f"{days} days left" in page
    assert f'data-clock-days-left="{days}"' in dashboard


@pytest.mark.django_db
def test_the_completeness_and_extension_commands_work_from_the_page(review, staff, client):
    request = submitted(review)
    client.force_login(staff)

    client.post(
        f"/requests/{request.reference}/act/return_incomplete/",
        {"missing_items": "The DPIA.\nThe protocol."},
    )

    check = CompletenessCheck.objects.get(request=request)
    assert check.missing_items == ["The DPIA.", "The protocol."]


@pytest.mark.django_db
def test_the_demo_shows_an_incomplete_application_and_running_stopped_extended_clocks(
    monkeypatch, tmp_path
):
    from demo import ehds_world, permits_world
    from demo.world import seed_demo

    monkeypatch.setattr(permits_world, "NODE_KEY_PATH", tmp_path / "node.key")

    seed_demo()
    seed_demo()  # idempotent: one incomplete application, one extension

    incomplete = AccessRequest.objects.get(title=ehds_world.INCOMPLETE_TITLE)
    assert incomplete.state == RequestState.INCOMPLETE
    assert incomplete.completeness_checks.get().missing_items == ehds_world.MISSING_ITEMS
    shown = {
        clock.request.title: clock_data(clock)
        for clock in StatutoryClock.objects.select_related("request")
    }
    running = shown["Cardiovascular outcomes after statin therapy"]
    assert (running["paused"], running["extended"]) == (False, False)
    assert running["days_left"] > 0
    stopped = shown["Healthy ageing and lifestyle"]
    assert (stopped["paused"], stopped["days_left"] > 0) == (True, True)
    assert shown[ehds_world.EXTENDED_TITLE]["extended"] is True
    assert AuditEvent.objects.filter(action="request.extend_clock").count() == 1
    assert AuditEvent.objects.filter(action="request.return_incomplete").count() == 1
