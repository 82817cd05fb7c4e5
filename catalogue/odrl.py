"""DUO data-use conditions as ODRL 2.2 rules, following duo-odrl-dpv.

duo-odrl-dpv (H. J. Pandit, B. Esteves, "Enhancing Data Use Ontology (DUO) for Health-Data
Sharing by Extending it with ODRL and DPV", https://w3id.org/duodrl) gives one ODRL rule set per
DUO term, with placeholders (``:TemplateLocation``, ``:TemplateTimeLimit``, ...) where a term
carries a value. Here the placeholders are filled with the dataset's own values, so the same
rules serve the catalogue's ``odrl:Offer`` and the permit's ``odrl:Agreement``.

Pure functions returning JSON-LD nodes written with the prefixes of ``ODRL_CONTEXT``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalogue.vocab import DUODRL, EU_AUTHORITY, country_iri

# The DUO codes have one home, consent.duo. The catalogue sits below consent in the layers, but
# consent.duo is constants only (no Django, no project import), so this one import is let
# through by the layers contract (pyproject.toml) rather than writing the codes a second time.
from consent import duo

ODRL_CONTEXT: dict[str, str] = {
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "obo": "http://purl.obolibrary.org/obo/",
    "dpv": "https://w3id.org/dpv#",
    "duodrl": DUODRL,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}

# DUO primary permissions → the duo-odrl-dpv purpose they permit (duodrl names these purposes
# by DUO's own shorthand).
PURPOSE_OF_PERMISSION = {code: duo.ABBREVIATIONS[code] for code in duo.PRIMARY_PURPOSES}
# Research-type terms of a request's purpose → duo-odrl-dpv purposes.
PURPOSE_OF_RESEARCH_TYPE = {
    duo.MDS: "MDS",
    duo.CONTROL: "ResearchControl",
    duo.POPULATION: "PopulationGroupResearch",
    duo.ANCESTRY: "POA",
    duo.AGE: "AgeCategoryResearch",
    duo.GENDER: "GenderCategoryResearch",
    duo.CC: "CC",
}
# Modifiers that put a duty on the assignee (duo-odrl-dpv actions).
DUTY_OF_MODIFIER = {
    duo.IRB: {"odrl:action": {"@id": "duodrl:ProvideEthicalApproval"}},
    duo.COL: {"odrl:action": {"@id": "duodrl:CollaborateWithStudyPI"}},
    duo.RTN: {"odrl:action": {"@id": "duodrl:ReturnDerivedOrEnrichedData"}},
    duo.PUB: {
        "odrl:action": {"@id": "odrl:distribute"},
        "odrl:output": {"@id": "duodrl:ResultsOfStudies"},
    },
}
# Modifiers that forbid a purpose.
PROHIBITED_PURPOSE_OF_MODIFIER = {duo.NMDS: "MDS", duo.NPOA: "POA"}
# Value-carrying modifiers about who may use the data (US, IS) or for what (PS). duodrl has
# ``Project``; for users and institutions the DPV left operand ``dpv:hasRecipient`` (listed by
# duo-odrl-dpv among DPV properties usable as ODRL left operands) names the approved parties.
APPROVED_OF_MODIFIER = {
    duo.US: "dpv:hasRecipient",
    duo.IS: "dpv:hasRecipient",
    duo.PS: "duodrl:Project",
}


_DATE = "xsd:date"


def obo_iri(curie: str) -> str:
    prefix, local = curie.split(":", 1)
    return f"http://purl.obolibrary.org/obo/{prefix}_{local}"


def region_iri(value: str) -> str:
    """A DUO GS value as a place IRI: ``EU`` and three-letter codes use the EU authority
    tables (ODRL recommends IRIs for places); anything else stays a literal."""
    value = str(value).strip()
    if value.upper() == "EU":
        return f"{EU_AUTHORITY}continent/EUROPE"
    if len(value) == 3 and value.isalpha():
        return country_iri(value.upper())
    return value


def _constraint(left: str, operator: str, right: Any) -> dict[str, Any]:
    return {"odrl:leftOperand": {"@id": left}, "odrl:operator": {"@id": operator}, **right}


def _purpose_is(purpose: str, *, operator: str = "odrl:isA") -> dict[str, Any]:
    return _constraint(
        "odrl:purpose", operator, {"odrl:rightOperand": {"@id": f"duodrl:{purpose}"}}
    )


def duo_rules(
    *,
    codes: Sequence[str],
    diseases: Sequence[str] = (),
    values: Mapping[str, Any] | None = None,
    target: str | list[str],
    assignee: dict[str, Any] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """``{"odrl:permission": [...], "odrl:prohibition": [...]}`` for DUO conditions.

    The use permission carries every constraint and duty; prohibitions are the duo-odrl-dpv
    "is limited to" readings. Unknown or value-less terms still appear as ``dct:source`` of the
    policy (the caller adds that), so nothing is dropped silently.
    """
    values = values or {}
    targets = [target] if isinstance(target, str) else list(target)
    base: dict[str, Any] = {
        "odrl:action": {"@id": "odrl:use"},
        "odrl:target": [{"@id": t} for t in targets],
    }
    if assignee is not None:
        base["odrl:assignee"] = assignee
    constraints: list[dict[str, Any]] = []
    duties: list[dict[str, Any]] = []
    prohibitions: list[dict[str, Any]] = []
    for code in codes:
        if code in PURPOSE_OF_PERMISSION:
            constraints.append(_purpose_is(PURPOSE_OF_PERMISSION[code]))
            if code == duo.DS:
                constraints.extend(
                    _constraint(
                        "duodrl:Disease",
                        "odrl:isA",
                        {"odrl:rightOperand": {"@id": obo_iri(disease)}},
                    )
                    for disease in diseases
                )
            if code == duo.POA:
                prohibitions.append(
                    {**base, "odrl:constraint": [_purpose_is("POA", operator="duodrl:isNotA")]}
                )
        elif code == duo.NCU:  # NCU
            constraints.append(_purpose_is("NCU"))
            prohibitions.append(
                {**base, "odrl:constraint": [_purpose_is("NCU", operator="duodrl:isNotA")]}
            )
        elif code == duo.NPU:  # NPU: for-profit organisations may not use it
            prohibitions.append(
                {
                    **{k: v for k, v in base.items() if k != "odrl:assignee"},
                    "odrl:assignee": {
                        "@type": "odrl:Party",
                        "obo:DUO_0000010": {"@id": "duodrl:ForProfitOrganisation"},
                    },
                }
            )
        elif code == duo.NPUNCU:  # NPUNCU
            constraints.append(_purpose_is("NCU"))
            prohibitions.append(
                {
                    **{k: v for k, v in base.items() if k != "odrl:assignee"},
                    "odrl:assignee": {
                        "@type": "odrl:Party",
                        "obo:DUO_0000010": {"@id": "duodrl:ForProfitOrganisation"},
                    },
                }
            )
        elif code in PROHIBITED_PURPOSE_OF_MODIFIER:
            prohibitions.append(
                {**base, "odrl:constraint": [_purpose_is(PROHIBITED_PURPOSE_OF_MODIFIER[code])]}
            )
        elif code == duo.GS and code in values:  # GS: within the region only
            place = region_iri(values[code])
            right = (
                {"odrl:rightOperand": {"@id": place}}
                if place.startswith("http")
                else {"odrl:rightOperand": place}
            )
            constraints.append(_constraint("odrl:spatial", "odrl:lteq", right))
            prohibitions.append(
                {**base, "odrl:constraint": [_constraint("odrl:spatial", "odrl:gt", right)]}
            )
        elif code == duo.TS and code in values:  # TS: use for N months
            months = int(values[code])
            constraints.append(
                _constraint(
                    "odrl:elapsedTime",
                    "odrl:lteq",
                    {"odrl:rightOperand": {"@value": f"P{months}M", "@type": "xsd:duration"}},
                )
            )
        elif code == duo.MOR and code in values:  # MOR: no publication before a date
            prohibitions.append(
                {
                    "odrl:action": {"@id": "odrl:distribute"},
                    "odrl:target": base["odrl:target"],
                    "odrl:output": {"@id": "duodrl:ResultsOfStudies"},
                    "odrl:constraint": [
                        _constraint(
                            "odrl:dateTime",
                            "odrl:lt",
                            {
                                "odrl:rightOperand": {
                                    "@value": str(values[code]),
                                    "@type": "xsd:date",
                                }
                            },
                        )
                    ],
                }
            )
        elif code in APPROVED_OF_MODIFIER and code in values:
            approved = values[code]
            approved = approved if isinstance(approved, list) else [approved]
            constraints.append(
                _constraint(
                    APPROVED_OF_MODIFIER[code],
                    "odrl:isAnyOf",
                    {"odrl:rightOperand": [str(a) for a in approved]},
                )
            )
        elif code in DUTY_OF_MODIFIER:
            duties.append(dict(DUTY_OF_MODIFIER[code]))
    permission = dict(base)
    if constraints:
        permission["odrl:constraint"] = constraints
    if duties:
        permission["odrl:duty"] = duties
    rules: dict[str, list[dict[str, Any]]] = {"odrl:permission": [permission]}
    if prohibitions:
        rules["odrl:prohibition"] = prohibitions
    return rules


def purpose_iris(codes: Sequence[str]) -> list[str]:
    """The duo-odrl-dpv purposes of DUO codes (a dataset's permission or a request's purpose)."""
    names = [
        PURPOSE_OF_PERMISSION.get(code) or PURPOSE_OF_RESEARCH_TYPE.get(code) for code in codes
    ]
    return [f"{DUODRL}{name}" for name in names if name]
