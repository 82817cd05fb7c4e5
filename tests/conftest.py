"""Shared fixtures: the demo world, users of each role, an API client, a real Celery worker."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
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


# Tests that share something outside their own database: one xdist worker runs each group,
# one test after another. The Celery worker tests share the broker (a worker could take the
# other test's task and read the wrong test database); the README test serves on port 8000.
SERIAL_GROUPS = {
    "celery_worker_process": "real-celery-worker",
    "live_hub": "port-8000",
}


def pytest_collection_modifyitems(config, items):
    """Mark the browser tests (tests/e2e) ``browser``, the crawl ``crawl`` and the tests that
    serve their own hub on SQLite ``own_hub``, so that one CI leg runs them (``.ci/run``
    deselects them on PostgreSQL), and keep the tests of a
    SERIAL_GROUPS resource on one xdist worker (``--dist loadgroup``, see the Makefile)."""
    _by_database_use(items)
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if (ROOT / "tests" / "e2e") in path.parents:
            item.add_marker(pytest.mark.browser)
        if path == ROOT / "tests" / "test_crawl.py":
            item.add_marker(pytest.mark.crawl)
        if "live_hub" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.own_hub)
        for fixture, group in SERIAL_GROUPS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))


def pytest_configure(config):
    """Live servers (``live_server``) answer one request at a time when they share the test's
    database connection. With SQLite in memory Django hands every server thread the test
    thread's one connection object, so two requests in flight at once (the wizard's autosave
    and its submit) would run inside each other's transaction: one request's commit ends the
    other's ``atomic()`` half-way. ``make run`` and production give each thread its own
    connection; only this test shape shares one, so only it is serialized."""
    try:
        from django.test import testcases
    except ImportError:  # the pure-Python suites run without Django
        return
    testcases.LiveServerThread.server_class = _server_for_shared_connections()


def _server_for_shared_connections():
    import threading

    from django.core.servers.basehttp import ThreadedWSGIServer

    class OneRequestAtATime(ThreadedWSGIServer):
        _lock = threading.Lock()

        def set_app(self, application):
            if not self.connections_override:  # own connections (PostgreSQL): no need
                return super().set_app(application)
            lock = self._lock

            def serialized(environ, start_response):
                lock.acquire()
                try:
                    result = application(environ, start_response)
                except BaseException:
                    lock.release()
                    raise
                # A streamed body still reads the database: the lock is held until the
                # server closes the response (wsgiref calls close() after the last chunk).
                return _ReleasingBody(result, lock)

            return super().set_app(serialized)

    return OneRequestAtATime


class _ReleasingBody:
    def __init__(self, result, lock):
        self._result, self._lock = result, lock

    def __iter__(self):
        return iter(self._result)

    def close(self):
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            self._lock.release()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts and ends in the default language. A request with Accept-Language
    activates its language for the thread (LocaleMiddleware), and messages built at raise
    time (gettext) would otherwise come out in Dutch in whatever test runs next in the same
    process. A server activates each request's language anew, so only tests share it."""
    try:
        from django.utils import translation
    except ImportError:  # the pure-Python suites run without Django
        yield
        return
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _force_login_includes_second_factor(monkeypatch):
    """``client.force_login(user)`` stands for a finished sign-in, so for people whose role
    requires two-factor sign-in it also passes the second factor with a real TOTP device, as
    django-otp's own login does. Tests of the second factor itself sign in through the forms."""
    try:
        from django.conf import settings
        from django.test import Client
    except ImportError:  # the pure-Python suites run without Django
        return
    if settings.configured:
        from django.core.cache import cache

        cache.clear()  # rate-limit counters start from zero in every test
    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.selectors import has_authenticator, requires_two_factor

        if not (requires_two_factor(user) or has_authenticator(user)):
            return
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


def _transactional(item) -> bool:
    """Whether pytest-django runs ``item`` as a TransactionTestCase (its rule, in
    ``_django_db_helper``): such a test commits, so no module transaction may be open around it."""
    names = getattr(item, "fixturenames", ())
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & set(names):
        return True
    marker = item.get_closest_marker("django_db")
    return bool(
        marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    )


def _reads_the_cast(item) -> bool:
    return "world" in getattr(item, "fixturenames", ()) and not _transactional(item)


