"""Statistics that let PostgreSQL plan the timeline and the explorer at ten million events.

``object_type`` and ``object_id`` are far from independent (id "7" is common to many types;
each (type, id) pair has a handful of events), and the planner, assuming independence,
estimated the timeline of a low id badly enough to scan the log. Extended statistics
(dependencies + most-common values) give it the joint distribution. PostgreSQL only.
"""

from django.db import migrations

FORWARD = [
    "CREATE STATISTICS IF NOT EXISTS audit_event_object_stats (dependencies, ndistinct, mcv) "
    "ON object_type, object_id FROM audit_auditevent",
    "CREATE STATISTICS IF NOT EXISTS audit_event_action_object_stats (dependencies, mcv) "
    "ON action, object_type FROM audit_auditevent",
    "ANALYZE audit_auditevent",
]
BACKWARD = [
    "DROP STATISTICS IF EXISTS audit_event_object_stats",
    "DROP STATISTICS IF EXISTS audit_event_action_object_stats",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_transparency_log")]

    operations = [migrations.RunPython(forward, backward)]
