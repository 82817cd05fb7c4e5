"""The catalogue as DCAT-AP 3 / HealthDCAT-AP JSON-LD (and Turtle), so portals can harvest it.

Every IRI is built from ``settings.HUB_URL``, never from the request: one dataset has one IRI
whichever host name a harvester used. The shapes the output must satisfy are kept in
``tests/catalogue/shapes/`` (DCAT-AP 3.0.0 mandatory, ranges and recommended; HealthDCAT-AP
release 5), and ``tests/catalogue/test_healthdcat.py`` validates the whole catalogue with them.

JSON-LD is written by hand (a fixed context, embedded nodes) so its shape is predictable for
plain-JSON readers; rdflib parses that same document to produce Turtle, so both say the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings

from accounts.models import Organisation
from catalogue import vocab
from catalogue.models import Dataset, Node
from catalogue.odrl import ODRL_CONTEXT, duo_rules, obo_iri, purpose_iris

CONTEXT: dict[str, str] = {
    **ODRL_CONTEXT,
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatap": "http://data.europa.eu/r5r/",
    "healthdcatap": "http://healthdataportal.eu/ns/health#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "eli": "http://data.europa.eu/eli/ontology#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "hydra": "http://www.w3.org/ns/hydra/core#",
}


def hub_url() -> str:
    return settings.HUB_URL.rstrip("/")


def dataset_iri(dataset: Dataset) -> str:
    return f"{hub_url()}/catalogue/{dataset.slug}/#dataset"


def landing_page(dataset: Dataset) -> str:
    return f"{hub_url()}/catalogue/{dataset.slug}/"


def catalogue_iri() -> str:
    return f"{hub_url()}/catalogue.jsonld"


def node_iri(node: Node) -> str:
    return f"{hub_url()}/catalogue.jsonld#node-{node.identifier}"


def organisation_iri(organisation: Organisation) -> str:
    if organisation.ror_id:
        return f"https://ror.org/{organisation.ror_id}"
    return f"{hub_url()}/catalogue.jsonld#organisation-{organisation.pk}"


def _concept(iri: str, label: str) -> dict[str, Any]:
    return {
        "@id": iri,
        "@type": "skos:Concept",
        "skos:prefLabel": {"@value": label, "@language": "en"},
    }


def _date(value: Any) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:date"}


def _legislation() -> list[dict[str, Any]]:
    return [
        {"@id": iri, "@type": "eli:LegalResource", "rdfs:label": label}
        for iri, label in vocab.APPLICABLE_LEGISLATION.items()
    ]


def _contact(*, email: str = "", url: str = "", iri: str = "") -> dict[str, Any]:
    contact: dict[str, Any] = {"@type": "vcard:Kind"}
    if iri:
        # Named, so an agent embedded under several datasets still has exactly one.
        contact["@id"] = iri
    if email:
        contact["vcard:hasEmail"] = {"@id": f"mailto:{email}"}
    else:
        contact["vcard:hasURL"] = {"@id": url}
    return contact


def agent(organisation: Organisation) -> dict[str, Any]:
    """An organisation as a foaf:Agent with the type and contact point HealthDCAT-AP asks for.
    Its contact point is the organisation's website, or the hub (where access is asked)."""
    code, label = vocab.PUBLISHER_TYPES.get(organisation.kind, vocab.PUBLISHER_TYPES["other"])
    return {
        "@id": organisation_iri(organisation),
        "@type": ["foaf:Agent", "foaf:Organization"],
        "foaf:name": organisation.name,
        "dct:type": _concept(vocab.PUBLISHER_TYPE_BASE + code, label),
        "dcat:contactPoint": organisation_contact(organisation),
    }


def organisation_contact(organisation: Organisation) -> dict[str, Any]:
    return _contact(
        url=organisation.website or f"{hub_url()}/",
        iri=f"{hub_url()}/catalogue.jsonld#contact-organisation-{organisation.pk}",
    )


