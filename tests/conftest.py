"""Shared fixtures: the demo world, users of each role, an API client, a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Django imports stay inside the fixtures, so the pure-Python suites (tests/node,
# the matcher) also run without Django: `pytest -p no:django tests/node`.
ROOT = Path(__file__).resolve().parent.parent


requires_postgres = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql", "pgsql"),
    reason="needs PostgreSQL: set DATABASE_URL (CI does)",
)
requires_broker = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL"),
    reason="needs a real broker: set CELERY_BROKER_URL (CI does)",
)


@pytest.fixture
def world(db):
    """The demo world of seed_demo, without its demo requests (tests make their own)."""
    from demo.world import seed_demo

    seed_demo(with_requests=False)
    from accounts.models import User

    return {user.email.split("@")[0]: user for user in User.objects.filter(is_machine=False)}


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def token_client(db):
    """An API client authenticated by a real token of the given user."""

    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    def make(user) -> APIClient:
        issued = api_token_create(actor=user, user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
        return client

    return make


def event_count() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.count()


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real Celery worker process on the real broker, reading the test database."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    from django.db import connection

    database = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
    from lifes.celery import app

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # this test sends its tasks to the real broker
    app.control.purge()
    worker = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "lifes",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.control.ping(timeout=1.0):
                break
            if worker.poll() is not None:
                pytest.fail("the Celery worker exited at start")
        else:
            pytest.fail("the Celery worker did not answer a ping within 60 s")
        yield worker
    finally:
        app.conf.task_always_eager = was_eager
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


__all__ = ["requires_broker", "requires_postgres", "wait_for", "event_count"]
