"""PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the audit log, whatever path they take.

Events, tree nodes and tree heads alike. The one change let through is the sequencer placing
an event (``seq`` from null to a number, nothing else in the row). Only the transaction-local
``lifes.audit_maintenance`` switch lets anything else through (``audit/maintenance.py``);
production code never sets it.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.maintenance import audit_maintenance
from audit.models import AuditEvent, AuditTreeHead, AuditTreeNode
from audit.services import audit_record, audit_sequence, chain_verify
from permits.keys import active_key
from tests.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db]

REFUSED = r"the audit log is append-only: (UPDATE|DELETE|TRUNCATE) on audit_\w+ refused"


@pytest.fixture
def events():
    made = []
    for i in range(3):
        with transaction.atomic():
            made.append(audit_record(actor=None, action="test.event", payload={"i": i}))
    return made


def refused(change) -> DatabaseError:
    """Run ``change`` in its own savepoint and return the database's refusal."""
    with pytest.raises(DatabaseError, match=REFUSED) as info, transaction.atomic():
        change()
    return info.value


def snapshot() -> list[tuple]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", "action", "payload"))


def raw(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def test_orm_updates_and_deletes_are_refused(events):
    before = snapshot()
    first = AuditEvent.objects.get(seq=1)

    def save_changed() -> None:
        first.action = "changed"
        first.save()

    def bulk_update() -> None:
        first.payload = {"i": 99}
        AuditEvent.objects.bulk_update([first], ["payload"])

    for change in (
        lambda: AuditEvent.objects.filter(seq=2).update(action="changed"),
        lambda: AuditEvent.objects.filter(seq=2).delete(),
        lambda: AuditEvent.objects.all().delete(),
        save_changed,
        bulk_update,
        lambda: AuditEvent.objects.get(seq=3).delete(),
    ):
        refused(change)

    assert snapshot() == before
    assert chain_verify().is_intact


def test_raw_sql_update_delete_and_truncate_are_refused(events):
    before = snapshot()

    error = refused(lambda: raw("UPDATE audit_auditevent SET action = 'x' WHERE seq = 1"))
    assert error.__cause__.sqlstate == "42501"  # insufficient_privilege
    refused(lambda: raw("DELETE FROM audit_auditevent WHERE seq = 3"))
    refused(lambda: raw("TRUNCATE audit_auditevent"))
    refused(lambda: raw("UPDATE audit_auditevent SET seq = 99 WHERE seq = 2"))  # no re-placing

    assert snapshot() == before


def test_tree_nodes_and_heads_are_protected_too(events):
    active_key()
    head = audit_sequence()
    node = AuditTreeNode.objects.get(level=0, index=0)

    refused(lambda: AuditTreeNode.objects.filter(pk=node.pk).update(hash=bytes(32)))
    refused(lambda: AuditTreeNode.objects.filter(pk=node.pk).delete())
    refused(lambda: raw("TRUNCATE audit_audittreenode"))
    refused(lambda: AuditTreeHead.objects.filter(pk=head.pk).update(root_hash="0" * 64))
    refused(lambda: AuditTreeHead.objects.filter(pk=head.pk).delete())
    refused(lambda: raw("TRUNCATE audit_audittreehead"))

    assert bytes(AuditTreeNode.objects.get(pk=node.pk).hash) == bytes(node.hash)
    assert AuditTreeHead.objects.get(pk=head.pk).root_hash == head.root_hash


def test_the_sequencer_may_place_an_event_once_and_change_nothing_else(settings):
    settings.AUDIT_SEQUENCE_INLINE = False
    with transaction.atomic():
        event = audit_record(actor=None, action="test.unplaced")
    assert AuditEvent.objects.get(pk=event.pk).seq is None
    # placing it together with another change is refused
    refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(seq=1, action="x"))
    audit_sequence(sign=False)
    assert AuditEvent.objects.get(pk=event.pk).seq == 1
    assert chain_verify().is_intact


def test_appends_stay_writable(events):
    with transaction.atomic():
        audit_record(actor=None, action="test.more")

    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]
    assert chain_verify().is_intact


def test_flush_is_refused_where_the_setting_is_off(events, settings):
    settings.AUDIT_MAINTENANCE_ON_FLUSH = False

    with pytest.raises(CommandError, match="couldn't be flushed") as info:
        call_command("flush", interactive=False, verbosity=0)

    assert "the audit log is append-only: TRUNCATE" in str(info.value.__cause__)
    assert AuditEvent.objects.count() == 3


def test_maintenance_is_transaction_local(events):
    with audit_maintenance():
        AuditEvent.objects.filter(seq=1).update(action="maintained")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lifes.audit_maintenance')")
            assert cursor.fetchone() == ("on",)

    refused(lambda: AuditEvent.objects.filter(seq=1).update(action="again"))
    assert AuditEvent.objects.get(seq=1).action == "maintained"


def test_a_failed_maintenance_block_leaves_nothing_behind(events):
    def half_done() -> None:
        with audit_maintenance():
            AuditEvent.objects.filter(seq=1).update(action="half-done")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        half_done()

    assert AuditEvent.objects.get(seq=1).action == "test.event"
    refused(lambda: AuditEvent.objects.filter(seq=1).update(action="again"))
