"""The harvestable catalogue against the standards' own SHACL shapes (pyshacl), and its IRIs.

Shapes: tests/catalogue/shapes/ (DCAT-AP 3.0.0 mandatory + ranges, recommended; HealthDCAT-AP
release 5), kept verbatim with their source and licence in the README there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

SHAPES = Path(__file__).parent / "shapes"
SHAPE_SETS = {
    "DCAT-AP 3 full (mandatory + ranges)": ["dcat-ap-3.0.0-shapes.ttl", "dcat-ap-3.0.0-range.ttl"],
    "DCAT-AP 3 recommended": ["dcat-ap-3.0.0-shapes_recommended.ttl"],
    "HealthDCAT-AP release 5": ["healthdcat-ap-r5-shapes.ttl"],
}
HUB = "https://hub.lifes.example"


def shapes_graph(files: list[str]) -> Graph:
    graph = Graph()
    for name in files:
        graph.parse(SHAPES / name, format="turtle")
    return graph


def catalogue_graph(client) -> Graph:
    """Every page of the catalogue, followed through hydra:next, as one graph."""
    graph = Graph()
    url = "/catalogue.jsonld"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/ld+json"
        document = response.json()
        graph.parse(data=json.dumps(document), format="json-ld")
        following = document["hydra:view"].get("hydra:next", {}).get("@id")
        url = following.removeprefix(HUB) if following else None
    return graph


@pytest.fixture
def hub(settings):
    settings.HUB_URL = HUB
    settings.CATALOGUE_PAGE_SIZE = 2  # three demo datasets: two pages, so paging is exercised


@pytest.mark.django_db
@pytest.mark.parametrize("shape_set", list(SHAPE_SETS))
def test_whole_catalogue_conforms_with_zero_results(client, world, hub, shape_set):
    data = catalogue_graph(client)
    assert len(set(data.subjects(RDF.type, DCAT.Dataset))) == 3

    conforms, _report, text = validate(
        data, shacl_graph=shapes_graph(SHAPE_SETS[shape_set]), inference="none", advanced=True
    )
    # Zero results of any severity: no violation, and no warning of the recommended shapes.
    assert conforms, text
    assert "Results (" not in text, text


@pytest.mark.django_db
def test_the_shapes_catch_a_dataset_without_its_hdab(client, world, hub):
    """The HealthDCAT-AP check is not vacuous: drop one mandatory property and it fails."""
    data = catalogue_graph(client)
    hdab = URIRef("http://healthdataportal.eu/ns/health#hdab")
    dataset = URIRef(f"{HUB}/catalogue/leiden-diabetes-cohort/#dataset")
    data.remove((dataset, hdab, None))

    conforms, _report, text = validate(
        data, shacl_graph=shapes_graph(SHAPE_SETS["HealthDCAT-AP release 5"]), inference="none"
    )
    assert not conforms
    assert "healthdcatap:hdab" in text or str(hdab) in text


@pytest.mark.django_db
def test_catalogue_iris_do_not_depend_on_the_host_header(client, world, hub, settings):
    settings.ALLOWED_HOSTS = ["one.example", "two.example"]
    first = client.get("/catalogue.jsonld", HTTP_HOST="one.example")
    second = client.get("/catalogue.jsonld", HTTP_HOST="two.example")
    assert first.content == second.content
    document = first.json()
    assert document["@id"] == f"{HUB}/catalogue.jsonld"
    assert [d["@id"] for d in document["dcat:dataset"]] == [
        f"{HUB}/catalogue/leiden-diabetes-cohort/#dataset",
        f"{HUB}/catalogue/leiden-population-health-study/#dataset",
    ]
    assert "one.example" not in first.content.decode()

    # The per-dataset JSON-LD (page and API) names the same IRI, whatever the host.
    for host in ("one.example", "two.example"):
        page = client.get(
            "/catalogue/leiden-diabetes-cohort/", HTTP_HOST=host, HTTP_ACCEPT="application/ld+json"
        ).json()
        api = client.get(
            "/api/v1/datasets/leiden-diabetes-cohort",
            HTTP_HOST=host,
            HTTP_ACCEPT="application/ld+json",
        ).json()
        assert page["@id"] == api["@id"] == f"{HUB}/catalogue/leiden-diabetes-cohort/#dataset"
        assert page["dcat:landingPage"]["@id"] == f"{HUB}/catalogue/leiden-diabetes-cohort/"


@pytest.mark.django_db
def test_hydra_paging_and_turtle(client, world, hub):
    first = client.get("/catalogue.jsonld").json()
    assert first["hydra:totalItems"] == 3
    assert first["hydra:view"] == {
        "@id": f"{HUB}/catalogue.jsonld",
        "@type": "hydra:PartialCollectionView",
        "hydra:first": {"@id": f"{HUB}/catalogue.jsonld"},
        "hydra:last": {"@id": f"{HUB}/catalogue.jsonld?page=2"},
        "hydra:next": {"@id": f"{HUB}/catalogue.jsonld?page=2"},
    }
    second = client.get("/catalogue.jsonld?page=2").json()
    assert [d["@id"] for d in second["dcat:dataset"]] == [
        f"{HUB}/catalogue/lumc-cardiovascular-biobank/#dataset"
    ]
    assert second["hydra:view"]["hydra:previous"] == {"@id": f"{HUB}/catalogue.jsonld"}
    assert "hydra:next" not in second["hydra:view"]

    turtle = client.get("/catalogue.jsonld?page=2", HTTP_ACCEPT="text/turtle")
    assert turtle["Content-Type"] == "text/turtle; charset=utf-8"
    from_turtle = Graph().parse(data=turtle.content.decode(), format="turtle")
    from_jsonld = Graph().parse(data=json.dumps(second), format="json-ld")
    from rdflib.compare import isomorphic

    assert isomorphic(from_turtle, from_jsonld)

    assert client.get("/catalogue.jsonld?page=3").status_code == 404
    bad = client.get("/catalogue.jsonld?page=abc")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")


@pytest.mark.django_db
def test_a_dataset_says_what_healthdcat_asks_with_its_duo_values(client, world, hub):
    document = client.get(
        "/catalogue/lumc-cardiovascular-biobank/", HTTP_ACCEPT="application/ld+json"
    ).json()
    assert document["dct:accessRights"]["@id"] == (
        "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC"
    )
    assert document["healthdcatap:numberOfUniqueIndividuals"] == {
        "@value": "1200",
        "@type": "xsd:nonNegativeInteger",
    }
    assert document["healthdcatap:hdab"]["foaf:name"] == "Dutch Health Data Authority"
    assert document["dct:type"]["@id"] == (
        "http://publications.europa.eu/resource/authority/dataset-type/PERSONAL_DATA"
    )
    assert [c["@id"] for c in document["healthdcatap:healthCategory"]] == [
        "http://healthdata.ec.europa.eu/authority/health-category/BIOBANK",
        "http://healthdata.ec.europa.eu/authority/health-category/EHR",
    ]
    assert document["dct:temporal"]["dcat:startDate"] == {
        "@value": "2012-03-01",
        "@type": "xsd:date",
    }
    distribution = document["dcat:distribution"][0]
    assert distribution["dct:license"]["@id"] == (
        "https://lifes.example/licences/data-use-agreement-1.0"
    )
    assert (
        distribution["dcat:accessService"]["@id"] == f"{HUB}/catalogue.jsonld#node-lumc-station-1"
    )
    # The GS value (EU) survives as an ODRL spatial constraint of the offer (duo-odrl-dpv).
    permission = distribution["odrl:hasPolicy"]["odrl:permission"][0]
    assert {
        "odrl:leftOperand": {"@id": "odrl:spatial"},
        "odrl:operator": {"@id": "odrl:lteq"},
        "odrl:rightOperand": {
            "@id": "http://publications.europa.eu/resource/authority/continent/EUROPE"
        },
    } in permission["odrl:constraint"]
    assert {"odrl:action": {"@id": "duodrl:ProvideEthicalApproval"}} in permission["odrl:duty"]

    population = client.get(
        "/catalogue/leiden-population-health-study/", HTTP_ACCEPT="application/ld+json"
    ).json()
    offer = population["dcat:distribution"][0]["odrl:hasPolicy"]
    assert {
        "odrl:leftOperand": {"@id": "odrl:elapsedTime"},
        "odrl:operator": {"@id": "odrl:lteq"},
        "odrl:rightOperand": {"@value": "P36M", "@type": "xsd:duration"},
    } in offer["odrl:permission"][0]["odrl:constraint"]


@pytest.mark.django_db
def test_seed_demo_fills_in_the_descriptors_of_datasets_seeded_before_them(demo_world):
    from audit.models import AuditEvent
    from catalogue.models import Dataset
    from demo.world import seed_demo

    Dataset.objects.filter(slug="lumc-cardiovascular-biobank").update(
        health_categories=[], themes=[], hdab=None, temporal_start=None, licence_url=""
    )

    report = seed_demo(with_requests=False)

    dataset = Dataset.objects.get(slug="lumc-cardiovascular-biobank")
    assert report.created == ["descriptors of dataset lumc-cardiovascular-biobank"]
    assert (dataset.health_categories, dataset.themes, dataset.hdab.name) == (
        ["BIOBANK", "EHR"],
        ["HEAL", "SCIE"],
        "Dutch Health Data Authority",
    )
    assert str(dataset.temporal_start) == "2012-03-01"
    assert dataset.licence_url == "https://lifes.example/licences/data-use-agreement-1.0"
    assert AuditEvent.objects.filter(action="dataset.describe").count() == 1
    assert seed_demo(with_requests=False).created == []


@pytest.mark.django_db
def test_unknown_descriptor_codes_are_refused_and_nothing_changes(world):
    from django.core.exceptions import ValidationError

    from audit.models import AuditEvent
    from catalogue.models import Dataset
    from catalogue.services import dataset_describe

    dataset = Dataset.objects.get(slug="leiden-diabetes-cohort")
    before = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as refused:
        dataset_describe(
            actor=None, dataset=dataset, themes=["HEALTH"], spatial=["Netherlands"], legal_basis=[]
        )

    assert set(refused.value.message_dict) == {"themes", "spatial"}
    dataset.refresh_from_db()
    assert (dataset.themes, dataset.spatial) == (["HEAL"], ["NLD"])
    assert AuditEvent.objects.count() == before
