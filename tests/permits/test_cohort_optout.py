"""The cohort a node fetches for a permit: EHDS opt-out versus GDPR withdrawal (issue 12,
point 5), and the materialised cohort that serves repeated fetches (point 6).

Rules: an opt-out (EHDS Art. 71) applies to permits issued after it, so a permit issued before
the opt-out keeps the person in its cohort and a permit issued after leaves them out; a
withdrawal of consent applies from its time to every later run of every permit.
"""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from catalogue.models import Dataset
from consent.cohort import digest_of
from consent.models import MaterialisedCohort, Participant
from consent.services import consent_withdraw, participant_opt_out_record

from .conftest import DATASET, DEMO_NODE_TOKEN, approve, expected_cohort


@pytest.fixture
def node_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_NODE_TOKEN}")
    return client


def fetch(client: APIClient, permit) -> list[str]:
    response = client.get(f"/api/v1/node/permits/{permit.number}/cohorts/{DATASET}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["digest"] == digest_of(body["participants"])
    assert body["count"] == len(body["participants"])
    return body["participants"]


def backdate(permit, seconds: int = 5) -> None:
    """The permit was issued a few seconds ago (issue times are whole seconds)."""
    permit.issued_at -= dt.timedelta(seconds=seconds)
    permit.save(update_fields=["issued_at"])


@pytest.mark.django_db
def test_an_opt_out_after_a_permit_leaves_its_cohort_as_it_was(permit, node_client, consented):
    backdate(permit)
    before = fetch(node_client, permit)
    dataset = Dataset.objects.get(slug=DATASET)
    leaver = before[0]

    participant_opt_out_record(actor=consented["owner"], dataset=dataset, pseudonym=leaver)

    assert fetch(node_client, permit) == before  # issued before the opt-out: still included
    # Any cohort asked for now (a permit issued now) leaves them out.
    assert leaver not in expected_cohort()


@pytest.mark.django_db
def test_an_opt_out_before_a_permit_leaves_the_person_out(consented, node_client):
    from permits.services import permit_issue

    dataset = Dataset.objects.get(slug=DATASET)
    everyone = expected_cohort()
    leaver = everyone[1]
    participant_opt_out_record(actor=consented["owner"], dataset=dataset, pseudonym=leaver)

    permit = permit_issue(actor=None, request_id=approve(consented).pk)

    assert fetch(node_client, permit) == [p for p in everyone if p != leaver]
    assert permit.permit_datasets.get().cohort_count == len(everyone) - 1


@pytest.mark.django_db
def test_a_withdrawal_applies_to_the_next_run_of_an_earlier_permit(permit, node_client, consented):
    backdate(permit)
    before = fetch(node_client, permit)
    dataset = Dataset.objects.get(slug=DATASET)

    consent_withdraw(actor=consented["owner"], dataset=dataset, pseudonym=before[2])

    assert fetch(node_client, permit) == [p for p in before if p != before[2]]


@pytest.mark.django_db
def test_the_cohort_is_computed_once_and_served_until_consent_changes(
    permit, node_client, consented, django_assert_max_num_queries
):
    first = fetch(node_client, permit)
    stored = MaterialisedCohort.objects.get(key=f"permit:{permit.number}")
    assert (stored.count, stored.digest) == (len(first), digest_of(first))

    # Served: no cohort query at all, the stored result is read (one row).
    with django_assert_max_num_queries(12) as captured:
        assert fetch(node_client, permit) == first
    assert not any("consent_consentprovision" in q["sql"] for q in captured.captured_queries)
    assert MaterialisedCohort.objects.get(pk=stored.pk).computed_at == stored.computed_at

    # A consent change moves the version: the stored result is dropped and computed anew.
    dataset = Dataset.objects.get(slug=DATASET)
    consent_withdraw(actor=consented["owner"], dataset=dataset, pseudonym=first[0])
    assert not MaterialisedCohort.objects.filter(pk=stored.pk).exists()
    assert fetch(node_client, permit) == first[1:]
    assert MaterialisedCohort.objects.get(key=f"permit:{permit.number}").count == len(first) - 1


@pytest.mark.django_db
def test_a_stored_cohort_is_not_served_past_the_next_consent_period_boundary(
    permit, node_client, consented
):
    dataset = Dataset.objects.get(slug=DATASET)
    first = fetch(node_client, permit)
    stored = MaterialisedCohort.objects.get(key=f"permit:{permit.number}")
    # The demo consents have no end: nothing would change the cohort but consent itself.
    assert stored.valid_until is None
    # Pretend the clock passed a period boundary it had recorded: computed again, not served.
    MaterialisedCohort.objects.filter(pk=stored.pk).update(
        valid_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), digest="sha256:stale", count=0
    )
    assert fetch(node_client, permit) == first
    assert MaterialisedCohort.objects.get(pk=stored.pk).digest == digest_of(first)
    assert Participant.objects.filter(dataset=dataset, opted_out_at__isnull=False).count() <= 1
