"""Screenshots of the golden path for the README (docs/screenshots/), taken from the demo in
a real browser: ``LIFES_SCREENSHOTS=1 pytest tests/e2e/test_screenshots.py`` writes them there;
without it they go to test-artifacts/screenshots/ (the test still walks every page, so a page
that breaks fails here too)."""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import ARTIFACTS, ROOT, full_demo
from tests.e2e.test_crawl_layout import _session_cookie

DOCS = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _shots() -> list[tuple[str, str, str, dict, str]]:
    """(file name, person, path, viewport, language) along the golden path of the demo."""
    from permits.models import Permit
    from requests_app.models import AccessRequest

    permit = Permit.objects.order_by("pk").first()
    in_review = AccessRequest.objects.filter(state="in_review").order_by("pk").first()
    return [
        ("01-catalogue", "", "/catalogue/", DESKTOP, "en"),
        ("02-dataset", "", "/catalogue/leiden-diabetes-cohort/", DESKTOP, "en"),
        ("03-dashboard", "requester", "/requests/", DESKTOP, "en"),
        (
            "04-request-checks-timeline",
            "requester",
            permit.request.get_absolute_url(),
            DESKTOP,
            "en",
        ),
        ("05-board-member-review", "member1", in_review.get_absolute_url(), DESKTOP, "en"),
        ("06-permit", "requester", permit.get_absolute_url(), DESKTOP, "en"),
        ("07-register", "", "/register/", DESKTOP, "en"),
        ("08-audit-explorer", "auditor", "/audit/", DESKTOP, "en"),
        ("09-metrics", "auditor", "/reports/metrics/", DESKTOP, "en"),
        ("10-request-nl", "requester", permit.request.get_absolute_url(), DESKTOP, "nl"),
        ("11-permit-phone", "requester", permit.get_absolute_url(), PHONE, "en"),
    ]


@pytest.fixture
def demo_site(transactional_db, live_server):
    full_demo()
    return live_server.url


def test_golden_path_screenshots(browser, demo_site):
    from django.conf import settings

    from accounts.models import User

    folder = DOCS if os.environ.get("LIFES_SCREENSHOTS") else ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    for name, person, path, viewport, lang in _shots():
        context = browser.new_context(viewport=viewport, locale="en-GB")
        cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": demo_site}]
        if person:
            user = User.objects.get(email=f"{person}@demo.lifes.test")
            cookies.append(_session_cookie(user, demo_site))
        context.add_cookies(cookies)
        page = context.new_page()
        response = page.goto(demo_site + path)
        assert response is not None
        assert response.status == 200, (name, path, response.status)
        assert page.locator("html").get_attribute("lang") == lang
        target = folder / f"{name}.jpg"
        page.screenshot(path=str(target), full_page=True, type="jpeg", quality=70)
        taken.append(target)
        context.close()
    assert all(path.stat().st_size > 10_000 for path in taken)
