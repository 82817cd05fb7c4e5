"""Django's ``flush``, able to empty the append-only audit tables where that is allowed.

On PostgreSQL the audit triggers refuse TRUNCATE, so a plain flush fails, which is right in
production. Where ``AUDIT_MAINTENANCE_ON_FLUSH`` is on (it defaults to ``DEBUG``: development and
tests), the flush runs with ``lifes.audit_maintenance`` on for its transaction only. This command
replaces Django's because the audit app provides one of the same name; the test runner's flush
after ``transaction=True`` tests (``call_command("flush")``) comes here too.
"""

from django.conf import settings
from django.core.management.commands import flush
from django.db import connections

from audit.maintenance import audit_maintenance


class Command(flush.Command):
    def handle(self, **options):
        database = options["database"]
        if not settings.AUDIT_MAINTENANCE_ON_FLUSH or connections[database].vendor != "postgresql":
            return super().handle(**options)
        with audit_maintenance(using=database):
            return super().handle(**options)
