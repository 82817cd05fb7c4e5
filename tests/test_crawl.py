"""Every page a demo person can reach by following links answers without a server error."""

from __future__ import annotations

import re
from collections import deque

import pytest

from demo.world import seed_demo

LINK = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/admin/", "/static/", "/media/", "/api/docs", "/api/schema", "/i18n/", "/accounts/logout")
PEOPLE = ("requester", "chair", "member1", "owner", "auditor", "admin", "industry")


def crawl(client, start: str, limit: int = 120) -> dict[str, int]:
    seen: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        path = queue.popleft().replace("&amp;", "&")
        if path in seen or path.startswith(SKIP):
            continue
        response = client.get(path)
        seen[path] = response.status_code
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("text/html"):
            queue.extend(LINK.findall(response.content.decode()))
    return seen


@pytest.mark.django_db
@pytest.mark.parametrize("person", PEOPLE)
def test_no_reachable_page_is_a_server_error(client, person):
    seed_demo()
    from accounts.models import User

    client.force_login(User.objects.get(email=f"{person}@demo.lifes.test"))
    seen = crawl(client, "/requests/")
    seen.update(crawl(client, "/"))
    errors = {path: status for path, status in seen.items() if status >= 500}
    assert errors == {}
    assert len(seen) > 10


@pytest.mark.django_db
def test_no_public_page_is_a_server_error(client):
    seed_demo()
    seen = crawl(client, "/")
    assert {p: s for p, s in seen.items() if s >= 500} == {}
    assert seen["/register/"] == 200
