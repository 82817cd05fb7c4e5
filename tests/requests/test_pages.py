"""Every page of the request flow renders for every demo person who may see it (no 500s)."""

from __future__ import annotations

import pytest

from accounts.models import User
from requests_app.application_form import current_templates, merge
from requests_app.models import AccessRequest
from requests_app.selectors import requests_visible_to

#: One demo for the module: each test rolls back what it changes (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("demo_for_module")


@pytest.mark.django_db
def test_every_demo_person_can_open_every_request_page_they_may_see(client):
    states = set(AccessRequest.objects.values_list("state", flat=True))
    assert {"draft", "in_review", "changes_requested", "rejected", "withdrawn", "closed"} <= states
    people = User.objects.filter(is_machine=False)
    for person in people:
        client.force_login(person)
        assert client.get("/requests/").status_code == 200, person
        visible = set(requests_visible_to(person).values_list("reference", flat=True))
        for request in AccessRequest.objects.all():
            response = client.get(f"/requests/{request.reference}/")
            expected = 200 if request.reference in visible else 404
            assert response.status_code == expected, (person.email, request.reference)
            if expected == 200 and request.round > 0:
                body = response.content.decode()
                assert "Safe project" in body
                assert "Submitted answers" in body
                assert "GDPR Art. 6 legal basis" in body  # labels, not field names


@pytest.mark.django_db
def test_the_wizard_renders_every_section_of_a_draft(client):
    draft = AccessRequest.objects.get(state="draft")
    client.force_login(draft.requester)
    # the sections come from the default form template now (one home for the questions)
    for section in (*merge(current_templates()).section_keys, "review"):
        response = client.get(f"/requests/{draft.reference}/edit/{section}/")
        assert response.status_code == 200, section
    review = client.get(f"/requests/{draft.reference}/edit/review/").content.decode()
    assert "Some answers are still missing" in review
    assert client.get(f"/requests/{draft.reference}/edit/nonsense/").status_code == 404


@pytest.mark.django_db
def test_the_wizard_saves_a_section_and_moves_on(client):
    draft = AccessRequest.objects.get(state="draft")
    client.force_login(draft.requester)
    response = client.post(
        f"/requests/{draft.reference}/edit/outputs/",
        {
            "expected_outputs": "Means per group",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/edit/review/")
    draft.refresh_from_db()
    assert draft.expected_outputs == "Means per group"


@pytest.mark.django_db
def test_irreversible_actions_ask_for_confirmation_first(client):
    draft = AccessRequest.objects.get(state="draft")
    client.force_login(draft.requester)
    first = client.post(f"/requests/{draft.reference}/act/withdraw/", {"reason": "x"})
    assert first.status_code == 200
    assert "cannot be undone" in first.content.decode()
    draft.refresh_from_db()
    assert draft.state == "draft"
    client.post(f"/requests/{draft.reference}/act/withdraw/", {"reason": "x", "confirmed": "yes"})
    draft.refresh_from_db()
    assert draft.state == "withdrawn"
