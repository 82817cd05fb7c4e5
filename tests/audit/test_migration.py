"""The hash chain of the previous release becomes the first leaves of the tree, in its order."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit import merkle
from audit.canonical import leaf_data
from audit.models import AuditEvent, AuditTreeNode
from audit.services import audit_sequence, log_verify
from audit.services.sequence import compact_range
from permits.keys import active_key

BEFORE = [("audit", "0003_append_only_triggers")]
AFTER = [("audit", "0004_transparency_log")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_the_chain_migrates_into_leaves_in_its_order():
    old = _migrate(BEFORE).loader.project_state(BEFORE).apps
    Event = old.get_model("audit", "AuditEvent")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = "0" * 64
    # given a chain of five events whose ids run against their order
    for seq in range(1, 6):
        digest = hashlib.sha256(f"{prev}{seq}".encode()).hexdigest()
        Event.objects.create(
            id=100 - seq,
            seq=seq,
            occurred_at=start + timedelta(seconds=seq),
            actor_type="system",
            action="chain.event",
            payload={"n": seq},
            prev_hash=prev,
            hash=digest,
        )
        prev = digest

    _migrate(AFTER)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    # then each event is the leaf at seq - 1, its bytes logged, the tree stored
    events = list(AuditEvent.objects.order_by("seq"))
    assert [(event.seq, event.payload["n"]) for event in events] == [(n, n) for n in range(1, 6)]
    for event in events:
        assert bytes(event.leaf_data) == leaf_data(
            event.occurred_at, "system", "", "chain.event", "", "", {"n": event.seq}
        )
        assert json.loads(bytes(event.leaf_data))["payload"] == {"n": event.seq}
    appender = merkle.CompactRange()
    for event in events:
        appender.append(merkle.leaf_hash(bytes(event.leaf_data)))
    active_key()
    head = audit_sequence()
    assert AuditTreeNode.objects.filter(level=0).count() == 6  # and the key's creation after
    report = log_verify()
    assert (report.is_intact, report.count) == (True, 6)
    assert head.tree_size == 6
    # the stored tree at size 5 is the chain's five events in the chain's order
    assert compact_range(5).root() == appender.root()
