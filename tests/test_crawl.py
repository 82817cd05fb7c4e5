"""Every page a demo person can reach by following links answers without a server error, and
carries the Content-Security-Policy and Permissions-Policy headers."""

from __future__ import annotations

import re
from collections import deque

import pytest

LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/admin/", "/static/", "/media/", "/api/docs", "/api/schema", "/i18n/", "/accounts/logout")
#: One demo for the module: every test here only reads it (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("demo_for_module")
PEOPLE = ("requester", "chair", "member1", "owner", "auditor", "admin", "industry")


CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def policy(header: str | None) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: sources} (directive order is free)."""
    directives = (part.split() for part in (header or "").split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def crawl(
    client, start: str, limit: int = 120, unguarded: list | None = None, on_page=None
) -> dict[str, int]:
    """Follow links from ``start``; paths whose answer lacks the security headers go into
    ``unguarded``; ``on_page(path, html)`` sees each HTML page that answered 200."""
    seen: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        path = queue.popleft().replace("&amp;", "&")
        if path in seen or path.startswith(SKIP):
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if unguarded is not None and (
            policy(response.get("Content-Security-Policy")) != CSP
            or "camera=()" not in response.get("Permissions-Policy", "")
        ):
            unguarded.append(path)
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("text/html"):
            html = response.content.decode()
            if on_page is not None:
                on_page(path, html)
            queue.extend(LINK.findall(html))
    return seen


@pytest.mark.django_db
@pytest.mark.parametrize("person", PEOPLE)
def test_no_reachable_page_is_a_server_error(client, person):
    from accounts.models import User

    client.force_login(User.objects.get(email=f"{person}@demo.lifes.test"))
    unguarded: list[str] = []
    seen = crawl(client, "/requests/", unguarded=unguarded)
    seen.update(crawl(client, "/", unguarded=unguarded))
    errors = {path: status for path, status in seen.items() if status >= 500}
    assert errors == {}
    assert len(seen) > 10
    assert unguarded == []


@pytest.mark.django_db
def test_no_public_page_is_a_server_error(client):
    unguarded: list[str] = []
    seen = crawl(client, "/", unguarded=unguarded)
    assert {p: s for p, s in seen.items() if s >= 500} == {}
    assert unguarded == []
    assert seen["/register/"] == 200


@pytest.mark.django_db
def test_every_page_of_the_crawl_is_laid_out_for_phones(client):
    """The viewport meta tag is what lets a phone lay a page out at its own width (the
    widths themselves are measured in a browser: tests/e2e/test_crawl_layout.py)."""
    from accounts.models import User

    client.force_login(User.objects.get(email="requester@demo.lifes.test"))
    pages, missing = [], []

    def check(path: str, html: str) -> None:
        pages.append(path)
        if '<meta name="viewport" content="width=device-width, initial-scale=1">' not in html:
            missing.append(path)

    crawl(client, "/requests/", limit=60, on_page=check)
    assert len(pages) > 10
    assert missing == []


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in_not_told_nothing_exists(client):
    for path in ("/audit/", "/requests/", "/reports/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path
