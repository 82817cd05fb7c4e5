"""Every kind of tampering makes `audit_verify` exit 1 and name the first broken event: an
edited, deleted, swapped, inserted or truncated leaf, and also a history rewritten with every
leaf and node recomputed (only the signed tree heads catch that). Tampering runs inside
``audit_maintenance()``: it plays someone with direct database access."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from audit import merkle
from audit.canonical import leaf_data
from audit.maintenance import audit_maintenance as tamper
from audit.models import AuditEvent, AuditTreeHead, AuditTreeNode
from audit.services import audit_record, audit_sequence
from permits.keys import active_key
from tests.conftest import requires_postgres


def append(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=None, action="test.event", payload={"i": i})


@pytest.fixture
def log(db):
    """Ten events, with a signed tree head at size 6 and one at 10."""
    active_key()  # appends signing_key.created as event #1
    append(5)
    assert audit_sequence().tree_size == 6
    append(4)
    assert audit_sequence().tree_size == 10
    assert AuditEvent.objects.count() == 10


def verify_fails(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify", *args)
    assert exit_info.value.code == 1
    return capsys.readouterr().err


def logged_bytes(event: AuditEvent) -> bytes:
    return leaf_data(
        event.occurred_at,
        event.actor_type,
        event.actor_id,
        event.action,
        event.object_type,
        event.object_id,
        event.payload,
    )


def rewrite(seq: int, **changes) -> None:
    """Change event ``seq`` with its logged bytes to match, as a careful attacker would."""
    with tamper():
        AuditEvent.objects.filter(seq=seq).update(**changes)
        event = AuditEvent.objects.get(seq=seq)
        AuditEvent.objects.filter(seq=seq).update(leaf_data=logged_bytes(event))


def rebuild_tree() -> None:
    """Recompute every leaf and node from the events as they are now: a tree that verifies by
    itself, as a careful attacker would leave it."""
    with tamper():
        AuditTreeNode.objects.all().delete()
        appender, closed = merkle.CompactRange(), []
        for event in AuditEvent.objects.order_by("seq"):
            appender.append(merkle.leaf_hash(bytes(event.leaf_data)), closed)
        AuditTreeNode.objects.bulk_create(
            [AuditTreeNode(level=lv, index=ix, hash=digest) for lv, ix, digest in closed]
        )


def test_an_intact_log_exits_0_with_the_root_and_count(log, capsys):
    call_command("audit_verify")
    out = capsys.readouterr().out.splitlines()
    head = AuditTreeHead.objects.get(tree_size=10)
    assert out[0] == f"intact: 10 events, head {head.root_hash}"
    assert out[1] == "tree heads: 2 passed; 0 events awaiting the sequencer"


def test_an_edited_event_is_named(log, capsys):
    with tamper():
        AuditEvent.objects.filter(seq=3).update(payload={"i": 99})
    err = verify_fails(capsys)
    assert err.startswith("broken at event #3: content does not match its logged bytes")
    assert "(2 events verified before it)" in err


def test_an_edited_leaf_is_named(log, capsys):
    rewrite(3, payload={"i": 99})  # the columns and the logged bytes agree again
    err = verify_fails(capsys)
    assert err.startswith("broken at event #3: content does not match its leaf hash")
    assert "(2 events verified before it)" in err


def test_a_deleted_leaf_is_named(log, capsys):
    with tamper():
        AuditEvent.objects.filter(seq=8).delete()
    err = verify_fails(capsys)
    assert err.startswith("broken at event #8: expected event #8, found #9 (missing)")


def test_swapped_leaves_are_named(log, capsys):
    with tamper():
        AuditEvent.objects.filter(seq=4).update(seq=1000)
        AuditEvent.objects.filter(seq=5).update(seq=4)
        AuditEvent.objects.filter(seq=1000).update(seq=5)
    err = verify_fails(capsys)
    assert err.startswith("broken at event #4: content does not match its leaf hash")


def test_an_inserted_leaf_is_named(log, capsys):
    with tamper():
        for seq in range(10, 7, -1):
            AuditEvent.objects.filter(seq=seq).update(seq=seq + 1)
        forged = AuditEvent(
            seq=8, occurred_at=timezone.now(), actor_type="system", action="test.forged"
        )
        forged.leaf_data = logged_bytes(forged)
        forged.save()
    err = verify_fails(capsys)
    assert err.startswith("broken at event #8: content does not match its leaf hash")


def test_a_truncated_log_is_named(log, capsys):
    with tamper():
        AuditEvent.objects.filter(seq__gt=7).delete()
    rebuild_tree()  # even with the tree cut back to match
    err = verify_fails(capsys)
    assert err.startswith(
        "broken at event #8: the log ends at #7 but a tree head of size 10 was signed"
    )


def test_a_rewritten_history_is_caught_by_the_signed_head(log, capsys):
    # given an edit with every leaf and node recomputed: the tree is consistent with itself
    rewrite(2, payload={"i": "rewritten"})
    rebuild_tree()
    # then the head signed at size 6 no longer matches the root at 6
    err = verify_fails(capsys)
    assert err.startswith("broken at event #6: the tree head signed at size 6 has root")
    assert "history rewritten at or before event #6" in err


def test_a_tampered_interior_node_is_named(log, capsys):
    with tamper():
        AuditTreeNode.objects.filter(level=2, index=1).update(hash=bytes(32))
    err = verify_fails(capsys)
    assert err.startswith("broken at event #8: tree node 2/1 does not match the leaves under it")


def test_a_head_with_a_forged_signature_is_named(log, capsys):
    head = AuditTreeHead.objects.get(tree_size=6)
    header, payload, signature = head.signed.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    with tamper():
        AuditTreeHead.objects.filter(pk=head.pk).update(signed=forged)
    err = verify_fails(capsys)
    assert err.startswith("broken at event #6: the tree head at size 6 has an invalid signature")
    call_command("audit_verify", "--skip-signatures")  # the tree itself is intact


def test_heads_kept_outside_are_checked_too(log, capsys, tmp_path):
    kept = tmp_path / "witness.json"
    kept.write_text(json.dumps({"heads": [{"tree_size": 7, "root_hash": "ab" * 32}]}))
    err = verify_fails(capsys, "--tree-heads", str(kept))
    assert err.startswith("broken at event #7: the tree head signed at size 7 has root abababab")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_streaming_copy_reader_sees_every_event_as_the_sequencer_did(capsys):
    """Outside a transaction, PostgreSQL verification reads through COPY (CSV): quotes,
    backslashes, newlines, separators and non-ASCII text must come back byte for byte."""
    active_key()
    tricky = [
        {"q": 'say "hi"', "b": "back\\slash", "n": "line\nbreak", "u": "é€😀", "c": "a,b;c\t"},
        {"f": 1.5, "l": [1, None, True], "nested": {"z": 1, "a": [{"y": "x"}]}},
        {},
    ]
    for payload in tricky:
        with transaction.atomic():
            audit_record(actor=None, action="test.tricky", payload=payload)
    audit_sequence()

    call_command("audit_verify")
    assert capsys.readouterr().out.startswith("intact: 4 events, head ")
    with tamper():
        AuditEvent.objects.filter(seq=3).update(payload={"f": 1.25})
    err = verify_fails(capsys)
    assert err.startswith("broken at event #3: content does not match its logged bytes")
    rewrite(3, payload={"f": 1.25})
    err = verify_fails(capsys)
    assert err.startswith("broken at event #3: content does not match its leaf hash")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_logged_bytes_that_are_not_json_are_named_too(capsys):
    active_key()
    append(3)
    audit_sequence()
    with tamper():
        AuditEvent.objects.filter(seq=2).update(leaf_data=b"\xff\xfe not json")

    err = verify_fails(capsys)

    assert err.startswith("broken at event #2: content does not match its logged bytes")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_column_check_reads_by_ranges_and_names_an_edit_in_a_later_one(capsys, monkeypatch):
    """PostgreSQL compares columns with logged bytes one range of seq per statement (so each
    stays inside the statement timeout at any size): an edit far into the log is still named."""
    from audit.services import verify

    monkeypatch.setattr(verify, "_PG_MISMATCH_RANGE", 2)
    active_key()
    append(6)
    audit_sequence()
    with tamper():  # the columns only: the leaf and the tree still agree with each other
        AuditEvent.objects.filter(seq=6).update(action="test.rewritten")

    err = verify_fails(capsys)

    assert err.startswith("broken at event #6: content does not match its logged bytes")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_read_that_outlasts_the_statement_timeout_is_an_error_not_a_verdict(capsys, monkeypatch):
    """At 10,000,000 events the column check as one statement outlasted the 20 s timeout and
    verification went on, silently, by the slow path. A read the database ends is now an
    error (exit 2): neither "intact" nor "broken"."""
    from django.db import connection

    from audit.services import verify

    active_key()
    append(3)
    audit_sequence()
    options = dict(connection.settings_dict["OPTIONS"], options="-c statement_timeout=100")
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    slow = verify._PG_MISMATCH.replace("WHERE ", "WHERE pg_sleep(0.5) IS NOT NULL AND ", 1)
    monkeypatch.setattr(verify, "_PG_MISMATCH", slow)

    with pytest.raises(CommandError) as error:  # manage.py exits with its returncode
        call_command("audit_verify")

    assert error.value.returncode == 2
    assert str(error.value).startswith("the log could not be read to the end: ")
    assert "statement timeout" in str(error.value)
    assert "intact" not in capsys.readouterr().out
