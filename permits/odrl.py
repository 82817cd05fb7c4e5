"""A permit as an ODRL 2.2 Agreement (JSON-LD), the language data spaces (Eclipse Dataspace
Components, the Dataspace Protocol) and the EHDS discussions use for usage rules.

- assigner: per dataset, its health data access body, else its owner (who granted access);
- assignee: the holder organisation (the register shows no person, and neither does this);
- target: the datasets, by their catalogue IRIs (catalogue/dcat.py);
- constraints: the permit's purpose and period, then each dataset's DUO conditions with their
  values, written as duo-odrl-dpv writes them (catalogue/odrl.py);
- output rules: aggregate only and the minimum cell count, and the permitted algorithm digests,
  as terms of this hub's ODRL profile (``odrl:profile``), since ODRL 2.2 has no such operands.

It is public, like the register entry it is part of.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from catalogue.dcat import dataset_iri, organisation_iri
from catalogue.odrl import ODRL_CONTEXT, duo_rules, obo_iri, purpose_iris
from permits.models import Permit


def profile_iri() -> str:
    return f"{settings.HUB_URL}/odrl-profile"


def agreement_iri(permit: Permit) -> str:
    return f"{settings.HUB_URL}/register/{permit.number}/#agreement"


def _party(organisation: Any) -> dict[str, Any]:
    return {
        "@id": organisation_iri(organisation),
        "@type": "odrl:Party",
        "rdfs:label": organisation.name,
    }


def _datetime(value: Any) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def _permit_constraints(permit: Permit) -> list[dict[str, Any]]:
    """Purpose and period, which hold for every dataset of the permit."""
    constraints: list[dict[str, Any]] = [
        {
            "odrl:leftOperand": {"@id": "odrl:purpose"},
            "odrl:operator": {"@id": "odrl:isA"},
            "odrl:rightOperand": {"@id": iri},
        }
        for iri in purpose_iris(permit.purpose_codes)
    ]
    constraints += [
        {
            "odrl:leftOperand": {"@id": "duodrl:Disease"},
            "odrl:operator": {"@id": "odrl:isA"},
            "odrl:rightOperand": {"@id": obo_iri(disease)},
        }
        for disease in permit.purpose_diseases
    ]
    constraints += [
        {
            "odrl:leftOperand": {"@id": "odrl:dateTime"},
            "odrl:operator": {"@id": "odrl:gteq"},
            "odrl:rightOperand": _datetime(permit.valid_from),
        },
        {
            "odrl:leftOperand": {"@id": "odrl:dateTime"},
            "odrl:operator": {"@id": "odrl:lt"},
            "odrl:rightOperand": _datetime(permit.valid_until),
        },
        {
            "odrl:leftOperand": {"@id": "lifes:algorithmDigest"},
            "odrl:operator": {"@id": "odrl:isAnyOf"},
            "odrl:rightOperand": sorted(a.digest for a in permit.permit_algorithms.all()),
        },
    ]
    return constraints


def _output_duties(permit: Permit) -> list[dict[str, Any]]:
    duties: list[dict[str, Any]] = []
    if permit.is_aggregate_only:
        duties.append({"odrl:action": {"@id": "odrl:aggregate"}})
    duties.append(
        {
            "odrl:action": {"@id": "odrl:anonymize"},
            "odrl:constraint": [
                {
                    "odrl:leftOperand": {"@id": "lifes:minCellCount"},
                    "odrl:operator": {"@id": "odrl:gteq"},
                    "odrl:rightOperand": {
                        "@value": str(permit.min_cell_count),
                        "@type": "xsd:integer",
                    },
                }
            ],
        }
    )
    return duties


def permit_agreement(permit: Permit) -> dict[str, Any]:
    """The ODRL 2.2 Agreement of ``permit`` (JSON-LD with an inline context)."""
    snapshot = {entry["id"]: entry for entry in (permit.conditions or {}).get("datasets", [])}
    permissions: list[dict[str, Any]] = []
    prohibitions: list[dict[str, Any]] = []
    sources: list[str] = []
    for entry in permit.permit_datasets.all():
        dataset = entry.dataset
        # The values fixed at issue time win over today's catalogue values.
        values = {**(dataset.duo_values or {}), **snapshot.get(dataset.slug, {}).get("values", {})}
        rules = duo_rules(
            codes=dataset.duo_codes,
            diseases=dataset.duo_diseases,
            values=values,
            target=dataset_iri(dataset),
        )
        assigner = _party(dataset.hdab or dataset.owner)
        for permission in rules["odrl:permission"]:
            permission["odrl:assigner"] = assigner
            permission["odrl:constraint"] = [
                *_permit_constraints(permit),
                *permission.get("odrl:constraint", []),
            ]
            permission["odrl:duty"] = [*permission.get("odrl:duty", []), *_output_duties(permit)]
            permissions.append(permission)
        for prohibition in rules.get("odrl:prohibition", []):
            prohibition["odrl:assigner"] = assigner
            prohibitions.append(prohibition)
        sources += [obo_iri(code) for code in dataset.duo_codes if obo_iri(code) not in sources]
    agreement: dict[str, Any] = {
        "@context": {**ODRL_CONTEXT, "lifes": f"{profile_iri()}#"},
        "@id": agreement_iri(permit),
        "@type": ["odrl:Agreement", "odrl:Policy"],
        "odrl:uid": {"@id": agreement_iri(permit)},
        "odrl:profile": [{"@id": profile_iri()}, {"@id": "https://w3id.org/duodrl"}],
        "dct:identifier": permit.number,
        "dct:issued": _datetime(permit.issued_at),
        "dct:source": [{"@id": iri} for iri in sources],
        "odrl:assignee": _party(permit.holder_organisation),
        "odrl:permission": permissions,
    }
    if prohibitions:
        agreement["odrl:prohibition"] = prohibitions
    return agreement
