"""Every API POST honours ``Idempotency-Key``: a retry gets the first answer and writes nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from idempotency.models import IdempotencyRecord
from requests_app.models import AccessRequest
from tests.conftest import requires_postgres


def _create(client, title: str, key: str | None = "retry-me-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/v1/requests/", {"title": title}, format="json", **headers)


@pytest.mark.django_db
def test_a_retried_post_with_the_same_key_writes_once(world, token_client):
    client = token_client(world["requester"])
    first = _create(client, "Sleep and HbA1c")
    events = AuditEvent.objects.count()

    retry = _create(client, "Sleep and HbA1c")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert AccessRequest.objects.filter(title="Sleep and HbA1c").count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_without_a_key_a_retry_writes_again(world, token_client):
    client = token_client(world["requester"])
    _create(client, "Twice", key=None)
    _create(client, "Twice", key=None)
    assert AccessRequest.objects.filter(title="Twice").count() == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_a_quoted_key_as_in_the_draft_is_the_same_key(world, token_client):
    client = token_client(world["requester"])
    first = _create(client, "Quoted", key='"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    retry = _create(client, "Quoted", key="8e03978e-40d5-43e8-bc93-6894a57f9324")
    assert retry.json() == first.json()
    assert AccessRequest.objects.filter(title="Quoted").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_and_writes_nothing(world, token_client):
    client = token_client(world["requester"])
    _create(client, "First body")
    events, requests = AuditEvent.objects.count(), AccessRequest.objects.count()

    response = _create(client, "Second body")

    assert response.status_code == 422
    assert response.json() == {
        "detail": "This Idempotency-Key was already used for a different request.",
        "code": "idempotency_key_reused",
    }
    assert (AuditEvent.objects.count(), AccessRequest.objects.count()) == (events, requests)


@pytest.mark.django_db
def test_the_same_key_on_another_path_is_refused(world, token_client):
    client = token_client(world["requester"])
    created = _create(client, "Path one").json()
    response = client.post(
        f"/api/v1/requests/{created['reference']}/submit", HTTP_IDEMPOTENCY_KEY="retry-me-1"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


@pytest.mark.django_db
def test_keys_are_per_user(world, token_client):
    _create(token_client(world["requester"]), "Same key")
    other = _create(token_client(world["member1"]), "Same key")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert AccessRequest.objects.filter(title="Same key").count() == 2


@pytest.mark.django_db
def test_a_refusal_is_replayed_too_and_still_writes_nothing(world, token_client):
    client = token_client(world["requester"])
    created = _create(client, "Incomplete", key=None).json()
    path = f"/api/v1/requests/{created['reference']}/submit"
    events = AuditEvent.objects.count()

    first = client.post(path, HTTP_IDEMPOTENCY_KEY="submit-1")
    retry = client.post(path, HTTP_IDEMPOTENCY_KEY="submit-1")

    assert first.status_code == retry.status_code == 400
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_an_expired_key_is_forgotten(world, token_client, settings):
    client = token_client(world["requester"])
    _create(client, "Expiring")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timezone.timedelta(seconds=1))

    again = _create(client, "Expiring")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert AccessRequest.objects.filter(title="Expiring").count() == 2


@pytest.mark.django_db
def test_expired_keys_are_purged_by_the_beat(world, token_client, settings):
    from idempotency.tasks import idempotency_purge_task

    client = token_client(world["requester"])
    _create(client, "Kept", key="kept")
    _create(client, "Purged", key="purged")
    IdempotencyRecord.objects.filter(key="purged").update(expires_at=timezone.now())

    assert idempotency_purge_task() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["kept"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "new\u00e9line"])
def test_a_malformed_key_is_a_400(world, token_client, key):
    client = token_client(world["requester"])
    response = client.post(
        "/api/v1/requests/", {"title": "Bad key"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not AccessRequest.objects.filter(title="Bad key").exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_retries_at_once_write_once_and_answer_alike(world, token_client):
    clients = [token_client(world["requester"]) for _ in range(3)]
    answers: list = []
    start = threading.Barrier(len(clients))

    def post(client) -> None:
        start.wait()
        try:
            response = _create(client, "At once", key="concurrent-1")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert AccessRequest.objects.filter(title="At once").count() == 1
    assert len(answers) == 3
    assert {status for status, _body in answers} == {201}
    assert len({body["reference"] for _status, body in answers}) == 1
