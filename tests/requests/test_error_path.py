"""One error path: a violated constraint is told in words with its field (never its name), a
domain error a page lets through is its status and message, and the team's error path works."""

from __future__ import annotations

import pytest
from django.utils import translation

from audit.models import AuditEvent
from lifes.errors import InvalidInput
from requests_app import services
from tests.requests.conftest import fill_draft


@pytest.mark.django_db
def test_a_period_that_ends_before_it_starts_is_a_field_error_in_the_api(review, client):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])
    events = AuditEvent.objects.count()

    response = client.patch(
        f"/api/v1/requests/{request.reference}",
        {"period_start": "2027-06-01", "period_end": "2027-01-01"},
        content_type="application/json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["period_end"] == ["The end of the period must come after its start."]
    assert "request_period_ordered" not in response.content.decode()
    assert "Constraint" not in response.content.decode()
    request.refresh_from_db()
    assert str(request.period_end) == "2027-11-30"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_the_same_in_dutch(review, client):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])

    response = client.patch(
        f"/api/v1/requests/{request.reference}",
        {"period_start": "2027-06-01", "period_end": "2027-01-01"},
        content_type="application/json",
        headers={"accept-language": "nl"},
    )

    assert response.json()["errors"]["period_end"] == [
        "Het einde van de periode moet na het begin liggen."
    ]


@pytest.mark.django_db
def test_removing_someone_not_on_the_team_is_a_clear_400_not_a_500(review, client):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])

    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        services.team_member_remove(
            actor=review["requester"], request_id=request.pk, email="nobody@demo.lifes.test"
        )
    response = client.post(
        f"/api/v1/requests/{request.reference}/team-remove",
        {"email": "nobody@demo.lifes.test"},
        content_type="application/json",
    )

    assert refused.value.errors == {"email": ["Not on the team."]}
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"email": ["Not on the team."]},
    )


@pytest.mark.django_db
def test_a_team_member_is_removed_through_the_api(review, client):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    services.team_member_invite(
        actor=review["requester"], request_id=request.pk, email="colleague@demo.lifes.test"
    )
    client.force_login(review["requester"])

    response = client.post(
        f"/api/v1/requests/{request.reference}/team-remove",
        {"email": "colleague@demo.lifes.test"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert "colleague@demo.lifes.test" not in [m["email"] for m in response.json()["team"]]
    assert AuditEvent.objects.filter(action="request.team_remove").count() == 1


@pytest.mark.django_db
def test_a_domain_error_a_page_lets_through_is_its_status_and_message(review, client):
    # access_bar_lift on a bar that does not exist: NotAllowed, which the view does not catch
    client.force_login(review["requester"])

    response = client.post("/requests/bars/999999/lift/")

    assert response.status_code == 403
