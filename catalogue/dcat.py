"""A dataset as DCAT-AP JSON-LD, so FAIR catalogues can harvest the hub."""

from __future__ import annotations

from typing import Any

from catalogue.models import Dataset

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "obo": "http://purl.obolibrary.org/obo/",
}


def _obo_iri(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return f"http://purl.obolibrary.org/obo/{prefix}_{local}"


def dataset_jsonld(dataset: Dataset, *, landing_page: str) -> dict[str, Any]:
    publisher: dict[str, Any] = {"@type": "foaf:Organization", "foaf:name": dataset.owner.name}
    if dataset.owner.ror_id:
        publisher["@id"] = f"https://ror.org/{dataset.owner.ror_id}"
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": landing_page,
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.persistent_identifier,
        "dct:title": dataset.title,
        "dct:description": dataset.description,
        "dcat:keyword": dataset.keyword_list,
        "dct:publisher": publisher,
        "dcat:contactPoint": {
            "@type": "vcard:Kind",
            "vcard:hasEmail": {"@id": f"mailto:{dataset.contact_email}"},
        },
        "dcat:landingPage": {"@id": landing_page},
        "dct:accessRights": {
            "@id": "http://publications.europa.eu/resource/authority/access-right/RESTRICTED"
        },
        "dct:issued": {"@value": dataset.created_at.date().isoformat(), "@type": "xsd:date"},
        "dct:modified": {"@value": dataset.updated_at.date().isoformat(), "@type": "xsd:date"},
        # Data-use conditions as ontology IRIs (GA4GH DUO, MONDO), as the DUO docs recommend.
        "dct:rights": [{"@id": _obo_iri(code)} for code in dataset.duo_codes],
        "dct:subject": [{"@id": _obo_iri(term)} for term in dataset.duo_diseases],
    }
    if dataset.licence:
        document["dct:license"] = dataset.licence
    return document