def _place(code: str) -> dict[str, Any]:
    place = vocab.PLACES[code]
    return {
        "@id": vocab.country_iri(code),
        "@type": "dct:Location",
        "skos:prefLabel": {"@value": place.label, "@language": "en"},
        "dcat:bbox": {"@value": place.bbox, "@type": "gsp:wktLiteral"},
        "dcat:centroid": {"@value": place.centroid, "@type": "gsp:wktLiteral"},
    }


def spatial_codes(dataset: Dataset) -> list[str]:
    """The dataset's coverage, or else the owner's country (where its participants live)."""
    return coverage(dataset.spatial, str(dataset.owner.country))


def coverage(spatial: Sequence[str], owner_country: str) -> list[str]:
    if spatial:
        return list(spatial)
    fallback = vocab.ALPHA2_TO_PLACE.get(owner_country)
    return [fallback] if fallback else []


def data_service(node: Node, datasets: Iterable[Dataset] = ()) -> dict[str, Any]:
    """The node as the dcat:DataService through which a dataset is visited (never downloaded)."""
    service: dict[str, Any] = {
        "@id": node_iri(node),
        "@type": "dcat:DataService",
        "dct:title": node.name,
        "dct:identifier": node.identifier,
        "dcat:endpointURL": {"@id": node.base_url or f"{hub_url()}/api/v1/nodes/"},
        # What a client needs to use the node: a permit from this hub's API.
        "dcat:endpointDescription": {"@id": f"{hub_url()}/api/schema/"},
        "dct:conformsTo": {
            "@id": f"{hub_url()}/api/schema/",
            "@type": "dct:Standard",
            "rdfs:label": "LIFES permit protocol (signed permits, execution receipts)",
        },
        "dct:publisher": agent(node.organisation),
        "dcat:contactPoint": organisation_contact(node.organisation),
        "dcat:theme": [_concept(f"{vocab.DATA_THEME_SCHEME}/HEAL", vocab.DATA_THEMES["HEAL"])],
        "dcat:keyword": ["data visiting", "federated analysis"],
        "dcatap:applicableLegislation": _legislation(),
    }
    served = [{"@id": dataset_iri(d)} for d in datasets]
    if served:
        service["dcat:servesDataset"] = served
    return service


def _licence(dataset: Dataset) -> dict[str, Any]:
    licence: dict[str, Any] = {"@id": dataset.licence_url, "@type": "dct:LicenseDocument"}
    if dataset.licence:
        licence["rdfs:label"] = dataset.licence
    types = [
        _concept(vocab.LICENCE_TYPE_BASE + code, vocab.LICENCE_TYPES[code])
        for code in dataset.licence_types
        if code in vocab.LICENCE_TYPES
    ]
    if types:
        licence["dct:type"] = types
    return licence


def offer(dataset: Dataset) -> dict[str, Any]:
    """The dataset's DUO conditions, with their values, as an ODRL Offer (duo-odrl-dpv)."""
    policy_iri = f"{landing_page(dataset)}#policy"
    return {
        "@id": policy_iri,
        "@type": ["odrl:Offer", "odrl:Policy"],
        "odrl:uid": {"@id": policy_iri},
        "odrl:profile": {"@id": vocab.DUODRL.rstrip("#")},
        "odrl:assigner": {"@id": organisation_iri(dataset.owner)},
        "dct:source": [{"@id": obo_iri(code)} for code in dataset.duo_codes],
        **duo_rules(
            codes=dataset.duo_codes,
            diseases=dataset.duo_diseases,
            values=dataset.duo_values,
            target=dataset_iri(dataset),
        ),
    }


def distribution(dataset: Dataset) -> dict[str, Any]:
    """One distribution: the data as the node holds it, reached only through the node."""
    iri, label = vocab.FILE_TYPE_CSV
    dist: dict[str, Any] = {
        "@id": f"{landing_page(dataset)}#distribution",
        "@type": "dcat:Distribution",
        "dct:title": f"{dataset.title} at {dataset.node.name}",
        "dct:description": (
            "Held at the data station; visiting algorithms run there under a signed permit "
            "of this hub. Only disclosure-checked aggregate results leave."
        ),
        "dcat:accessURL": {"@id": landing_page(dataset), "@type": "foaf:Document"},
        "dcat:accessService": data_service(dataset.node, [dataset]),
        "dct:format": {"@id": iri, "@type": "dct:MediaTypeOrExtent", "rdfs:label": label},
        "dcatap:availability": _concept(vocab.AVAILABILITY_STABLE, "Stable"),
        "dcatap:applicableLegislation": _legislation(),
        "odrl:hasPolicy": offer(dataset),
    }
    if dataset.licence_url:
        dist["dct:license"] = _licence(dataset)
    return dist


