"""``/healthz`` checks the broker over a pooled connection: one connection for many probes,
not a new one per call, and every probe still bounded by its timeout."""

from __future__ import annotations

import pytest
from kombu.transport import memory

from tests.conftest import requires_broker


@pytest.fixture
def memory_broker(settings, monkeypatch):
    """A broker only this test talks to (kombu's in-memory transport), counting connections."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # a URL of its own: kombu keys its pools by URL, so no other test's pool is reused
    settings.CELERY_BROKER_URL = "memory://localhost/healthz-pool-test"
    opened = []
    establish = memory.Transport.establish_connection

    def counting(self):
        opened.append(self)
        return establish(self)

    monkeypatch.setattr(memory.Transport, "establish_connection", counting)
    return opened


@pytest.mark.django_db
def test_healthz_reuses_one_pooled_broker_connection(client, memory_broker):
    answers = [client.get("/healthz") for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert {a.json()["broker"] for a in answers} == {"ok"}
    assert len(memory_broker) == 1  # opened once, then taken from the pool


@requires_broker
@pytest.mark.django_db
def test_healthz_reuses_its_redis_connection(client, settings):
    import redis

    settings.CELERY_TASK_ALWAYS_EAGER = False
    client.get("/healthz")  # warm: the pool's connection is open now
    server = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=3)
    before = {c["id"] for c in server.client_list()}

    for _ in range(5):
        assert client.get("/healthz").json()["broker"] == "ok"

    after = {c["id"] for c in server.client_list()}
    # other processes may connect meanwhile; ours opened none (a new one per call would be 5)
    assert len(after - before) < 5
