"""The one way past the audit log's append-only triggers on PostgreSQL.

The triggers (migrations 0003 and 0004) refuse UPDATE, DELETE and TRUNCATE on audit events,
tree nodes and tree heads (the sequencer may set an event's ``seq`` once) unless the
transaction-local setting ``lifes.audit_maintenance`` is ``'on'``. Production code never turns
it on. It is for:

- ``manage.py flush`` when ``AUDIT_MAINTENANCE_ON_FLUSH`` is on (development and the test runner,
  which flushes after every ``transaction=True`` test; it defaults to ``DEBUG``);
- tests that play an attacker with direct database access, to show the Merkle tree and the
  signed tree heads still catch what the triggers would have refused.

This is not a security boundary against the database owner (who can also drop the trigger); it
stops the application, the admin and anyone using the app's ordinary paths from changing history,
and it turns an accidental ``UPDATE`` into a loud error. Tamper *evidence* comes from the tree
and the published, signed tree heads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

SETTING = "lifes.audit_maintenance"


@contextmanager
def audit_maintenance(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Within the block (one transaction or savepoint), the triggers let changes through.

    Transaction-local (``set_config(..., true)``): it cannot leak into later work on the same
    connection, and a rollback of the block undoes it.
    """
    connection = connections[using]
    with transaction.atomic(using=using):
        if connection.vendor != "postgresql":
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [SETTING])
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'off', true)", [SETTING])
