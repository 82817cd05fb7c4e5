"""The request form can be completed with the keyboard alone."""

from __future__ import annotations

DATASET = "leiden-diabetes-cohort"


def _tab_to(page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def test_requester_fills_wizard_sections_with_the_keyboard_only(people):
    from accounts.models import User
    from requests_app import services
    from requests_app.models import AccessRequest

    requester = people("en")
    requester.sign_in("requester@demo.lifes.test")
    draft = services.request_create(
        actor=User.objects.get(email="requester@demo.lifes.test"), title="Keyboard only"
    )
    requester.goto(f"/requests/{draft.reference}/edit/people/")
    page = requester.page

    # the first Tab reaches the skip link, which jumps to the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")

    # section 2, typed: Tab between the fields, Enter on the button
    _tab_to(page, "input[name=pi_name]")
    page.keyboard.type("Kim Keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type("kim@demo.lifes.test")
    _tab_to(page, "#section-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/edit/data/" in page.url
    requester.step("keyboard-people")

    # section 3, ticked with Space
    _tab_to(page, f"input[data-slug='{DATASET}']")
    page.keyboard.press("Space")
    _tab_to(page, "#section-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/edit/settings/" in page.url
    requester.step("keyboard-data")

    draft = AccessRequest.objects.get(pk=draft.pk)
    assert (draft.pi_name, draft.pi_email) == ("Kim Keyboard", "kim@demo.lifes.test")
    assert list(draft.datasets.values_list("slug", flat=True)) == [DATASET]
    assert not requester.problems
