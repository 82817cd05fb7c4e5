"""A consent change re-runs the checks of the requests still under review on that dataset."""

from __future__ import annotations

import pytest

from consent.models import Participant
from consent.services import consent_withdraw
from requests_app import services
from requests_app.models import CheckResult
from tests.factories import consents_import
from tests.requests.conftest import fill_draft


@pytest.fixture
def world(world):
    """The factory world with consenting participants in the diabetes cohort (60 consent to
    research on diabetes mellitus), so the cohort check has people to count."""
    from catalogue.models import Dataset

    consents_import(
        Dataset.objects.get(slug="leiden-diabetes-cohort"),
        [(f"P{i:04d}", "DUO:0000007", "MONDO:0005015") for i in range(1, 61)],
    )
    return world


@pytest.mark.django_db
def test_a_withdrawal_updates_the_cohort_check_of_a_request_in_review(
    review, django_capture_on_commit_callbacks
):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(actor=review["requester"], request_id=request.pk)
    before = CheckResult.objects.get(request=request, name="cohort_size")
    counted = before.details
    dataset = review["diabetes"]
    pseudonym = (
        Participant.objects.filter(dataset=dataset)
        .order_by("pseudonym")
        .values_list("pseudonym", flat=True)
        .first()
    )

    with django_capture_on_commit_callbacks(execute=True):
        consent_withdraw(actor=None, dataset=dataset, pseudonym=pseudonym, note="By letter.")

    after = CheckResult.objects.get(request=request, name="cohort_size")
    assert after.pk != before.pk
    assert after.checked_at > before.checked_at
    assert counted["cohort_count"] > 10
    assert after.details["cohort_count"] == counted["cohort_count"] - 1
