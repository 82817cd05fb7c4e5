"""The production shape with outages on demand: gunicorn and a real Celery worker, each talking to
PostgreSQL through a fault proxy, the web processes to Redis through another; the test process
itself talks to both directly (it prepares data and checks what committed).

Runs only when asked (``LIFES_FAULTS=1``) on PostgreSQL with a real broker: ``.ci/run`` does so on
its PostgreSQL leg. Every wait here has a deadline, so the suite stops by itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.faults.proxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.faults]


def _wanted() -> bool:
    return (
        os.environ.get("LIFES_FAULTS") == "1"
        and os.environ.get("DATABASE_URL", "").split(":")[0] in ("postgres", "postgresql")
        and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")
    )


def pytest_collection_modifyitems(config, items) -> None:
    if _wanted():
        return
    skip = pytest.mark.skip(
        reason="fault suite: set LIFES_FAULTS=1 with PostgreSQL and Redis (.ci/run does)"
    )
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(skip)


# Short timeouts so that each outage shows within seconds (production defaults are longer).
FAULT_TIMEOUTS = {
    "DATABASE_CONNECT_TIMEOUT": "1",
    "DATABASE_STATEMENT_TIMEOUT": "2",
    "DATABASE_CLIENT_DEADLINE": "2.5",
    "BROKER_TIMEOUT": "1",
    "HEALTHZ_TIMEOUT": "2",
    "OUTBOX_REDELIVER_AFTER": "2",
    "OUTBOX_LEASE_SECONDS": "6",
    "CELERY_VISIBILITY_TIMEOUT": "10",
    "REPORT_DEADLINE": "120",
    "SWEEP_GRACE": "1",
    "SWEEP_REDRIVE_EVERY": "5",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """The running processes and the two proxies, with a small HTTP client."""

    db_proxy: FaultProxy
    broker_proxy: FaultProxy
    env: dict[str, str]
    worker_env: dict[str, str]
    url: str
    server: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    logs: list[Any] = field(default_factory=list)  # open log files, closed by stop()

    def start_server(self) -> None:
        log = (ROOT / ".test-media" / "faults-gunicorn.log").open("ab")
        self.logs.append(log)
        self.server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "lifes.wsgi:application",
                "--bind",
                self.url.removeprefix("http://"),
                "--workers",
                "2",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--preload",  # both workers start warm: Django is set up before the fork
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        wait_until(lambda: self._answers("/healthz"), timeout=90, what="gunicorn to answer")
        for _ in range(6):  # the first request of each worker imports the views
            self._answers("/healthz")

    def start_worker(self) -> None:
        log = (ROOT / ".test-media" / "faults-worker.log").open("ab")
        self.logs.append(log)
        name = f"faults-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
        self.worker = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
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
                name,
            ],
            cwd=ROOT,
            env=self.worker_env,
            stdout=log,
            stderr=log,
        )
        from lifes.celery import app

        def ready() -> bool:
            assert self.worker.poll() is None, "the Celery worker exited at start"
            return bool(app.control.ping(destination=[name], timeout=0.5))

        wait_until(ready, timeout=90, what="the Celery worker to answer a ping")

    def kill_worker(self) -> None:
        """SIGKILL: the worker dies mid-task, as on an out-of-memory kill."""
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in self.logs:
            log.close()

    def _answers(self, path: str) -> bool:
        try:
            requests.get(self.url + path, timeout=3)
        except requests.RequestException:
            return False
        return True

    def post(self, path: str, token: str, body: dict | None = None, *, key: str) -> Any:
        return requests.post(
            self.url + path,
            json=body or {},
            headers={"Authorization": f"Token {token}", "Idempotency-Key": key},
            timeout=20,
        )

    def get(self, path: str, token: str | None = None, *, timeout: float = 20) -> Any:
        headers = {"Authorization": f"Token {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=timeout)


def wait_until(predicate: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"gave up waiting for {what} after {timeout} s")


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker) -> Iterator[None]:
    """The test database, although no scenario carries a ``django_db`` mark (see ``people``):
    pytest-django creates it only for marked tests."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker) -> Iterator[Stack]:
    if not _wanted():
        pytest.skip("fault suite not requested")
    from django.conf import settings
    from django.db import connection

    from lifes.celery import app

    database = connection.settings_dict
    broker = urlsplit(os.environ["CELERY_BROKER_URL"])
    db_proxy = FaultProxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)).start()
    broker_proxy = FaultProxy(broker.hostname or "127.0.0.1", broker.port or 6379).start()
    (ROOT / ".test-media").mkdir(exist_ok=True)
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "LIFES_FAULTS"))},
        **FAULT_TIMEOUTS,
        "DJANGO_SETTINGS_MODULE": "lifes.settings",
        "DEBUG": "false",
        "SECRET_KEY": "fault-suite-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_RESULT_BACKEND": "",
        "EMAIL_URL": "dummymail://",
        "SIGNING_KEY_DIR": str(settings.SIGNING_KEY_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CONN_MAX_AGE": "60",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@127.0.0.1:{db_proxy.port}/{database['NAME']}"
        ),
    }
    web_env = {
        **base,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{broker_proxy.port}{broker.path or '/0'}",
    }
    # The worker reaches the broker directly (its outages are the web's publishes) and the
    # database through the proxy (a stalled database stalls its tasks too).
    worker_env = {**base, "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"]}
    running = Stack(
        db_proxy=db_proxy,
        broker_proxy=broker_proxy,
        env=web_env,
        worker_env=worker_env,
        url=f"http://127.0.0.1:{_free_port()}",
    )
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # the test's own sweeps go to the real worker
    app.control.purge()
    try:
        running.start_server()
        running.start_worker()
        yield running
    finally:
        app.conf.task_always_eager = was_eager
        running.stop()
        db_proxy.stop()
        broker_proxy.stop()


@pytest.fixture
def fault_settings(settings):
    """The test process sweeps as beat would, with the same short times as the processes."""
    settings.OUTBOX_REDELIVER_AFTER = 2.0
    settings.SWEEP_GRACE = 1.0
    settings.SWEEP_REDRIVE_EVERY = 5.0
    settings.REPORT_DEADLINE = 120.0
    return settings


@pytest.fixture(scope="module")
def people(stack, django_db_blocker) -> Iterator[dict[str, Any]]:
    """The demo world with its ethics committee, once for the module, committed.

    Not a transactional test database: its flush between tests would recreate content types
    and permissions under new ids, which the long-lived gunicorn and worker processes have
    cached. The scenarios make their own requests, so they share the world; it is flushed when
    the module ends.
    """
    from django.core.management import call_command

    from accounts.models import User
    from demo.requests_world import _board
    from demo.world import seed_demo

    with django_db_blocker.unblock():
        seed_demo(with_requests=False)
        by_email = {u.email: u for u in User.objects.filter(is_machine=False)}
        _board(by_email, by_email["owner@demo.lifes.test"].memberships.get().organisation)
    yield {email.split("@")[0]: user for email, user in by_email.items()}
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def fault_db(django_db_blocker) -> Iterator[None]:
    """Database access for a scenario, in autocommit: what it writes is what the processes see."""
    with django_db_blocker.unblock():
        yield
