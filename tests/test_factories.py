"""The test factories build what the services build: objects with their audit events, view
grants and states, as in real use (tests/factories.py)."""

from __future__ import annotations

import pytest

from tests.factories import (
    AlgorithmFactory,
    BoardFactory,
    DatasetFactory,
    MembershipFactory,
    UserFactory,
    consents_import,
    demo_cast,
    request_in_state,
)


@pytest.mark.django_db
def test_a_dataset_comes_with_its_owner_node_and_an_audit_event_per_object():
    from audit.models import AuditEvent

    dataset = DatasetFactory(slug="test-cohort")

    assert (dataset.slug, dataset.title) == ("test-cohort", "Test Cohort")
    assert dataset.node.organisation == dataset.owner
    assert dataset.node.identity.is_machine is True
    assert sorted(AuditEvent.objects.values_list("action", flat=True)) == [
        "dataset.create",
        "node.create",
        "organisation.create",
        "user.create",
    ]


@pytest.mark.django_db
def test_people_join_organisations_through_the_membership_service():
    membership = MembershipFactory(role="steward")
    person = UserFactory(organisation=membership.organisation)

    assert membership.user.memberships.get().role == "steward"
    assert person.memberships.get().organisation == membership.organisation
    assert person.check_password("a-long-test-password")


@pytest.mark.django_db
def test_the_demo_cast_has_the_demo_people_datasets_and_algorithms():
    from catalogue.models import Algorithm, Dataset
    from demo.world import DEMO_PASSWORD

    people = demo_cast()

    assert sorted(people) == [
        "admin",
        "auditor",
        "chair",
        "industry",
        "member1",
        "member2",
        "owner",
        "requester",
    ]
    assert people["requester"].check_password(DEMO_PASSWORD)
    assert sorted(Dataset.objects.values_list("slug", flat=True)) == [
        "leiden-diabetes-cohort",
        "leiden-population-health-study",
        "lumc-cardiovascular-biobank",
    ]
    assert Algorithm.objects.count() == 2
    assert AlgorithmFactory(name="extra").version == "1.0.0"


@pytest.mark.django_db
def test_consents_are_imported_for_a_dataset():
    from consent.models import Participant

    dataset = DatasetFactory()
    report = consents_import(dataset, [("P0001", "DUO:0000042", ""), ("P0002", "DUO:0000006", "")])

    assert report.participants_created == 2
    assert sorted(Participant.objects.values_list("pseudonym", flat=True)) == ["P0001", "P0002"]


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["draft", "in_review", "approved", "permitted", "withdrawn"])
def test_a_request_is_driven_to_each_state_through_the_services(state):
    people = demo_cast()
    from catalogue.models import Dataset

    dataset = Dataset.objects.get(slug="leiden-diabetes-cohort")
    consents_import(dataset, [(f"P{i:04d}", "DUO:0000007", "MONDO:0005015") for i in range(1, 21)])
    BoardFactory(
        chair=people["chair"],
        members=[people["member1"]],
        organisation=people["owner"].memberships.get().organisation,
        datasets=[dataset],
    )

    request = request_in_state(state, people["requester"], ["leiden-diabetes-cohort"])

    assert request.state == state
    assert request.permits.exists() is (state == "permitted")


def test_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="state must be one of"):
        request_in_state("lost", None, [])
