"""PostgreSQL: the audit log is append-only at the database level.

A trigger refuses UPDATE and DELETE (per row) and TRUNCATE (per statement) on events and
checkpoints, whoever runs them: the ORM, raw SQL, psql. The one way through is the
transaction-local setting ``lifes.audit_maintenance = 'on'`` (``audit/maintenance.py``), which
production code never sets; ``manage.py flush`` sets it only when AUDIT_MAINTENANCE_ON_FLUSH is on
(development and tests). ``ChainHead`` is not protected: writers update it on every append.
Other databases (SQLite for local use) get no trigger; the hash chain still detects tampering.
"""

from django.db import migrations

TABLES = ("audit_auditevent", "audit_auditcheckpoint")

FUNCTION = """
CREATE OR REPLACE FUNCTION lifes_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('lifes.audit_maintenance', true) = 'on' THEN
        IF TG_LEVEL = 'STATEMENT' THEN
            RETURN NULL;
        ELSIF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit events and checkpoints are never changed or removed.';
END;
$$;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION lifes_audit_append_only()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lifes_audit_append_only()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS lifes_audit_append_only()")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_auditcheckpoint"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
