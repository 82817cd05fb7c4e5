"""EHDS Art. 68 in a real browser: an invited team member without an account opens the link
from the invitation email, creates the account, reads the terms in full and accepts them; only
then is the permit active."""

from __future__ import annotations

import re

import pytest

DATASET = "leiden-diabetes-cohort"
INVITEE = "newcomer@uni.example"


def _awaiting_permit():
    """Through the services: a request for the diabetes cohort with an invited member who has
    no account; the requester accepts; the boards and owner approve; the permit waits."""
    from accounts.models import User
    from demo.permits_world import approve_request
    from permits.models import Permit
    from permits.services import permit_issue
    from requests_app import services
    from requests_app.models import AccessRequest, RequestState
    from tests.requests.conftest import fill_draft

    requester = User.objects.get(email="requester@demo.lifes.test")
    request = fill_draft(requester, [DATASET], title="Invitation journey")
    services.team_member_invite(
        actor=requester, request_id=request.pk, email=INVITEE, role="Analyst"
    )
    approve_request(request)
    if AccessRequest.objects.get(pk=request.pk).state == RequestState.APPROVED:
        permit_issue(actor=None, request_id=request.pk)
    return request, Permit.objects.get(request=request)


def _invitation_path() -> str:
    from outbox.models import OutboxMessage

    for message in OutboxMessage.objects.filter(effect="mail.send").order_by("-pk"):
        if INVITEE in message.payload.get("recipients", []):
            found = re.search(r"/requests/invitations/[^/\s]+/", message.payload["body"])
            if found:
                return found.group(0)
    raise AssertionError("no invitation email in the outbox")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_invited_member_creates_an_account_and_accepts_the_terms(people, e2e_world, lang):
    from permits.models import PermitStatus

    request, permit = _awaiting_permit()
    assert permit.status == PermitStatus.AWAITING_ACCEPTANCE

    newcomer = people(lang)
    newcomer.goto("/")
    newcomer.switch_language()
    newcomer.email = INVITEE
    newcomer.goto(_invitation_path())
    newcomer.step("invitation")
    newcomer.page.fill("input[name=full_name]", "Nina Newcomer")
    newcomer.page.fill("input[name=password]", "a-long-and-fresh-password-2026")
    newcomer.submit("main form button[type=submit]")
    assert newcomer.page.url.endswith(request.get_absolute_url()), newcomer.page.inner_text("main")
    assert newcomer.page.locator(".terms-text").count() >= 1
    newcomer.step("request")

    newcomer.submit("form[action$='/act/accept_terms/'] button[type=submit]")
    newcomer.step("accepted")

    permit.refresh_from_db()
    assert permit.status == PermitStatus.ACTIVE
    assert permit.token
    newcomer.goto(permit.get_absolute_url())
    assert newcomer.page.locator(".state-active").count() == 1
    newcomer.step("permit")
    # Accessibility on every page; English that escaped translation on the existing request
    # and permit pages is the Dutch-completeness work's (the new pages' strings are translated).
    assert "axe" not in newcomer.problems, newcomer.problems["axe"]
    leaked = [s for _n, _u, found in newcomer.problems.get("english", []) for s in found]
    assert not [s for s in leaked if "terms" in s or "invit" in s or "account" in s], leaked
