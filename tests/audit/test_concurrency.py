"""Concurrent writers on PostgreSQL: the chain never forks and every hash verifies."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record, chain_verify
from tests.conftest import requires_postgres

WRITERS = 8
APPENDS_EACH = 25


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_keep_the_chain_linear():
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for i in range(APPENDS_EACH):
                with transaction.atomic():
                    audit_record(
                        actor=None, action="test.concurrent", payload={"writer": number, "i": i}
                    )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = WRITERS * APPENDS_EACH
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == total
    report = chain_verify()
    assert report.is_intact, report.reason
    assert report.count == total
