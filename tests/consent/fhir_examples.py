"""FHIR Consent examples for the import tests, modelled on those published with HL7 FHIR.

The R4 ones follow the shape of the R4 examples (``consent-example-basic``, ``-Out``,
``-notThis``): ``scope``, a LOINC 59284-0 "Patient Consent" category, ``patient``, ``dateTime``,
``organization``, ``policy``/``policyRule`` and one root ``provision`` with nested ``type``d
provisions. The R5 ones follow the R5 examples: ``subject``, ``date``, ``controller``,
``policyBasis``, a base ``decision`` and ``provision[]`` exceptions. Purposes are DUO-coded, as
a research consent for a LIFES dataset would be.
"""

from __future__ import annotations

import copy
from typing import Any

DUO = "http://purl.obolibrary.org/obo/duo.owl"
MONDO = "http://purl.obolibrary.org/obo/mondo.owl"
LOINC_CONSENT = {
    "coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}]
}
RESEARCH_SCOPE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
            "code": "research",
            "display": "Research",
        }
    ]
}


def duo(code: str, display: str = "") -> dict[str, str]:
    coding = {"system": DUO, "code": code}
    if display:
        coding["display"] = display
    return coding


def mondo(code: str, display: str = "") -> dict[str, str]:
    coding = {"system": MONDO, "code": code}
    if display:
        coding["display"] = display
    return coding


def _r4(
    identifier: str,
    *,
    status: str = "active",
    provision: dict[str, Any] | None = None,
    policy_rule: str = "OPTIN",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": identifier.lower(),
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">Research consent</div>',
        },
        "status": status,
        "scope": RESEARCH_SCOPE,
        "category": [LOINC_CONSENT],
        "patient": {"reference": f"Patient/{identifier}"},
        "dateTime": "2021-03-15T10:30:00+01:00",
        "organization": [{"reference": "Organization/lumc", "display": "LUMC"}],
        "sourceAttachment": {"title": "Biobank consent form, version 2.1"},
        "policy": [
            {
                "authority": "https://www.lumc.nl",
                "uri": "https://lumc.example/policies/biobank-consent|2.1",
            }
        ],
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": policy_rule}
            ]
        },
    }
    if provision is not None:
        resource["provision"] = provision
    return resource


#: Permits health/medical/biomedical research 2020–2035, except methods development.
R4_PERMIT_HMB_DENY_MDS = _r4(
    "P-R4-01",
    provision={
        "type": "permit",
        "period": {"start": "2020-01-01", "end": "2035-12-31"},
        "purpose": [duo("DUO:0000006", "health or medical or biomedical research")],
        "provision": [{"type": "deny", "purpose": [duo("DUO:0000031", "method development")]}],
    },
)

#: The same form, but the consent is inactive.
R4_INACTIVE = _r4(
    "P-R4-02",
    status="inactive",
    provision={"type": "permit", "purpose": [duo("DUO:0000042", "general research use")]},
)

#: An opt-out policy (root provision without type: deny everything) with one permitted
#: exception: research on diabetes mellitus, 2022–2030 (like consent-example-Out, inverted).
R4_OPTOUT_PERMIT_DS = _r4(
    "P-R4-03",
    policy_rule="OPTOUT",
    provision={
        "provision": [
            {
                "type": "permit",
                "period": {"start": "2022-01-01", "end": "2030-12-31"},
                "purpose": [
                    duo("DUO:0000007", "disease specific research"),
                    mondo("MONDO:0005015", "diabetes mellitus"),
                ],
            }
        ],
    },
)

#: General research use, but only 2015–2019: no longer in force.
R4_EXPIRED = _r4(
    "P-R4-04",
    provision={
        "type": "permit",
        "period": {"start": "2015-01-01", "end": "2019-12-31"},
        "purpose": [duo("DUO:0000042")],
    },
)


def _r5(
    identifier: str,
    *,
    status: str = "active",
    decision: str | None = "permit",
    provision: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": identifier.lower(),
        "status": status,
        "category": [LOINC_CONSENT, RESEARCH_SCOPE],  # R5: the kind is a category
        "subject": {"reference": f"Patient/{identifier}", "display": "pseudonymised"},
        "date": "2023-05-01",
        "period": {"start": "2023-05-01"},
        "controller": [{"reference": "Organization/lumc"}],
        "sourceAttachment": [{"title": "Biobank consent form, version 3.0"}],
        "policyBasis": {"url": "https://lumc.example/policies/biobank-consent|3.0"},
    }
    if decision is not None:
        resource["decision"] = decision
    if provision is not None:
        resource["provision"] = provision
    return resource


#: Permits all research (base decision), except population/ancestry research and methods
#: development (two exceptions).
R5_PERMIT_EXCEPT_POA_MDS = _r5(
    "P-R5-01",
    provision=[
        {"purpose": [duo("DUO:0000011", "population origins or ancestry research only")]},
        {"purpose": [duo("DUO:0000031", "method development")]},
    ],
)

#: Denies by default; permits cancer research 2024–2034, except breast cancer (a nested
#: exception to the exception).
R5_PERMIT_CANCER_EXCEPT_BREAST = _r5(
    "P-R5-02",
    decision="deny",
    provision=[
        {
            "period": {"start": "2024-01-01", "end": "2034-12-31"},
            "purpose": [duo("DUO:0000007"), mondo("MONDO:0004992", "cancer")],
            "provision": [
                {"purpose": [duo("DUO:0000007"), mondo("MONDO:0007254", "breast cancer")]}
            ],
        }
    ],
)

#: Inactive (R5 status).
R5_INACTIVE = _r5("P-R5-03", status="inactive")

#: Permits health research by not-for-profit organisations for non-commercial use (NPUNCU).
R5_PERMIT_HMB_NPUNCU = _r5(
    "P-R5-04",
    decision="deny",
    provision=[
        {
            "purpose": [
                duo("DUO:0000006"),
                duo("DUO:0000018", "not for profit, non commercial use only"),
            ],
        }
    ],
)

R4_EXAMPLES = [R4_PERMIT_HMB_DENY_MDS, R4_INACTIVE, R4_OPTOUT_PERMIT_DS, R4_EXPIRED]
R5_EXAMPLES = [
    R5_PERMIT_EXCEPT_POA_MDS,
    R5_PERMIT_CANCER_EXCEPT_BREAST,
    R5_INACTIVE,
    R5_PERMIT_HMB_NPUNCU,
]

PATIENT = {"resourceType": "Patient", "id": "P-R5-01", "active": True}


def bundle(resources: list[dict[str, Any]], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": "consents-2026-11",
        "type": kind,
        "entry": [
            {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "resource": copy.deepcopy(r)}
            for i, r in enumerate(resources, start=1)
        ],
    }
