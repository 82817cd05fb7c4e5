"""The public catalogue: pages, search and filters, DCAT JSON-LD, the read API, steward edits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from catalogue.models import Dataset
from catalogue.services import dataset_update
from lifes.errors import NotAllowed


@pytest.mark.django_db
def test_catalogue_lists_the_demo_datasets(client, world):
    response = client.get(reverse("catalogue:dataset_list"))
    body = response.content.decode()
    assert response.status_code == 200
    for title in (
        "Leiden Diabetes Cohort",
        "LUMC Cardiovascular Biobank",
        "Leiden Population Health Study",
    ):
        assert title in body
    assert "3 datasets" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "titles"),
    [
        ({"q": "diabetes"}, ["Leiden Diabetes Cohort"]),
        ({"q": "biobank ECG"}, ["LUMC Cardiovascular Biobank"]),
        ({"duo": "DUO:0000042"}, ["Leiden Population Health Study"]),
        ({"q": "nothing-matches-this"}, []),
    ],
)
def test_search_and_filters(client, world, params, titles):
    response = client.get(reverse("catalogue:dataset_list"), params)
    assert [d.title for d in response.context["page"].object_list] == titles


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"duo": "HMB"}, "duo"),
        ({"owner": "abc"}, "owner"),
        ({"node": "999999"}, "node"),
        ({"personal": "maybe"}, "personal"),
    ],
)
def test_bad_filters_show_a_field_error_not_a_500(client, world, params, field):
    response = client.get(reverse("catalogue:dataset_list"), params)
    assert response.status_code == 200
    assert field in response.context["form"].errors


@pytest.mark.django_db
def test_bad_page_numbers_show_a_page(client, world):
    assert client.get(reverse("catalogue:dataset_list"), {"page": "abc"}).status_code == 200
    assert client.get(reverse("catalogue:dataset_list"), {"page": "9999"}).status_code == 200


@pytest.mark.django_db
def test_dataset_page_and_unknown_dataset(client, world):
    page = client.get(reverse("catalogue:dataset_detail", args=["leiden-diabetes-cohort"]))
    assert page.status_code == 200
    assert "MONDO:0005015" in page.content.decode()
    assert client.get("/catalogue/no-such-dataset/").status_code == 404


@pytest.mark.django_db
def test_dataset_as_dcat_jsonld(client, world):
    response = client.get("/catalogue/leiden-diabetes-cohort/", HTTP_ACCEPT="application/ld+json")
    assert response["Content-Type"] == "application/ld+json"
    document = response.json()
    assert document["@type"] == "dcat:Dataset"
    assert document["dct:identifier"] == "https://doi.org/10.5072/lifes.diabetes.2019"
    assert document["dct:publisher"]["@id"] == "https://ror.org/05xvt9f17"
    assert {
        "@id": "http://purl.obolibrary.org/obo/DUO_0000007",
        "@type": "dct:RightsStatement",
    } in document["dct:rights"]
    assert document["dct:subject"] == [{"@id": "http://purl.obolibrary.org/obo/MONDO_0005015"}]

    api = client.get("/api/v1/datasets/leiden-diabetes-cohort", HTTP_ACCEPT="application/ld+json")
    assert api.status_code == 200
    assert api.json()["dct:title"] == "Leiden Diabetes Cohort"


@pytest.mark.django_db
def test_dataset_api_list_detail_and_filters(api_client, world):
    listing = api_client.get("/api/v1/datasets/", {"q": "cardio"}).json()
    assert listing["count"] == 1
    item = listing["results"][0]
    assert (item["id"], item["node"], item["duo_values"]) == (
        "lumc-cardiovascular-biobank",
        "lumc-station-1",
        {"DUO:0000022": "EU"},
    )
    detail = api_client.get("/api/v1/datasets/leiden-diabetes-cohort").json()
    assert detail["duo_diseases"] == ["MONDO:0005015"]
    assert api_client.get("/api/v1/datasets/", {"node": "lumc-station-1"}).json()["count"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"duo": "bad"}, "duo"),
        ({"owner": "x"}, "owner"),
        ({"node": "nope"}, "node"),
        ({"contains_personal_data": "maybe"}, "contains_personal_data"),
        ({"page": "abc"}, None),
    ],
)
def test_dataset_api_bad_filters_are_400_or_404_json(api_client, world, params, field):
    response = api_client.get("/api/v1/datasets/", params)
    assert response["Content-Type"] == "application/json"
    if field is None:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    else:
        assert response.status_code == 400
        assert field in response.json()["errors"]


@pytest.mark.django_db
def test_unknown_api_paths_answer_json(api_client, world):
    for path in ("/api/v1/datasets/no-such", "/api/v1/no-such-endpoint"):
        response = api_client.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_algorithms_and_nodes_api(api_client, world):
    algorithms = api_client.get("/api/v1/algorithms/").json()["results"]
    assert [a["name"] for a in algorithms] == ["hba1c-distribution", "mean-bmi-by-sex"]
    assert all(a["digest"].startswith("sha256:") and len(a["digest"]) == 71 for a in algorithms)
    nodes = api_client.get("/api/v1/nodes/").json()["results"]
    assert nodes == [
        {
            "id": "lumc-station-1",
            "name": "LUMC Data Station 1",
            "organisation": "Leiden University Medical Center",
            "status": "active",
        }
    ]


@pytest.mark.django_db
def test_unpublished_dataset_is_hidden_from_the_public_but_not_its_steward(client, world):
    dataset = Dataset.objects.get(slug="leiden-diabetes-cohort")
    dataset_update(actor=world["owner"], dataset=dataset, is_published=False)

    assert client.get("/catalogue/leiden-diabetes-cohort/").status_code == 404
    client.force_login(world["requester"])
    assert client.get("/catalogue/leiden-diabetes-cohort/").status_code == 404
    client.force_login(world["owner"])
    assert client.get("/catalogue/leiden-diabetes-cohort/").status_code == 200


@pytest.mark.django_db
def test_only_stewards_change_a_dataset_and_each_change_is_audited(world):
    dataset = Dataset.objects.get(slug="leiden-diabetes-cohort")
    events = AuditEvent.objects.count()

    with pytest.raises(NotAllowed):
        dataset_update(actor=world["requester"], dataset=dataset, title="Hijacked")
    dataset.refresh_from_db()
    assert dataset.title == "Leiden Diabetes Cohort"
    assert AuditEvent.objects.count() == events

    dataset_update(actor=world["owner"], dataset=dataset, title="Leiden Diabetes Cohort v2")
    dataset.refresh_from_db()
    assert dataset.title == "Leiden Diabetes Cohort v2"
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "dataset.update"
    assert event.payload["after"] == {"title": "Leiden Diabetes Cohort v2"}
