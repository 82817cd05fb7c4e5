"""Concurrent writers on PostgreSQL, as in production (no inline sequencing): appends take no
global lock, the sequencer places every committed event exactly once with no gap, and a
rolled-back transaction leaves no leaf."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent, AuditTreeNode
from audit.services import audit_record, audit_sequence, chain_verify
from permits.keys import active_key
from tests.conftest import requires_postgres

WRITERS = 16
APPENDS_EACH = 20


class RolledBack(Exception):
    pass


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_writers_every_committed_event_sequenced_once_without_gap(settings):
    settings.AUDIT_SEQUENCE_INLINE = False
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the on-commit nudges run the sequencer here too
    active_key()  # the hub key that signs heads exists first (its creation is logged too)
    barrier = threading.Barrier(WRITERS + 1)
    errors: list[BaseException] = []
    committed: list[int] = []
    stop = threading.Event()

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for i in range(APPENDS_EACH):
                try:
                    with transaction.atomic():
                        event = audit_record(
                            actor=None, action="test.concurrent", payload={"w": number, "i": i}
                        )
                        if i % 5 == 4:  # every fifth transaction fails after its append
                            raise RolledBack
                    committed.append(event.pk)
                except RolledBack:
                    pass
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    def sequencer() -> None:  # the beat task, racing the writers and their nudges
        try:
            barrier.wait()
            while not stop.is_set():
                audit_sequence(sign=False)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    beat = threading.Thread(target=sequencer)
    for thread in [*threads, beat]:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    beat.join()
    audit_sequence()

    assert errors == []
    total = WRITERS * APPENDS_EACH * 4 // 5
    assert len(committed) == total
    # every committed event, and nothing else, has a place; the places are 1..total
    written = AuditEvent.objects.filter(action="test.concurrent")
    assert sorted(written.values_list("pk", flat=True)) == sorted(committed)
    total += 1  # signing_key.created
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    assert AuditTreeNode.objects.filter(level=0).count() == total
    report = chain_verify()
    assert report.is_intact, report.reason
    assert (report.count, report.unsequenced) == (total, 0)
    assert report.heads >= 1