class _ModuleCast:
    """The demo cast of one module, built once in a transaction that stays open around the
    module's tests that read it (each test's own transaction nests as a savepoint and rolls back
    what the test wrote, as ``module_data``), and rolled back before any other test runs. The
    cast took a fifth of the suite's time on PostgreSQL when every test built its own."""

    open: _ModuleCast | None = None  # the one whose transaction is open now
    of_module: dict[object, _ModuleCast] = {}
    next_reads: bool = False  # whether the test being set up reads the cast

    def __init__(self, module, django_db_blocker) -> None:
        self.module = module
        self.people: dict[str, int] | None = None
        self._context = None
        self._blocker = django_db_blocker

    def start(self) -> None:
        from tests.factories import demo_cast

        self._context = module_data(self._blocker)
        self._context.__enter__()
        _ModuleCast.open = self
        self.people = {key: user.pk for key, user in demo_cast().items()}

    def end(self) -> None:
        if self._context is not None:
            context, self._context = self._context, None
            _ModuleCast.open, self.people = None, None
            context.__exit__(None, None, None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before a test's fixtures: a test that does not read its module's cast (or commits) runs
    outside the cast's transaction, so its database is as empty as it expects; one that reads it
    finds it open. The tests of a module run in the order that keeps it open longest
    (``_by_database_use``)."""
    reads = _reads_the_cast(item)
    module = getattr(item, "module", None)
    current = _ModuleCast.open
    if current is not None and (not reads or current.module is not module):
        current.end()
    _ModuleCast.next_reads = reads
    holder = _ModuleCast.of_module.get(module)
    if reads and holder is not None and _ModuleCast.open is None:
        holder.start()  # after a committing test of the same module, built anew


def _by_database_use(items: list) -> None:
    """Within each module, the tests that read no cast first, then those that read it, then those
    that commit: the cast is built once per module (``_ModuleCast``), where the tests' own order
    would end and rebuild it. Tests are independent; the order within each group is kept."""

    def group(item) -> int:
        if _transactional(item):
            return 2
        return 1 if _reads_the_cast(item) else 0

    modules: dict[object, int] = {}
    for item in items:
        modules.setdefault(getattr(item, "module", None), len(modules))
    position = {id(item): index for index, item in enumerate(items)}
    items.sort(
        key=lambda item: (
            modules[getattr(item, "module", None)],
            group(item),
            position[id(item)],
        )
    )


@pytest.fixture(scope="module")
def _cast_for_module(request, django_db_setup, django_db_blocker):
    holder = _ModuleCast(request.module, django_db_blocker)
    _ModuleCast.of_module[request.module] = holder
    if _ModuleCast.next_reads:
        holder.start()
    yield holder
    holder.end()
    del _ModuleCast.of_module[request.module]


@pytest.fixture
def world(_cast_for_module, db):
    """The demo's people, organisations, node, datasets and algorithms, built by the factories
    (tests/factories.py) without seed_demo's consent imports and requests (tests make their
    own); people by the part of their email before the @. ``demo_world`` is all of it.

    Built once per module where the tests allow (``_ModuleCast``); each test gets its own fresh
    instances of the people, and rolls back whatever it changes."""
    from accounts.models import User
    from tests.factories import demo_cast

    cast = _cast_for_module
    if _ModuleCast.open is not cast:
        return demo_cast()  # a test that commits: its own cast, flushed after it
    users = User.objects.in_bulk(cast.people.values())
    return {key: users[pk] for key, pk in cast.people.items()}


@pytest.fixture
def demo_world(db):
    """The whole demo world of seed_demo, without its demo requests: for the few tests that
    read the demo's consenting participants."""
    from demo.world import seed_demo

    seed_demo(with_requests=False)
    from accounts.models import User

    return {user.email.split("@")[0]: user for user in User.objects.filter(is_machine=False)}


@contextlib.contextmanager
def module_data(django_db_blocker):
    """Data built once for a module whose tests only use ``db``: inside this transaction, each
    test's own nests as a savepoint and rolls back what the test wrote, as Django's
    ``TestCase.setUpTestData`` does for a class; at the module's end all of it rolls back. Not
    for tests that commit (``transactional_db``, ``live_server``): they would flush it."""
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def demo_for_module(django_db_setup, django_db_blocker):
    """The whole demo (seed_demo), built once for the module (``module_data``): seed_demo takes
    3–6 s, and a module of eight tests that each ran it spent half a minute on the same rows."""
    from demo.world import seed_demo

    with module_data(django_db_blocker):
        seed_demo()
        yield


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

    # A queue of this worker's own, for the tasks this test sends and those the worker sends
    # on: no other consumer of the run's queue (another checkout's, a worker a crash left
    # behind) can take a task and answer from its own database.
    queue = f"lifes-worker-test-{uuid.uuid4().hex[:12]}"
    env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    was_eager, was_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False  # this test sends its tasks to the real broker
    app.conf.task_default_queue = queue  # a missing queue is declared when first used
    name = f"test-{os.getpid()}-{queue}@{socket.gethostname()}"
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
            name,
            "-Q",
            queue,
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.control.ping(destination=[name], timeout=1.0):
                break
            if worker.poll() is not None:
                pytest.fail("the Celery worker exited at start")
        else:
            pytest.fail("the Celery worker did not answer a ping within 60 s")
        yield worker
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = was_eager, was_queue
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


__all__ = ["module_data", "requires_broker", "requires_postgres", "wait_for", "event_count"]
