"""The amendment form (#18 point 3, EHDS Art. 68): the permit holder asks for a renewal with a
form of what changes and why, in the browser; the request goes to review as a new round with
its own label (not "changes requested"), and "Close the request" says the permit ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone


def _permitted_request():
    from accounts.models import User
    from demo.permits_world import approve_request
    from permits.services import permit_issue
    from requests_app.models import RequestState
    from tests.permits.conftest import DATASET
    from tests.requests.conftest import fill_draft

    requester = User.objects.get(email="requester@demo.lifes.test")
    today = timezone.localdate()
    request = fill_draft(
        requester,
        [DATASET],
        title="Glycaemic control and BMI",
        answers={"period_start": today, "period_end": today + dt.timedelta(days=365)},
    )
    request = approve_request(request)
    if request.state == RequestState.APPROVED:
        permit_issue(actor=None, request_id=request.pk)
    request.refresh_from_db()
    assert request.state == RequestState.PERMITTED
    return request


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_holder_asks_for_a_renewal_with_the_form(people, lang):
    from requests_app.models import Amendment, RequestState

    request = _permitted_request()
    permit = request.permits.get()
    requester = people(lang)
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(request.get_absolute_url())
    page = requester.page
    form = page.locator("form[data-action=amend]")
    assert form.is_visible()
    requester.step("amendment-form")
    if lang == "nl":
        assert "Waarom de wijziging nodig is" in form.inner_text()

    form.locator("input[name=kind][value=renewal]").check()
    form.locator("textarea[name=changes]").fill("Six more months for the follow-up.")
    form.locator("textarea[name=reason]").fill("Recruitment took longer than planned.")
    new_end = request.period_end + dt.timedelta(days=182)
    form.locator("input[name=new_period_end]").fill(new_end.isoformat())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    requester.step("amendment-sent")

    amendment = Amendment.objects.get(request=request)
    assert (amendment.kind, amendment.new_period_end) == ("renewal", new_end)
    assert amendment.permit_number == permit.number
    request.refresh_from_db()
    assert request.state in (RequestState.SUBMITTED, RequestState.IN_REVIEW)
    assert page.locator(".amendment-pending").is_visible()
    assert permit.number in page.locator(".amendment-pending").inner_text()
    assert page.locator(".state-changes_requested").count() == 0
    # axe on both pages and, in Dutch, no English msgid on either but in what people typed
    # (helpers.USER_TEXT: the request's answers and the amendment's reasons above are English)
    assert not requester.problems, requester.problems
    if lang == "nl":
        block = page.locator("#after-decision").inner_text()
        assert "Wat verandert:" in block
        assert "What changes" not in block
        assert "in beoordeling" in page.locator(".amendment-pending").inner_text()


def test_closing_says_the_permit_ends(people):
    request = _permitted_request()
    requester = people("en")
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(request.get_absolute_url())
    page = requester.page

    with page.expect_navigation():
        page.locator(f"form[action$='/{request.reference}/act/close/'] button").click()

    text = page.inner_text("main")
    assert "its permit ends with it" in text
    assert "revocation list" in text
    requester.step("close-confirmation")
    assert not requester.problems