def dataset_node(dataset: Dataset) -> dict[str, Any]:
    """One dataset as a HealthDCAT-AP node (without @context)."""
    page = landing_page(dataset)
    hdab = dataset.hdab or dataset.owner
    personal = (
        vocab.DATASET_TYPE_PERSONAL
        if dataset.contains_personal_data
        else vocab.DATASET_TYPE_NON_PERSONAL
    )
    node: dict[str, Any] = {
        "@id": dataset_iri(dataset),
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.persistent_identifier,
        "dct:title": dataset.title,
        "dct:description": dataset.description,
        "dcat:keyword": dataset.keyword_list,
        "dct:publisher": agent(dataset.owner),
        "dcat:contactPoint": _contact(email=dataset.contact_email),
        "dcat:landingPage": {"@id": page, "@type": "foaf:Document"},
        "dct:accessRights": {
            "@id": vocab.ACCESS_RIGHT_NON_PUBLIC,
            "@type": "dct:RightsStatement",
        },
        "dct:issued": _date(dataset.created_at.date()),
        "dct:modified": _date(dataset.updated_at.date()),
        # Data-use conditions as ontology IRIs (GA4GH DUO, MONDO), as the DUO docs recommend;
        # their values live in the distribution's ODRL offer.
        "dct:rights": [
            {"@id": obo_iri(code), "@type": "dct:RightsStatement"} for code in dataset.duo_codes
        ],
        "dct:subject": [{"@id": obo_iri(term)} for term in dataset.duo_diseases],
        "dcat:theme": [
            _concept(f"{vocab.DATA_THEME_SCHEME}/{code}", vocab.DATA_THEMES[code])
            for code in dataset.themes
            if code in vocab.DATA_THEMES
        ],
        "dct:spatial": [_place(code) for code in spatial_codes(dataset) if code in vocab.PLACES],
        "dcat:distribution": [distribution(dataset)],
        "dct:type": _concept(*personal),
        "dct:provenance": {
            "@type": "dct:ProvenanceStatement",
            "rdfs:label": dataset.provenance
            or f"Described by its data holder, {dataset.owner.name}, in LIFES Hub.",
        },
        "dcatap:applicableLegislation": _legislation(),
        "healthdcatap:hdab": agent(hdab),
        "healthdcatap:healthCategory": [
            _concept(vocab.HEALTH_CATEGORY_BASE + code, vocab.HEALTH_CATEGORIES[code])
            for code in dataset.health_categories
            if code in vocab.HEALTH_CATEGORIES
        ],
        "healthdcatap:numberOfUniqueIndividuals": {
            "@value": str(dataset.participant_count),
            "@type": "xsd:nonNegativeInteger",
        },
        "dpv:hasPurpose": [{"@id": iri} for iri in purpose_iris(dataset.duo_codes)],
        "dpv:hasLegalBasis": [{"@id": iri} for iri in dataset.legal_basis],
    }
    if dataset.contains_personal_data:
        node["dpv:hasPersonalData"] = {"@id": vocab.DPV_PD_HEALTH}
    if dataset.temporal_start or dataset.temporal_end:
        period: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
        if dataset.temporal_start:
            period["dcat:startDate"] = _date(dataset.temporal_start)
        if dataset.temporal_end:
            period["dcat:endDate"] = _date(dataset.temporal_end)
        node["dct:temporal"] = period
    return {key: value for key, value in node.items() if value != []}


def dataset_jsonld(dataset: Dataset) -> dict[str, Any]:
    return {"@context": CONTEXT, **dataset_node(dataset)}


