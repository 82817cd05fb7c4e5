"""Every kind of tampering makes `audit_verify` exit 1 and name the first broken event, including
the two a bare hash chain cannot see: a rewritten history (every hash recomputed) and a head cut
back behind a published checkpoint. Tampering runs inside ``audit_maintenance()`` (see
test_chain.py): it plays someone with direct database access."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import transaction

from audit.canonical import event_hash
from audit.maintenance import audit_maintenance as tamper
from audit.models import AuditCheckpoint, AuditEvent, ChainHead
from audit.services import audit_record, checkpoint_create
from permits.keys import active_key, sign_checkpoint


def append(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=None, action="test.event", payload={"i": i})


@pytest.fixture
def chain(db):
    """Ten events with a signed checkpoint at #6 (the key exists before the first event)."""
    active_key()  # appends signing_key.created as event #1
    append(5)
    checkpoint = checkpoint_create(signer=sign_checkpoint)
    assert checkpoint.seq == 6
    append(4)
    assert AuditEvent.objects.count() == 10
    return checkpoint


def verify_fails(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify", *args)
    assert exit_info.value.code == 1
    return capsys.readouterr().err


def rewrite_from(seq: int, **changes) -> None:
    """Change event ``seq`` and recompute every hash after it: a chain that verifies by itself."""
    with tamper():
        AuditEvent.objects.filter(seq=seq).update(**changes)
        prev = AuditEvent.objects.get(seq=seq - 1).hash
        for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
            digest = event_hash(
                prev_hash=prev,
                seq=event.seq,
                occurred_at=event.occurred_at,
                actor_type=event.actor_type,
                actor_id=event.actor_id,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                payload=event.payload,
            )
            AuditEvent.objects.filter(pk=event.pk).update(prev_hash=prev, hash=digest)
            prev = digest
        ChainHead.objects.filter(pk=1).update(hash=prev)


def test_an_intact_chain_passes_its_checkpoints(chain, capsys):
    call_command("audit_verify")

    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"intact: 10 events, head {AuditEvent.objects.get(seq=10).hash}"
    assert out[1] == "checkpoints: 1 passed"


def test_edited_payload(chain, capsys):
    with tamper():
        AuditEvent.objects.filter(seq=3).update(payload={"i": 99})

    err = verify_fails(capsys)
    assert err.startswith("broken at event #3: content does not match its hash (edited)")


def test_deleted_event(chain, capsys):
    with tamper():
        AuditEvent.objects.filter(seq=8).delete()

    err = verify_fails(capsys)
    assert err.startswith("broken at event #9: expected event #8, found #9")


def test_swapped_events(chain, capsys):
    with tamper():
        AuditEvent.objects.filter(seq=4).update(seq=1000)
        AuditEvent.objects.filter(seq=5).update(seq=4)
        AuditEvent.objects.filter(seq=1000).update(seq=5)

    err = verify_fails(capsys)
    assert err.startswith("broken at event #4: prev_hash does not match")


def test_inserted_event(chain, capsys):
    with tamper():
        for seq in range(10, 7, -1):
            AuditEvent.objects.filter(seq=seq).update(seq=seq + 1)
        seven = AuditEvent.objects.get(seq=7)
        AuditEvent.objects.create(
            seq=8,
            occurred_at=seven.occurred_at,
            actor_type="system",
            action="forged",
            payload={},
            prev_hash=seven.hash,
            hash="f" * 64,
        )

    err = verify_fails(capsys)
    assert err.startswith("broken at event #8: content does not match its hash")


def test_head_cut_back_behind_a_published_checkpoint(chain, capsys):
    # the tail is removed and the head row moved back: by itself, a shorter valid chain
    with tamper():
        AuditEvent.objects.filter(seq__gte=6).delete()
        five = AuditEvent.objects.get(seq=5)
        ChainHead.objects.filter(pk=1).update(seq=5, hash=five.hash)

    err = verify_fails(capsys)
    assert err.startswith(
        "broken at event #6: the chain ends at #5 but checkpoint #6 was published "
        "(events removed or the head cut back)"
    )


def test_history_rewritten_with_every_hash_recomputed(chain, capsys):
    rewrite_from(3, payload={"i": "rewritten"})

    err = verify_fails(capsys)
    assert err.startswith(
        "broken at event #6: event #6 is not the event checkpoint #6 was signed over "
        "(history rewritten at or before it)"
    )


def test_a_rewritten_checkpoint_does_not_match_its_signature(chain, capsys):
    rewrite_from(3, payload={"i": "rewritten"})
    with tamper():
        AuditCheckpoint.objects.filter(seq=6).update(hash=AuditEvent.objects.get(seq=6).hash)

    err = verify_fails(capsys)
    assert err.startswith(
        "broken at event #6: checkpoint #6 differs from what its signature covers"
    )


def test_a_kept_copy_of_the_checkpoints_catches_a_rewrite_that_also_deleted_them(
    chain, capsys, client, tmp_path
):
    # given an outsider kept the published checkpoints
    kept = tmp_path / "checkpoints.json"
    kept.write_text(json.dumps(client.get("/api/v1/audit/checkpoints").json()))
    # when history is rewritten and the hub's own checkpoints are removed
    rewrite_from(2, action="test.rewritten")
    with tamper():
        AuditCheckpoint.objects.all().delete()
    call_command("audit_verify")  # the hub alone no longer sees it
    capsys.readouterr()

    err = verify_fails(capsys, "--checkpoints", str(kept))
    assert err.startswith(
        "broken at event #6: event #6 is not the event published checkpoint #6 was signed over"
    )


def test_an_unreadable_checkpoints_file_is_a_command_error(chain, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="cannot read checkpoints"):
        call_command("audit_verify", "--checkpoints", str(bad))
