"""Signed checkpoints of the chain head: made hourly by beat, published, verifiable by anyone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

from audit.maintenance import audit_maintenance as tamper
from audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent
from audit.services import ChainBroken, audit_record, checkpoint_create
from audit.tasks import audit_checkpoint_task
from permits.keys import active_key, sign_checkpoint


def append(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=None, action="test.event", payload={"i": i})


def head() -> tuple[int, str]:
    return AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()


@pytest.mark.django_db
def test_nothing_to_sign_while_the_log_is_empty():
    assert checkpoint_create(signer=sign_checkpoint) is None
    assert AuditCheckpoint.objects.count() == 0


@pytest.mark.django_db
def test_the_head_is_signed_with_the_hub_key_and_verifies_from_the_jwks(client):
    key = active_key()
    append(3)
    seq, digest = head()

    checkpoint = checkpoint_create(signer=sign_checkpoint)

    assert (checkpoint.seq, checkpoint.hash, checkpoint.kid) == (seq, digest, key.kid)
    key_set = jwcrypto_jwk.JWKSet.from_json(client.get("/.well-known/jwks.json").content)
    verified = jwcrypto_jwt.JWT(jwt=checkpoint.token, key=key_set, algs=["EdDSA"])
    assert json.loads(verified.header) == {
        "alg": "EdDSA",
        "kid": key.kid,
        "typ": "lifes-checkpoint+jwt",
    }
    assert json.loads(verified.claims) == {
        "seq": seq,
        "hash": digest,
        "iat": int(checkpoint.created_at.timestamp()),
        "iss": settings.HUB_URL,
    }


@pytest.mark.django_db
def test_an_unchanged_head_is_not_signed_twice_and_a_new_one_extends_the_last():
    active_key()
    append(2)
    first = checkpoint_create(signer=sign_checkpoint)

    assert checkpoint_create(signer=sign_checkpoint) == first
    append(2)
    second = checkpoint_create(signer=sign_checkpoint)

    assert second.seq == first.seq + 2
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [second.seq, first.seq]


@pytest.mark.django_db
def test_a_broken_chain_is_never_signed():
    active_key()
    append(3)
    checkpoint_create(signer=sign_checkpoint)
    append(3)
    with tamper():
        AuditEvent.objects.filter(seq=6).update(action="test.changed")

    with pytest.raises(ChainBroken) as info:
        checkpoint_create(signer=sign_checkpoint)

    assert info.value.report.broken_seq == 6
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.django_db
def test_a_head_cut_back_behind_the_last_checkpoint_is_never_signed():
    active_key()
    append(4)
    checkpoint_create(signer=sign_checkpoint)
    with tamper():
        AuditEvent.objects.filter(seq__gte=4).delete()

    with pytest.raises(ChainBroken, match="the chain ends at #3 but checkpoint #5"):
        checkpoint_create(signer=sign_checkpoint)


@pytest.mark.django_db
def test_the_first_checkpoint_verifies_the_whole_chain_first():
    active_key()
    append(3)
    with tamper():
        AuditEvent.objects.filter(seq=2).update(payload={"i": "x"})

    with pytest.raises(ChainBroken):
        checkpoint_create(signer=sign_checkpoint)
    assert AuditCheckpoint.objects.count() == 0


@pytest.mark.django_db
def test_the_beat_task_signs_with_the_configured_signer():
    active_key()
    append(2)

    result = audit_checkpoint_task()

    checkpoint = AuditCheckpoint.objects.get()
    assert result == {
        "intact": True,
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "kid": checkpoint.kid,
    }
    assert settings.AUDIT_CHECKPOINT_SIGNER == "permits.keys.sign_checkpoint"
    assert settings.CELERY_BEAT_SCHEDULE["audit-checkpoint-hourly"] == {
        "task": "audit.tasks.audit_checkpoint_task",
        "schedule": timedelta(hours=1),
    }


@pytest.mark.django_db
def test_the_beat_task_reports_a_broken_chain_without_signing(caplog):
    append(2)
    with tamper():
        AuditEvent.objects.filter(seq=1).delete()

    result = audit_checkpoint_task()

    assert result["intact"] is False
    assert result["broken_seq"] == 2
    assert AuditCheckpoint.objects.count() == 0
    assert "Not signing a checkpoint" in caplog.text


@pytest.mark.django_db
def test_checkpoints_are_public_newest_first(api_client):
    active_key()
    append(1)
    older = checkpoint_create(signer=sign_checkpoint)
    append(1)
    newer = checkpoint_create(signer=sign_checkpoint)

    response = api_client.get("/api/v1/audit/checkpoints")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["seq"] for item in body["results"]] == [newer.seq, older.seq]
    assert set(body["results"][0]) == {"seq", "hash", "created_at", "kid", "token"}
    assert body["results"][0]["token"] == newer.token


@pytest.mark.django_db
def test_the_head_is_public(api_client):
    assert api_client.get("/api/v1/audit/head").json() == {
        "seq": 0,
        "hash": GENESIS_HASH,
        "occurred_at": None,
        "checkpoint": None,
    }
    active_key()
    append(2)
    checkpoint = checkpoint_create(signer=sign_checkpoint)
    append(1)

    body = api_client.get("/api/v1/audit/head").json()

    seq, digest = head()
    assert (body["seq"], body["hash"]) == (seq, digest)
    assert body["occurred_at"] is not None
    assert body["checkpoint"]["seq"] == checkpoint.seq
    assert body["checkpoint"]["token"] == checkpoint.token
