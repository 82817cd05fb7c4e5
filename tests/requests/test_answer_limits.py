"""Free-text answers have maximum lengths, the same in the form, the API and the service; a
longer answer is a field error and nothing is saved."""

from __future__ import annotations

import pytest

from lifes.errors import InvalidInput
from requests_app import services
from requests_app.models import AccessRequest
from tests.requests.conftest import fill_draft

LIMITS = {
    "lay_summary": 2000,
    "scientific_abstract": 5000,
    "commercial_interests": 2000,
    "dpia_summary": 5000,
    "expected_outputs": 3000,
}


def test_the_limits_live_on_the_model():
    assert {f: AccessRequest._meta.get_field(f).max_length for f in LIMITS} == LIMITS


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "limit"), sorted(LIMITS.items()))
def test_an_answer_at_the_limit_is_saved_and_one_past_it_is_refused_everywhere(
    review, client, field, limit
):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])

    ok = client.patch(
        f"/api/v1/requests/{request.reference}",
        {field: "x" * limit},
        content_type="application/json",
    )
    assert ok.status_code == 200
    saved = getattr(AccessRequest.objects.get(pk=request.pk), field)
    assert len(saved) == limit

    api = client.patch(
        f"/api/v1/requests/{request.reference}",
        {field: "y" * (limit + 1), "title": "Changed"},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert api.json()["errors"] == {
        field: [f"Ensure this field has no more than {limit} characters."]
    }
    with pytest.raises(InvalidInput) as refused:
        services.request_update(
            actor=review["requester"], request_id=request.pk, changes={field: "z" * (limit + 1)}
        )
    assert field in refused.value.errors
    section = "settings" if field == "dpia_summary" else "outputs"
    if field in ("lay_summary", "scientific_abstract", "commercial_interests"):
        section = "project"
    form = client.post(
        f"/requests/{request.reference}/edit/{section}/",
        {field: "w" * (limit + 1), "title": "Changed"},
        HTTP_X_AUTOSAVE="1",
    )
    assert form.status_code == 400
    assert field in form.json()["errors"]
    after = AccessRequest.objects.get(pk=request.pk)
    assert (getattr(after, field), after.title) == (saved, "Glycaemic control and BMI")
