"""From the hash chain to the transparency log (RFC 9162 Merkle tree).

The existing chain becomes the first leaves, in its order (``seq`` is kept, so leaf index =
``seq - 1``); the leaf hashes and every complete subtree are stored; the sequencer signs the
first tree head on its first run. The chain's own hashes, its head row and its checkpoints go:
the tree and its signed heads replace them. On PostgreSQL the triggers now cover events, tree
nodes and tree heads; on events the one change let through is the sequencer setting ``seq``
once (from null), everything else in the row unchanged.
"""

import django.utils.timezone
from django.db import migrations, models

BATCH = 5000


def build_tree(apps, schema_editor):
    # The one definition of the leaf bytes and of the tree, as the sequencer uses them.
    from audit import merkle
    from audit.canonical import leaf_data

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditTreeNode = apps.get_model("audit", "AuditTreeNode")
    if schema_editor.connection.vendor == "postgresql":  # past 0003's trigger, this once
        schema_editor.execute("SELECT set_config('lifes.audit_maintenance', 'on', true)")
    fields = ("seq", "occurred_at", "actor_type", "actor_id", "action", "object_type", "object_id", "payload")
    appender = merkle.CompactRange()
    last = 0
    while True:
        rows = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq").values_list(*fields)[:BATCH])
        if not rows:
            return
        closed = []
        logged = []
        for seq, *values in rows:
            if seq != appender.size + 1:
                raise RuntimeError(f"the audit chain has a gap before event #{seq}: verify it first")
            data = leaf_data(*values)
            appender.append(merkle.leaf_hash(data), closed)
            logged.append(AuditEvent(seq=seq, leaf_data=data))
        for event in logged:
            AuditEvent.objects.filter(seq=event.seq).update(leaf_data=event.leaf_data)
        AuditTreeNode.objects.bulk_create(
            [AuditTreeNode(level=level, index=index, hash=digest) for level, index, digest in closed]
        )
        last = rows[-1][0]


EVENT_FUNCTION = """
CREATE OR REPLACE FUNCTION lifes_audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('lifes.audit_maintenance', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    -- The sequencer gives an event its place once; nothing else in the row may change.
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - 'seq') = (to_jsonb(OLD) - 'seq') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit events are never changed or removed; only the sequencer places them.';
END;
$$;
"""
NEW_TABLES = ("audit_audittreenode", "audit_audittreehead")


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(EVENT_FUNCTION, params=None)
    schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent")
    schema_editor.execute(
        "CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON audit_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION lifes_audit_event_append_only()"
    )
    for table in NEW_TABLES:  # lifes_audit_append_only() is migration 0003's
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
    for table in NEW_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent")
    schema_editor.execute(
        "CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON audit_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION lifes_audit_append_only()"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS lifes_audit_event_append_only()")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_append_only_triggers'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditTreeHead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tree_size', models.PositiveBigIntegerField(editable=False, unique=True)),
                ('root_hash', models.CharField(editable=False, max_length=64)),
                ('timestamp', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('kid', models.CharField(editable=False, max_length=64)),
                ('signed', models.TextField(editable=False, help_text='compact JWS (typ lifes-tree-head+jwt) over the head')),
            ],
            options={
                'ordering': ['-tree_size'],
            },
        ),
        migrations.CreateModel(
            name='AuditTreeNode',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('level', models.PositiveSmallIntegerField()),
                ('index', models.PositiveBigIntegerField()),
                ('hash', models.BinaryField(max_length=32)),
            ],
        ),
        migrations.AddConstraint(
            model_name='audittreenode',
            constraint=models.UniqueConstraint(fields=('level', 'index'), name='audit_tree_node_unique'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.PositiveBigIntegerField(editable=False, help_text='leaf index + 1, once sequenced', null=True, unique=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="leaf_data",
            field=models.BinaryField(default=b"", editable=False),
        ),
        migrations.RunPython(build_tree, migrations.RunPython.noop),
        migrations.DeleteModel(
            name='AuditCheckpoint',
        ),
        migrations.DeleteModel(
            name='ChainHead',
        ),
        migrations.RemoveField(
            model_name='auditevent',
            name='hash',
        ),
        migrations.RemoveField(
            model_name='auditevent',
            name='prev_hash',
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_event_unsequenced'),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
