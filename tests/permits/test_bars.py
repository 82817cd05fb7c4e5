"""A bar set by a revocation can be lifted by the dataset's steward, on a page and in the API;
nobody else can lift it, and a refusal changes nothing."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from permits.services import permit_revoke
from requests_app.models import AccessBar

from .conftest import DATASET


@pytest.fixture
def bar(permit, consented) -> AccessBar:
    permit_revoke(actor=consented["owner"], number=permit.number, reason="Misuse.")
    return AccessBar.objects.get(user=consented["requester"], lifted_at__isnull=True)


@pytest.mark.django_db
def test_the_steward_sees_the_bar_and_lifts_it_on_the_page(bar, consented, client):
    client.force_login(consented["owner"])

    dashboard = client.get("/requests/").content.decode()
    page = client.get("/requests/bars/").content.decode()
    lifted = client.post(f"/requests/bars/{bar.pk}/lift/")

    assert "/requests/bars/" in dashboard
    assert consented["requester"].email in page
    assert "Misuse." in page
    assert (lifted.status_code, lifted["Location"]) == (302, "/requests/bars/")
    bar.refresh_from_db()
    assert (bar.lifted_at is not None, bar.lifted_by) == (True, consented["owner"])
    event = AuditEvent.objects.get(action="access_bar.lift")
    assert event.payload == {"user": consented["requester"].email, "dataset": DATASET}
    assert consented["requester"].email not in client.get("/requests/bars/").content.decode()


@pytest.mark.django_db
def test_the_steward_lists_and_lifts_through_the_api(bar, consented, client):
    client.force_login(consented["owner"])

    listed = client.get("/api/v1/bars").json()
    lifted = client.post(f"/api/v1/bars/{bar.pk}/lift")
    again = client.post(f"/api/v1/bars/{bar.pk}/lift")

    assert [(b["id"], b["user"], b["dataset"]) for b in listed["results"]] == [
        (bar.pk, consented["requester"].email, DATASET)
    ]
    assert (lifted.status_code, lifted.json()["dataset"]) == (200, DATASET)
    assert (again.status_code, again.json()["code"]) == (409, "already_lifted")
    assert client.get("/api/v1/bars").json()["results"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["requester", "member1", "auditor"])
def test_others_neither_see_nor_lift_a_bar(bar, consented, client, who):
    client.force_login(consented[who])
    events = AuditEvent.objects.count()

    listed = client.get("/api/v1/bars").json()
    by_api = client.post(f"/api/v1/bars/{bar.pk}/lift")
    by_page = client.post(f"/requests/bars/{bar.pk}/lift/")

    assert listed["results"] == []
    assert by_api.status_code == 403
    assert by_page.status_code == 403  # the one error path: NotAllowed is the 403 page
    bar.refresh_from_db()
    assert bar.lifted_at is None
    assert AuditEvent.objects.count() == events