@dataclass(frozen=True)
class CataloguePage:
    """One page of the catalogue, with the facts about the whole catalogue every page repeats."""

    datasets: Sequence[Dataset]
    number: int
    last: int
    total: int
    issued: date | None = None
    modified: date | None = None
    places: Sequence[str] = ()


def page_iri(number: int) -> str:
    return catalogue_iri() if number == 1 else f"{catalogue_iri()}?page={number}"


def catalogue_jsonld(page: CataloguePage) -> dict[str, Any]:
    """One page of the dcat:Catalog, paged the Hydra way (``hydra:view`` with first/next/...).

    Catalogue-level facts (dates, coverage) are the whole catalogue's, so every page says the
    same about the catalogue; ``dcat:dataset`` lists only this page's datasets.
    """
    nodes: dict[int, Node] = {}
    served: dict[int, list[Dataset]] = {}
    for dataset in page.datasets:
        nodes[dataset.node_id] = dataset.node
        served.setdefault(dataset.node_id, []).append(dataset)
    view: dict[str, Any] = {
        "@id": page_iri(page.number),
        "@type": "hydra:PartialCollectionView",
        "hydra:first": {"@id": page_iri(1)},
        "hydra:last": {"@id": page_iri(page.last)},
    }
    if page.number > 1:
        view["hydra:previous"] = {"@id": page_iri(page.number - 1)}
    if page.number < page.last:
        view["hydra:next"] = {"@id": page_iri(page.number + 1)}
    publisher = {
        "@id": f"{hub_url()}/#publisher",
        "@type": ["foaf:Agent", "foaf:Organization"],
        "foaf:name": settings.CATALOGUE_PUBLISHER_NAME,
        "dct:type": _concept(
            vocab.PUBLISHER_TYPE_BASE + settings.CATALOGUE_PUBLISHER_TYPE,
            vocab.PUBLISHER_TYPE_LABELS.get(
                settings.CATALOGUE_PUBLISHER_TYPE, settings.CATALOGUE_PUBLISHER_TYPE
            ),
        ),
    }
    catalogue: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": catalogue_iri(),
        "@type": ["dcat:Catalog", "hydra:Collection"],
        "dct:title": settings.CATALOGUE_TITLE,
        "dct:description": (
            "Health datasets held at data stations, visited by permitted algorithms under "
            "signed permits; harvestable as DCAT-AP 3 and HealthDCAT-AP."
        ),
        "dct:publisher": publisher,
        "foaf:homepage": {"@id": f"{hub_url()}/catalogue/", "@type": "foaf:Document"},
        "dct:language": {"@id": vocab.LANGUAGE_ENG, "@type": "dct:LinguisticSystem"},
        "dct:license": {
            "@id": settings.CATALOGUE_LICENCE_URL,
            "@type": "dct:LicenseDocument",
            "dct:type": _concept(
                vocab.LICENCE_TYPE_BASE + "PublicDomain", vocab.LICENCE_TYPES["PublicDomain"]
            ),
        },
        "dcat:themeTaxonomy": {
            "@id": vocab.DATA_THEME_SCHEME,
            "@type": "skos:ConceptScheme",
            "dct:title": "Data theme",
        },
        "dct:spatial": [_place(code) for code in page.places if code in vocab.PLACES],
        "dcatap:applicableLegislation": _legislation(),
        "hydra:totalItems": page.total,
        "hydra:view": view,
        "dcat:dataset": [dataset_node(d) for d in page.datasets],
        "dcat:service": [data_service(nodes[pk], served[pk]) for pk in sorted(nodes)],
    }
    if page.issued is not None:
        catalogue["dct:issued"] = _date(page.issued)
    if page.modified is not None:
        catalogue["dct:modified"] = _date(page.modified)
    return {key: value for key, value in catalogue.items() if value != []}


def to_turtle(document: dict[str, Any]) -> str:
    """The same statements as Turtle (rdflib parses our JSON-LD; the context is inline, so
    nothing is fetched)."""
    from rdflib import Graph

    graph = Graph()
    graph.parse(data=json.dumps(document), format="json-ld")
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    return graph.serialize(format="turtle")
