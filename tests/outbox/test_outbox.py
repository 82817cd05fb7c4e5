"""The transactional outbox: rows commit with the change, are delivered after commit, and are
delivered again until acknowledged; a delivery is idempotent by the row's id."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

import outbox
from outbox.models import OutboxMessage
from outbox.registry import effect, replaced
from outbox.services import outbox_deliver, outbox_sweep

CALLS: list[dict] = []


@effect("tests.record")
def _record(**payload) -> None:
    CALLS.append(payload)


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def _fail_first(**payload) -> None:
    if not CALLS:
        CALLS.append({"failed": payload})
        raise ConnectionError("broker blinked")
    CALLS.append(payload)


@pytest.mark.django_db(transaction=True)
def test_an_effect_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox.add("tests.record", n=1)
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_effect(django_capture_on_commit_callbacks):
    def change_then_refuse() -> None:
        with transaction.atomic():
            outbox.add("tests.record", n=1)
            raise ValueError("refused")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValueError, match="refused"):
            change_then_refuse()

    assert OutboxMessage.objects.count() == 0
    assert callbacks == []
    assert CALLS == []


@pytest.mark.django_db
def test_after_commit_the_effect_runs_once_and_is_acknowledged(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message_id = outbox.add("tests.record", key="thing:1", n=1)

    message = OutboxMessage.objects.get(pk=message_id)
    assert CALLS == [{"n": 1}]
    assert message.is_acknowledged
    assert (message.effect, message.key, message.payload, message.attempts) == (
        "tests.record",
        "thing:1",
        {"n": 1},
        1,
    )
    # a duplicate delivery of the same row (the broker re-sent it) does nothing
    assert outbox_deliver(message_id=message_id) == "skipped"
    assert CALLS == [{"n": 1}]


@pytest.mark.django_db
def test_a_failed_delivery_stays_due_and_the_sweep_delivers_it(django_capture_on_commit_callbacks):
    with replaced("tests.record", _fail_first):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            message_id = outbox.add("tests.record", n=2)

        message = OutboxMessage.objects.get(pk=message_id)
        assert not message.is_acknowledged
        assert message.last_error == "ConnectionError: broker blinked"
        assert message.available_at <= timezone.now()
        assert message.claimed_until is None

        assert outbox_sweep() == 1

    message.refresh_from_db()
    assert message.is_acknowledged
    assert (message.attempts, message.last_error) == (2, "")
    assert CALLS == [{"failed": {"n": 2}}, {"n": 2}]
    assert outbox_sweep() == 0  # nothing left to do


@pytest.mark.django_db
def test_a_claimed_row_is_not_run_beside_its_running_delivery():
    with transaction.atomic():
        message_id = outbox.add("tests.record", n=3)
    OutboxMessage.objects.filter(pk=message_id).update(
        claimed_until=timezone.now() + timezone.timedelta(minutes=5), available_at=timezone.now()
    )

    assert outbox_deliver(message_id=message_id) == "skipped"
    assert outbox_sweep() == 0
    assert CALLS == []


@pytest.mark.django_db
def test_a_payload_that_is_not_json_is_refused_in_the_service():
    with pytest.raises(TypeError), transaction.atomic():
        outbox.add("tests.record", thing=object())
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_emails_are_outbox_rows_sent_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox.add("mail.send", subject="Hello", body="Body", recipients=["a@example.org"])

    assert [(m.subject, m.to) for m in mail.outbox] == [("Hello", ["a@example.org"])]
    assert OutboxMessage.objects.get().is_acknowledged


def _always_fails(**payload) -> None:
    raise ValueError("a bug in this effect")


@pytest.mark.django_db
def test_in_eager_mode_one_failing_effect_does_not_hold_up_the_others(
    django_capture_on_commit_callbacks,
):
    with replaced("tests.record", _always_fails):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            broken = outbox.add("tests.record", n=1)
            working = outbox.add("mail.send", subject="S", body="B", recipients=["a@example.org"])
        OutboxMessage.objects.filter(pk=working).update(
            acknowledged_at=None, available_at=timezone.now()
        )
        mail.outbox.clear()

        assert outbox_sweep() == 1

    assert OutboxMessage.objects.get(pk=broken).last_error == "ValueError: a bug in this effect"
    assert not OutboxMessage.objects.get(pk=broken).is_acknowledged
    assert OutboxMessage.objects.get(pk=working).is_acknowledged
    assert len(mail.outbox) == 1
