"""EHDS Art. 66: per requested dataset, the variables from its data dictionary (or a subset),
the population and period, and anonymised data unless pseudonymised data are justified;
reviewers see it next to the dictionary. Refusals name the field and write nothing."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from catalogue.models import Dataset
from catalogue.services import dataset_dictionary_set
from demo.ehds_world import complete_after_checks
from lifes.errors import InvalidInput
from requests_app import services
from requests_app.models import DataMinimisation
from tests.requests.conftest import declare_none, fill_draft

DIABETES = "leiden-diabetes-cohort"
DICTIONARY = [
    {"name": "sex", "label": "Sex", "type": "code", "codelist": "HL7 gender"},
    {"name": "bmi", "label": "Body-mass index", "type": "decimal", "unit": "kg/m2"},
    {"name": "hba1c", "label": "HbA1c", "type": "decimal", "unit": "mmol/mol"},
    {"name": "postcode", "label": "Postcode", "type": "string"},
]


@pytest.fixture
def draft(review):
    dataset = Dataset.objects.get(slug=DIABETES)
    dataset_dictionary_set(actor=review["owner"], dataset=dataset, variables=DICTIONARY)
    request = fill_draft(review["requester"], [DIABETES])
    return {**review, "request": request}


def _set(draft, **answers):
    return services.minimisation_set(
        actor=draft["requester"],
        request_id=draft["request"].pk,
        dataset_slug=DIABETES,
        **answers,
    )


@pytest.mark.django_db
def test_the_requester_records_what_of_a_dataset_is_needed(draft):
    row = _set(
        draft,
        variables=["sex", "bmi", "hba1c"],
        population="Adults with type 2 diabetes",
        data_from="2019-01-01",
        data_until="2024-12-31",
        data_form="pseudonymised",
        pseudonymisation_reason="Linking two visits of the same person.",
    )

    assert (row.variables, row.data_form, str(row.data_until)) == (
        ["sex", "bmi", "hba1c"],
        "pseudonymised",
        "2024-12-31",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answers", "code", "field"),
    [
        ({"variables": ["sex", "bank_account"]}, "unknown_variables", "variables"),
        ({"data_form": "pseudonymised"}, "pseudonymisation_unjustified", "pseudonymisation_reason"),
        ({"data_from": "2024-01-01", "data_until": "2020-01-01"}, "invalid", "data_until"),
    ],
)
def test_refusals_name_the_field_and_write_nothing(draft, answers, code, field):
    before = (DataMinimisation.objects.count(), AuditEvent.objects.count())

    with pytest.raises(InvalidInput) as refused:
        _set(draft, **answers)

    assert refused.value.code == code
    assert field in refused.value.errors
    assert (DataMinimisation.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_the_api_refuses_unknown_variables_with_a_code(draft, api_client):
    api_client.force_authenticate(draft["requester"])
    url = f"/api/v1/requests/{draft['request'].reference}/minimisation"

    refused = api_client.post(
        url, {"dataset": DIABETES, "variables": ["bank_account"]}, format="json"
    )
    unjustified = api_client.post(
        url, {"dataset": DIABETES, "data_form": "pseudonymised"}, format="json"
    )
    saved = api_client.post(
        url, {"dataset": DIABETES, "variables": ["bmi"], "data_form": "anonymised"}, format="json"
    )

    assert (refused.status_code, refused.json()["code"]) == (400, "unknown_variables")
    assert (unjustified.status_code, unjustified.json()["code"]) == (
        400,
        "pseudonymisation_unjustified",
    )
    assert saved.status_code == 200
    assert saved.json()["minimisation"][0]["variables"] == ["bmi"]
    assert saved.json()["minimisation"][0]["dictionary"] == ["sex", "bmi", "hba1c", "postcode"]


@pytest.mark.django_db
def test_reviewers_see_the_minimisation_next_to_the_dictionary_and_strangers_do_not(
    draft, client, api_client
):
    _set(draft, variables=["bmi", "hba1c"], population="POPULATION-MARKER", data_form="anonymised")
    request = draft["request"]
    services.request_submit(actor=draft["requester"], request_id=request.pk)
    complete_after_checks(request)  # the checks, then the access body finds it complete
    declare_none(request, draft["member1"])

    client.force_login(draft["member1"])
    page = client.get(request.get_absolute_url()).content.decode()
    assert "POPULATION-MARKER" in page
    assert "Postcode" in page  # the dictionary, with what is not asked for
    assert 'class="requested"' in page

    client.force_login(draft["member3"])  # not on the reviewing board, not an owner
    assert client.get(request.get_absolute_url()).status_code == 404
    api_client.force_authenticate(draft["member3"])
    assert api_client.get(f"/api/v1/requests/{request.reference}").status_code == 404


@pytest.mark.django_db
def test_the_wizard_shows_the_terms_in_full_and_saves_the_minimisation(draft, client):
    from catalogue.services import dataset_terms_publish

    dataset_terms_publish(
        actor=None, dataset=Dataset.objects.get(slug=DIABETES), title="DUA", text="WIZARD-TERMS"
    )
    request = draft["request"]
    client.force_login(draft["requester"])
    review_url = f"/requests/{request.reference}/edit/review/"

    page = client.get(review_url).content.decode()
    assert "WIZARD-TERMS" in page
    assert f'id="id_{DIABETES}_variables_0"' in page

    url = f"/requests/{request.reference}/minimisation/{DIABETES}/"
    client.post(url, {"variables": ["bmi", "sex"], "data_form": "anonymised"})
    refused = client.post(url, {"data_form": "pseudonymised"}, follow=True).content.decode()

    row = DataMinimisation.objects.get(item__request=request)
    assert (sorted(row.variables), row.data_form) == (["bmi", "sex"], "anonymised")
    assert "EHDS Art. 66(3)" in refused
