"""Consenting participants for the demo datasets, imported through the consent services.

``seed_consent(report)`` is called by ``demo.world.seed_demo`` after the datasets exist. Each
dataset gets a deterministic CSV (one dataset as a FHIR R5 Bundle) imported as the system, then a
withdrawal and a national opt-out, so the steward pages show a history. Datasets that already
have participants are left alone, so running it twice changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from catalogue.models import Dataset
from consent.duo import DS, GRU, HMB, MDS, NCU, POA
from consent.models import Participant
from consent.services import consent_import, consent_withdraw, participant_opt_out_record

DIABETES, T2D, T1D = "MONDO:0005015", "MONDO:0005148", "MONDO:0005147"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CSV_HEADER = "participant,permit,permit_diseases,deny,deny_diseases,period_start,date_signed\n"


def _diabetes_csv() -> str:
    """60 participants: diabetes research (some only type 2; some refusing type 1 research)."""
    rows = []
    for i in range(1, 61):
        if i <= 40:
            permit, diseases, deny, deny_diseases = DS, DIABETES, "", ""
        elif i <= 52:
            permit, diseases, deny, deny_diseases = DS, T2D, "", ""
        elif i <= 57:
            permit, diseases, deny, deny_diseases = HMB, "", MDS, ""
        else:
            permit, diseases, deny, deny_diseases = DS, DIABETES, DS, T1D
        # The pseudonyms are the participant_id column of demo/node/data (P0001..P0060), so
        # the cohort the hub sends selects rows of the node's demo dataset.
        rows.append(
            f"P{i:04d},{permit},{diseases},{deny},{deny_diseases},2019-03-01,"
            f"2019-0{1 + i % 9}-1{i % 10}\n"
        )
    return CSV_HEADER + "".join(rows)


def _cardio_bundle() -> str:
    """120 FHIR R5 Consents: health research, most for non-commercial use only."""
    entries = []
    for i in range(1, 121):
        purposes: list[dict[str, Any]] = [
            {"system": "http://purl.obolibrary.org/obo/duo.owl", "code": HMB}
        ]
        if i % 4:
            purposes.append({"system": "http://purl.obolibrary.org/obo/duo.owl", "code": NCU})
        provision: dict[str, Any] = {"purpose": purposes}
        if i % 10 == 0:
            provision["provision"] = [
                {"purpose": [{"system": "http://purl.obolibrary.org/obo/duo.owl", "code": MDS}]}
            ]
        entries.append(
            {
                "resource": {
                    "resourceType": "Consent",
                    "id": f"lcb-{i:04d}",
                    "status": "active",
                    # R5 has no scope: the research kind is a category (consentscope research).
                    "category": [
                        {"coding": [{"system": "http://loinc.org", "code": "59284-0"}]},
                        {"coding": [{"system": CONSENT_SCOPE, "code": "research"}]},
                    ],
                    "subject": {"reference": f"Patient/LCB-{i:04d}"},
                    "date": "2021-09-01",
                    "period": {"start": "2021-09-01"},
                    "policyBasis": {"url": "https://lumc.example/policies/biobank-consent|3.0"},
                    "decision": "deny",
                    "provision": [provision],
                }
            }
        )
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _population_csv() -> str:
    """200 participants: general research use; a few refuse ancestry research."""
    rows = [
        f"LPH-{i:04d},{GRU},,{POA if i % 25 == 0 else ''},,2020-01-01,2019-12-1{i % 10}\n"
        for i in range(1, 201)
    ]
    return CSV_HEADER + "".join(rows)


DEMO_CONSENT = [
    # dataset slug, content, format, withdrawn participant, opted-out participant
    ("leiden-diabetes-cohort", _diabetes_csv, "csv", "P0007", "P0013"),
    ("lumc-cardiovascular-biobank", _cardio_bundle, "fhir-r5", "LCB-0003", "LCB-0042"),
    ("leiden-population-health-study", _population_csv, "csv", "LPH-0100", "LPH-0150"),
]


def seed_consent(report: Any) -> None:
    """Import the demo consents; ``report.created`` (a list) gets one line per dataset."""
    for slug, build, fmt, withdrawn, opted_out in DEMO_CONSENT:
        dataset = Dataset.objects.filter(slug=slug).first()
        if dataset is None or Participant.objects.filter(dataset=dataset).exists():
            continue
        imported = consent_import(
            actor=None,
            dataset=dataset,
            content=build(),
            fmt=fmt,
            filename=f"demo-{slug}.{'json' if 'fhir' in fmt else 'csv'}",
        )
        consent_withdraw(
            actor=None,
            dataset=dataset,
            pseudonym=withdrawn,
            note="Demo: withdrawn by letter to the study team.",
        )
        participant_opt_out_record(actor=None, dataset=dataset, pseudonym=opted_out)
        report.created.append(
            f"consent {slug}: {imported.participants_created} participants, "
            f"1 withdrawal, 1 national opt-out"
        )
