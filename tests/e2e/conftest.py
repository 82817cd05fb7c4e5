"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's
live_server. No browser download: the Python package ships its driver, the browser is apt's."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the fixtures make are
# still synchronous, so Django's async guard must stand aside for these tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("LIFES_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PASSWORD = "demo-lifes-2026"

# In CI the browser tests must run: a missing browser is a failure there, not a skip.
if os.environ.get("CI") and not Path(CHROMIUM).exists():
    raise RuntimeError(f"CI: no Chromium at {CHROMIUM}; `make test` installs Debian's chromium")
playwright_sync = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(request):
    """Screenshots kept in test-artifacts/<test>/ only when the test fails: each person's last
    page, and every step's with ``LIFES_E2E_STEP_SHOTS=1`` (helpers.py)."""
    taken: list[tuple[str, bytes]] = []
    yield taken
    failed = any(
        getattr(request.node, f"rep_{when}", None) is not None
        and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    if failed and taken:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for number, (name, data) in enumerate(taken, 1):
            (folder / f"{number:02d}-{name}.png").write_bytes(data)


@pytest.fixture
def people(browser, e2e_world, shots, request):
    """Opens a browser context per person; on failure keeps a last screenshot of each page."""
    from tests.e2e.helpers import Person

    opened: list[Person] = []

    def open_person(lang: str, **kwargs) -> Person:
        someone = Person(browser, e2e_world, lang, shots, **kwargs)
        opened.append(someone)
        return someone

    open_person.opened = opened
    yield open_person
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for someone in opened:
        if failed:
            who = someone.email.split("@")[0] or "public"
            shots.append((f"last-{someone.lang}-{who}", someone.page.screenshot(full_page=True)))
        someone.close()


#: The databases built once per test process (an in-memory SQLite database each), by name.
_BUILT: dict[str, object] = {}


def built_once(name: str, build) -> None:
    """Runs ``build`` (which fills the test database: seed_demo and the like) in the first test
    of this process that asks for ``name``, keeps a copy of the database it leaves, and gives
    every later test that copy instead: SQLite's online backup copies the pages in
    milliseconds, where seed_demo takes 3–6 s a test. Each test still starts from the same
    rows, with the same ids; what it writes is flushed after it as before. Files the build
    wrote (uploads, in this worker's MEDIA_ROOT) stay where they are. Other databases, and a
    SQLite database on disk, run ``build`` every time."""
    import sqlite3

    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache
    from django.db import connection

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        build()
        return
    connection.ensure_connection()
    copy = _BUILT.get(name)
    if copy is None:
        build()
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(copy)
        _BUILT[name] = copy
        return
    copy.backup(connection.connection)
    # What this process remembers of rows the flush removed: the copy's rows are the truth.
    ContentType.objects.clear_cache()
    cache.clear()


def full_demo() -> None:
    """The whole demo (``seed_demo``), built once per process (``built_once``): the register,
    the journeys, the layout crawl and the screenshots each ran it, 6 s a time."""
    from demo.world import seed_demo

    built_once("full_demo", seed_demo)


def _e2e_world() -> None:
    from accounts.models import Organisation, User
    from demo.requests_world import _board
    from demo.world import seed_demo

    seed_demo(with_requests=False)
    users = {user.email: user for user in User.objects.filter(is_machine=False)}
    _board(users, Organisation.objects.get(name="Leiden University Medical Center"))


@pytest.fixture
def e2e_world(transactional_db, live_server):
    """The demo accounts, datasets and the ethics committee, served on 127.0.0.1."""
    built_once("e2e_world", _e2e_world)
    return live_server.url
