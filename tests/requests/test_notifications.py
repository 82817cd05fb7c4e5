"""Who is told what: emails after commit, deadline reminders once, the 'waiting for me' list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from demo.ehds_world import complete_after_checks
from requests_app import services
from requests_app.models import ReviewStage
from requests_app.selectors import waiting_for
from requests_app.tasks import stage_reminders_task
from tests.requests.conftest import declare_none, fill_draft


def routed(review):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    services.request_submit(actor=review["requester"], request_id=request.pk)
    services.request_route(actor=None, request_id=request.pk)
    return request


@pytest.mark.django_db
def test_emails_are_sent_only_after_commit(review, django_capture_on_commit_callbacks):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    with django_capture_on_commit_callbacks() as callbacks:
        services.request_submit(actor=review["requester"], request_id=request.pk)
        assert mail.outbox == []
    assert len(callbacks) == 2  # the email and the checks: queued, not sent
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert [m.to for m in mail.outbox if "was submitted" in m.subject] == [
        ["requester@demo.lifes.test"]
    ]
    with django_capture_on_commit_callbacks(execute=True):
        complete_after_checks(request)  # the access body finds it complete: routed
    assert any(m.subject.startswith("Review requested") for m in mail.outbox)


@pytest.mark.django_db
def test_deadline_reminders_go_to_members_who_have_not_voted_once(
    review, django_capture_on_commit_callbacks
):
    request = routed(review)
    declare_none(request, review["member1"])
    services.vote_cast(actor=review["member1"], request_id=request.pk, choice="approve")
    stage = ReviewStage.objects.get(request=request, state="open")
    stage.deadline = timezone.now() + dt.timedelta(days=1)
    stage.save(update_fields=["deadline"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert stage_reminders_task() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert stage_reminders_task() == 0

    reminded = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Reminder"))
    assert reminded == ["chair@demo.lifes.test", "member2@demo.lifes.test"]
    assert AuditEvent.objects.filter(action="request.reminder").count() == 1


@pytest.mark.django_db
def test_reminders_wait_until_the_deadline_is_near(review):
    routed(review)
    assert stage_reminders_task() == 0


@pytest.mark.django_db
def test_waiting_for_me_follows_the_review(review):
    request = routed(review)
    why = lambda user: [(i.request.reference, i.why) for i in waiting_for(user)]  # noqa: E731
    assert why(review["member1"]) == [(request.reference, "declare")]
    services.conflict_declare(actor=review["member1"], request_id=request.pk, has_conflict=False)
    assert why(review["member1"]) == [(request.reference, "vote")]
    services.vote_cast(actor=review["member1"], request_id=request.pk, choice="approve")
    assert why(review["member1"]) == []
    services.conflict_declare(actor=review["chair"], request_id=request.pk, has_conflict=False)
    services.vote_cast(actor=review["chair"], request_id=request.pk, choice="approve")
    assert why(review["chair"]) == [(request.reference, "close_round")]
    services.round_close(actor=review["chair"], request_id=request.pk)
    assert why(review["owner"]) == [(request.reference, "decide")]
    assert why(review["industry"]) == []


@pytest.mark.django_db
def test_waiting_for_me_asks_nothing_of_the_recused(review):
    # the requester also sits on the board that reviews their request: recused automatically
    services.board_member_add(
        actor=review["admin"], board=review["ethics"], user=review["requester"]
    )
    request = routed(review)
    why = lambda user: [(i.request.reference, i.why) for i in waiting_for(user)]  # noqa: E731
    services.conflict_declare(
        actor=review["member1"], request_id=request.pk, has_conflict=True, statement="Co-author."
    )
    assert why(review["member1"]) == []
    assert why(review["member2"]) == [(request.reference, "declare")]
    assert why(review["requester"]) == []


@pytest.mark.django_db
def test_reminders_skip_the_recused(review, django_capture_on_commit_callbacks):
    services.board_member_add(
        actor=review["admin"], board=review["ethics"], user=review["requester"]
    )
    request = routed(review)
    services.conflict_declare(
        actor=review["member2"], request_id=request.pk, has_conflict=True, statement="Co-author."
    )
    stage = ReviewStage.objects.get(request=request, state="open")
    stage.deadline = timezone.now() + dt.timedelta(days=1)
    stage.save(update_fields=["deadline"])
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert stage_reminders_task() == 1

    reminded = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Reminder"))
    # not member2 (declared a conflict), not the requester (recused from their own request)
    assert reminded == ["chair@demo.lifes.test", "member1@demo.lifes.test"]
