"""On a tablet (768×1024, portrait) no page scrolls sideways."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

TABLET = {"width": 768, "height": 1024}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_pages_fit_a_tablet_without_sideways_scrolling(people, lang):
    from accounts.models import User
    from requests_app import services

    requester = people(lang, viewport=TABLET)
    requester.sign_in("requester@demo.lifes.test")
    draft = services.request_create(
        actor=User.objects.get(email="requester@demo.lifes.test"), title="Tablet layout"
    )
    overflowing = []
    for name, path in [
        ("home", "/"),
        ("catalogue", "/catalogue/"),
        ("dashboard", "/requests/"),
        ("wizard", f"/requests/{draft.reference}/edit/project/"),
        ("wizard-data", f"/requests/{draft.reference}/edit/data/"),
        ("request", f"/requests/{draft.reference}/"),
    ]:
        requester.goto(path)
        requester.step(f"tablet-{name}", check=False)
        ARTIFACTS.mkdir(exist_ok=True)
        requester.page.screenshot(path=str(ARTIFACTS / f"tablet-{lang}-{name}.png"), full_page=True)
        width = requester.page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if width[0] > width[1]:
            overflowing.append((name, width))

    assert overflowing == []
