"""Time in each state comes from facts the workflow keeps (state spans), not from re-reading the
audit log on a page view; the figures on the metrics page still equal those computed from the
log directly, after every kind of transition and after later, incremental moves."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from reports import metrics
from reports.models import MetricsSnapshot
from reports.services import metrics_refresh
from requests_app import services
from requests_app.models import StateSpan, StateStay
from requests_app.spans import log_events, replay
from requests_app.workflow import TRANSITIONS
from tests.requests.test_transition_matrix import build, people  # noqa: F401 - the fixture


def page_figures(client, auditor) -> list[metrics.Spread]:
    client.force_login(auditor)
    response = client.get("/reports/metrics/")
    assert response.status_code == 200
    return list(response.context["spreads"])


def spans() -> set[tuple]:
    return set(StateSpan.objects.values_list("request_id", "state", "entered_at", "left_at"))


@pytest.mark.django_db
def test_the_metrics_page_equals_the_log_after_every_transition_and_incremental_updates(
    people,  # noqa: F811
    client,
):
    # given a history with every kind of state change the table has
    closed = build("closed", people)
    build("withdrawn", people)
    build("rejected", people)
    changes = build("changes_requested", people)
    permitted = build("permitted", people)
    requester = people["requester"]
    build("lapsed", people)  # returned as incomplete, then lapsed
    appealed = build("appealed", people)
    services.appeal_decide(
        actor=people["staff"], request_id=appealed.pk, outcome="dismissed", reasons="It stands."
    )
    services.request_resubmit(actor=requester, request_id=changes.pk)
    services.checks_run(request_id=changes.pk)  # the answer goes back to the boards (route)
    services.request_amend(
        actor=requester,
        request_id=permitted.pk,
        kind="renewal",
        changes="Six more months.",
        reason="a new analysis",
        new_period_end=dt.date(2099, 12, 31),
    )
    moved = set(
        AuditEvent.objects.filter(object_type="requests_app.accessrequest")
        .exclude(payload__to="")
        .values_list("action", flat=True)
    )
    changing = {t.audit_action for t in TRANSITIONS if t.targets}
    assert changing <= moved | {"request.create"}, changing - moved

    # when the beat refreshes the figures
    metrics_refresh()
    first = page_figures(client, people["auditor"])

    # then they equal the figures computed from the log, for every state that was left
    assert first == metrics.time_in_states_from_log()
    assert {s.state for s in first} >= {
        "draft",
        "submitted",
        "in_review",
        "changes_requested",
        "approved",
        "permitted",
    }
    assert sum(s.count for s in first) == StateSpan.objects.count()
    snapshot = MetricsSnapshot.objects.get()
    assert snapshot.through_event == AuditEvent.objects.order_by("-id").first().id

    # when the workflow moves on (incremental: only the new moves add spans)
    before = spans()
    services.request_withdraw(actor=requester, request_id=changes.pk, reason="no longer needed")
    build("permitted", people)
    assert before < spans()
    stale = page_figures(client, people["auditor"])
    assert stale == first  # the page reads the snapshot; it says how old it is
    metrics_refresh()

    # then the page equals the log again, and so do the spans replayed from the log
    second = page_figures(client, people["auditor"])
    assert second == metrics.time_in_states_from_log()
    assert second != first
    live_spans = spans()
    live_stays = set(StateStay.objects.values_list("request_id", "state", "entered_at"))
    replay(log_events())  # what the migration does for a hub that had no spans
    assert spans() == live_spans
    assert set(StateStay.objects.values_list("request_id", "state", "entered_at")) == live_stays
    assert StateStay.objects.get(request=closed).state == "closed"


@pytest.mark.django_db
def test_the_metrics_page_says_how_fresh_its_figures_are(people, client):  # noqa: F811
    build("approved", people)
    client.force_login(people["auditor"])
    html = client.get("/reports/metrics/").content.decode()
    snapshot = MetricsSnapshot.objects.get()
    assert "Figures as of" in html
    assert snapshot.computed_at is not None


@pytest.mark.django_db
def test_a_refresh_with_no_new_event_only_marks_the_figures_checked(people):  # noqa: F811
    build("approved", people)
    first = metrics_refresh()
    second = metrics_refresh()
    assert second.computed_at == first.computed_at
    assert second.checked_at >= first.checked_at
    assert second.figures == first.figures


@pytest.mark.django_db
def test_a_period_report_counts_the_stays_inside_the_period(people):  # noqa: F811
    build("closed", people)
    events = AuditEvent.objects.order_by("seq")
    since = events.filter(action="request.accept_complete").first().occurred_at
    assert metrics.time_in_states(since=since) == metrics.time_in_states_from_log(since=since)
    assert metrics.time_in_states(since=since) != metrics.time_in_states()
