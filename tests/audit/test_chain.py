"""The audit chain: appends link, verification recomputes, and every kind of tampering is named.

Tampering plays an attacker with direct database access. On PostgreSQL the append-only triggers
would refuse it outright (tests/audit/test_triggers.py), so it runs inside ``audit_maintenance()``,
the one switch that lets changes through; on SQLite that switch does nothing. Either way the
point here is what verification finds afterwards.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction

from audit.maintenance import audit_maintenance as tamper
from audit.models import AuditEvent, ChainHead
from audit.services import audit_record, chain_verify


def append(n: int, *, action: str = "test.event") -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(audit_record(actor=None, action=action, payload={"i": i, "ü": "ä"}))
    return events


@pytest.mark.django_db
def test_appended_events_form_a_linear_chain_that_verifies():
    events = append(5)

    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    report = chain_verify()
    assert report.is_intact
    assert report.count == 5
    assert report.head_hash == events[-1].hash
    assert ChainHead.objects.get(pk=1).seq == 5


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=None, action="test.event")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_event_rolled_back_with_its_change_leaves_no_trace():
    append(2)

    def failing_change() -> None:
        with transaction.atomic():
            audit_record(actor=None, action="test.event")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        failing_change()
    append(1)

    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2, 3]
    assert chain_verify().is_intact


@pytest.mark.django_db
def test_a_lost_head_row_is_rebuilt_from_the_last_event():
    append(3)
    ChainHead.objects.all().delete()
    append(1)

    assert chain_verify().is_intact
    assert AuditEvent.objects.order_by("-seq").first().seq == 4


@pytest.mark.django_db
def test_edited_payload_is_named():
    append(5)
    with tamper():
        AuditEvent.objects.filter(seq=3).update(payload={"i": 99})

    report = chain_verify()
    assert not report.is_intact
    assert report.broken_seq == 3
    assert "edited" in report.reason


@pytest.mark.django_db
def test_deleted_event_is_named():
    append(5)
    with tamper():
        AuditEvent.objects.filter(seq=3).delete()

    report = chain_verify()
    assert (report.is_intact, report.broken_seq) == (False, 4)


@pytest.mark.django_db
def test_swapped_events_are_named():
    append(5)
    two, three = AuditEvent.objects.get(seq=2), AuditEvent.objects.get(seq=3)
    with tamper():
        AuditEvent.objects.filter(pk=two.pk).update(seq=1000)
        AuditEvent.objects.filter(pk=three.pk).update(seq=2)
        AuditEvent.objects.filter(pk=two.pk).update(seq=3)

    report = chain_verify()
    assert (report.is_intact, report.broken_seq) == (False, 2)


@pytest.mark.django_db
def test_inserted_event_is_named():
    events = append(4)
    with tamper():
        for event in reversed(events[2:]):
            AuditEvent.objects.filter(pk=event.pk).update(seq=event.seq + 1)
    AuditEvent.objects.create(
        seq=3,
        occurred_at=events[1].occurred_at,
        actor_type="system",
        action="forged",
        payload={},
        prev_hash=events[1].hash,
        hash="f" * 64,
    )

    report = chain_verify()
    assert (report.is_intact, report.broken_seq) == (False, 3)


@pytest.mark.django_db
def test_audit_verify_command_exit_codes(capsys):
    append(3)
    call_command("audit_verify")
    assert capsys.readouterr().out.startswith("intact: 3 events, head ")

    with tamper():
        AuditEvent.objects.filter(seq=2).update(action="changed")
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify")
    assert exit_info.value.code == 1
    assert "broken at event #2" in capsys.readouterr().err
