"""#18 point 11 and the axe promise, across the crawl: the pages a demo person reaches by
following links (tests/test_crawl.py's rules) are no wider than a 360, 768 or 1,280 px viewport,
and axe-core finds no serious or critical violation on them. A sample, not every page: the first
page of each URL pattern (ids replaced), at most PER_PERSON per person, measured for each person
and read by axe for the first who reaches it (axe with its injection took ~0.3 s of each page's
~0.5 s; what differs between people on one kind of page, their forms and buttons, axe reads in
the journeys, tests/e2e/test_golden_path.py and test_journey_*.py). Signed in by session
cookie (the sign-in pages themselves are walked by test_golden_path), each person in English.
The demo's node has reported runs on every demo permit first, so permit pages carry receipts."""

from __future__ import annotations

import os
import re
from collections import deque

import pytest

from tests.e2e.conftest import AXE, full_demo, playwright_sync
from tests.e2e.helpers import SERIOUS, runs_recorded
from tests.test_crawl import SKIP

WIDTHS = (360, 768, 1280)
PEOPLE = ("", "requester", "member1", "chair", "owner", "auditor", "admin", "industry")
if os.environ.get("CRAWL_PEOPLE"):  # "requester,owner": crawl only these (while fixing a page)
    PEOPLE = tuple(os.environ["CRAWL_PEOPLE"].split(","))
#: Pages per person: enough to reach every kind of page the person has (lists, details,
#: wizard sections, permits, reports), bounded so the test stays a few minutes long.
PER_PERSON = 45
LINK_JS = (
    "Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
    ".filter(h => h.startsWith('/'))"
)
WIDTH_JS = "[document.documentElement.scrollWidth, window.innerWidth]"
RUNS_JS = "document.querySelectorAll('table.receipts tbody tr').length"
#: The innermost elements sticking out on the right: what to fix when a page is too wide.
CULPRITS_JS = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
    && !Array.from(e.children).some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
    + ' ' + (e.textContent || '').trim().slice(0, 30))"""
AXE_JS = (
    "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3)"
    ".map(n => n.target.join(' '))}))"
)


def _kind(path: str) -> str:
    """Pages of one kind (every request page, every permit) are checked once per person: the
    layout is the template's, and the crawl must stay short."""
    path = path.split("?", 1)[0]
    return re.sub(r"/(LIFES-[A-Z]+-\d{4}-\d+(?:-v\d+)?|\d+|[0-9a-f-]{36})(?=/|$)", "/<id>", path)


def _session_cookie(user, base: str) -> dict:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base,
    }


@pytest.fixture
def demo_site(transactional_db, live_server, tmp_path):
    """The demo, and several runs its node reports on each permit (the demo seeds none): the
    receipts table once made the permit page 1,613 px wide at 1,280 px."""
    from permits.models import Permit

    full_demo()
    for permit in Permit.objects.order_by("pk"):
        runs_recorded(permit, tmp_path / permit.number)
    return live_server.url


def test_no_page_is_wider_than_its_viewport_and_axe_finds_nothing_serious(browser, demo_site):
    from accounts.models import User

    too_wide: list[tuple] = []
    violations: list[tuple] = []
    checked: set[tuple[str, str]] = set()
    axed: set[str] = set()  # kinds of page axe has read, as the first person to reach them
    pages = 0
    with_runs: list[tuple[str, str]] = []  # pages measured with a receipts table on them
    for person in PEOPLE:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True
        )
        if person:
            user = User.objects.get(email=f"{person}@demo.lifes.test")
            context.add_cookies([_session_cookie(user, demo_site)])
        page = context.new_page()
        seen: set[str] = set()
        queue = deque(["/", "/requests/"] if person else ["/"])
        done = 0
        while queue and done < PER_PERSON:
            path = queue.popleft().replace("&amp;", "&")
            if (
                path in seen
                or path.startswith(SKIP)
                or path.endswith((".csv", ".pdf", ".json", ".svg", ".jwt"))
                or "/download" in path
            ):
                continue
            seen.add(path)
            if (person, _kind(path)) in checked:
                continue
            try:
                response = page.goto(demo_site + path)
            except playwright_sync.Error:  # a file download (attachments, exports)
                continue
            if (
                response is None
                or response.status >= 400
                or "text/html" not in (response.headers.get("content-type") or "")
            ):
                continue
            checked.add((person, _kind(path)))
            done += 1
            if page.evaluate(RUNS_JS):
                with_runs.append((person, _kind(path)))
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                scroll, inner = page.evaluate(WIDTH_JS)
                if scroll > inner:
                    culprits = page.evaluate(CULPRITS_JS)
                    too_wide.append((person or "public", path, width, scroll, culprits))
            page.set_viewport_size({"width": 1280, "height": 900})
            if _kind(path) not in axed:
                axed.add(_kind(path))
                page.add_script_tag(path=str(AXE))
                serious = [v for v in page.evaluate(AXE_JS) if v["impact"] in SERIOUS]
                if serious:
                    violations.append((person or "public", path, serious))
            queue.extend(page.evaluate(LINK_JS))
        pages += done
        context.close()

    assert too_wide == [], "\n".join(map(str, too_wide))
    assert violations == [], "\n".join(map(str, violations))
    assert pages > 10 * len(PEOPLE)
    # the permit pages measured carried the runs (whoever of the people reached them first)
    assert any(kind == "/permits/<id>/" for _, kind in with_runs), with_runs
