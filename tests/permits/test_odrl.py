"""Permits as ODRL 2.2 Agreements, checked against the W3C ODRL 2.2 vocabulary (tests/permits/odrl,
unchanged from w3c/poe) with rdflib: the JSON-LD parses, and every odrl: term it uses exists."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from demo import permits_world
from permits.models import Permit

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
VOCABULARY = Graph().parse(Path(__file__).parent / "odrl" / "ODRL22.ttl", format="turtle")
DEFINED = {s for s in VOCABULARY.subjects() if isinstance(s, URIRef)}
HUB = "https://hub.lifes.example"


def odrl_terms(graph: Graph) -> set[URIRef]:
    return {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(str(ODRL))
    }


@pytest.fixture
def demo_permit(world, monkeypatch, tmp_path, settings, key_dir) -> Permit:
    """The demo permit, as seed_demo makes it (the one the README's node walkthrough runs)."""
    settings.HUB_URL = HUB
    monkeypatch.setattr(permits_world, "NODE_KEY_PATH", tmp_path / "node.key")
    from demo.world import seed_demo

    seed_demo()
    return permits_world._live_permit()


@pytest.mark.django_db
def test_the_demo_permit_as_an_odrl_agreement(demo_permit, client):
    response = client.get(f"/api/v1/permits/{demo_permit.number}/odrl")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ld+json"
    document = response.json()
    assert document["@context"]["odrl"] == "http://www.w3.org/ns/odrl/2/"
    graph = Graph().parse(data=json.dumps(document), format="json-ld")

    used = odrl_terms(graph)
    assert used - DEFINED == set()
    assert {ODRL.Agreement, ODRL.permission, ODRL.assigner, ODRL.assignee, ODRL.target} <= used

    agreement = URIRef(f"{HUB}/register/{demo_permit.number}/#agreement")
    assert (agreement, RDF.type, ODRL.Agreement) in graph
    # An Agreement names its assignee (the holder organisation) and, per rule, the assigner.
    assert graph.value(agreement, ODRL.assignee) == URIRef("https://ror.org/027bh9e22")
    permission = graph.value(agreement, ODRL.permission)
    assert graph.value(permission, ODRL.action) == ODRL.use
    assert graph.value(permission, ODRL.target) == URIRef(
        f"{HUB}/catalogue/leiden-diabetes-cohort/#dataset"
    )
    assigner = graph.value(permission, ODRL.assigner)
    assert (assigner, RDF.type, ODRL.Party) in graph

    rule = document["odrl:permission"][0]
    assert rule["odrl:assigner"]["rdfs:label"] == "Dutch Health Data Authority"
    constraints = rule["odrl:constraint"]
    # purpose: disease-specific research on type 2 diabetes (DUO DS + MONDO), as duo-odrl-dpv
    assert {
        "odrl:leftOperand": {"@id": "odrl:purpose"},
        "odrl:operator": {"@id": "odrl:isA"},
        "odrl:rightOperand": {"@id": "https://w3id.org/duodrl#DS"},
    } in constraints
    assert {
        "odrl:leftOperand": {"@id": "duodrl:Disease"},
        "odrl:operator": {"@id": "odrl:isA"},
        "odrl:rightOperand": {"@id": "http://purl.obolibrary.org/obo/MONDO_0005148"},
    } in constraints
    # the period of the permit
    assert {
        "odrl:leftOperand": {"@id": "odrl:dateTime"},
        "odrl:operator": {"@id": "odrl:lt"},
        "odrl:rightOperand": {
            "@value": demo_permit.valid_until.isoformat(),
            "@type": "xsd:dateTime",
        },
    } in constraints
    # output rules and the dataset's duties (IRB, PUB)
    duties = [d["odrl:action"]["@id"] for d in rule["odrl:duty"]]
    assert duties == [
        "duodrl:ProvideEthicalApproval",
        "odrl:distribute",
        "odrl:aggregate",
        "odrl:anonymize",
    ]
    assert rule["odrl:duty"][-1]["odrl:constraint"][0]["odrl:rightOperand"] == {
        "@value": str(demo_permit.min_cell_count),
        "@type": "xsd:integer",
    }
    # NPU: for-profit organisations may not use the diabetes cohort
    assert document["odrl:prohibition"][0]["odrl:assignee"]["obo:DUO_0000010"] == {
        "@id": "duodrl:ForProfitOrganisation"
    }


@pytest.mark.django_db
def test_the_register_entry_carries_the_same_agreement(demo_permit, client, settings):
    settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS = 0  # the permit was issued just now
    page = client.get(f"/register/{demo_permit.number}/").content.decode()
    api = client.get(f"/api/v1/permits/{demo_permit.number}/odrl").json()

    embedded = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert embedded is not None
    assert json.loads(html.unescape(embedded.group(1))) == api
    assert client.get("/api/v1/permits/LIFES-P-2026-999999/odrl").status_code == 404


def test_the_check_would_catch_a_term_odrl_does_not_define():
    graph = Graph()
    graph.add((URIRef("urn:x"), ODRL.minimumCellCount, URIRef("urn:y")))
    assert odrl_terms(graph) - DEFINED == {ODRL.minimumCellCount}
