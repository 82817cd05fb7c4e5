"""Each dataset's data dictionary and versioned data-use terms: edited by its stewards only,
exported in the dataset API; a new version of the terms never changes an earlier one."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from catalogue.models import Dataset, DatasetVariable, DataUseTerms
from catalogue.services import dataset_dictionary_set, dataset_terms_publish
from lifes.errors import InvalidInput, NotAllowed

SLUG = "leiden-diabetes-cohort"


@pytest.mark.django_db
def test_stewards_set_the_dictionary_and_publish_terms_exported_by_the_api(world, api_client):
    dataset = Dataset.objects.get(slug=SLUG)
    owner = world["owner"]

    dataset_dictionary_set(
        actor=owner,
        dataset=dataset,
        variables=[
            {"name": "bmi", "label": "BMI", "type": "decimal", "unit": "kg/m2"},
            {"name": "sex", "label": "Sex", "type": "code", "codelist": "HL7"},
        ],
    )
    first = dataset_terms_publish(actor=owner, dataset=dataset, title="DUA", text="Version one")
    second = dataset_terms_publish(actor=owner, dataset=dataset, title="DUA", text="Version two")

    first.refresh_from_db()
    assert (first.version, first.text, second.version) == (1, "Version one", 2)
    body = api_client.get(f"/api/v1/datasets/{SLUG}").json()
    assert [v["name"] for v in body["variables"]] == ["bmi", "sex"]
    assert body["variables"][0]["unit"] == "kg/m2"
    assert (body["terms"]["version"], body["terms"]["text"]) == (2, "Version two")
    assert api_client.get(f"/api/v1/datasets/{SLUG}/terms").json()["version"] == 2


@pytest.mark.django_db
def test_only_stewards_edit_and_a_bad_dictionary_saves_nothing(world, api_client):
    dataset = Dataset.objects.get(slug=SLUG)
    before = (
        DatasetVariable.objects.count(),
        DataUseTerms.objects.count(),
        AuditEvent.objects.count(),
    )

    with pytest.raises(NotAllowed):
        dataset_terms_publish(actor=world["requester"], dataset=dataset, title="X", text="Y")
    with pytest.raises(InvalidInput) as bad:
        dataset_dictionary_set(
            actor=world["owner"],
            dataset=dataset,
            variables=[
                {"name": "ok", "label": "OK", "type": "string"},
                {"name": "Bad Name", "label": "", "type": "colour"},
                {"name": "ok", "label": "Twice", "type": "string"},
            ],
        )
    api_client.force_authenticate(world["requester"])
    refused = api_client.put(
        f"/api/v1/datasets/{SLUG}/dictionary",
        {"variables": [{"name": "x", "label": "X", "type": "string"}]},
        format="json",
    )

    assert bad.value.code == "dictionary_invalid"
    assert sorted(bad.value.errors) == ["variables[1]", "variables[2]"]
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert (
        DatasetVariable.objects.count(),
        DataUseTerms.objects.count(),
        AuditEvent.objects.count(),
    ) == before
