"""EHDS in the demo: every demo dataset's data dictionary and data-use terms (Art. 66, 68).

Idempotent: a dictionary is written when the dataset has none, terms version 1 when it has
none; both through the catalogue services, as the system (``actor=None``), so they are audited.
"""

from __future__ import annotations

from typing import Any

from catalogue.models import Dataset
from catalogue.services import dataset_dictionary_set, dataset_terms_publish

COMMON = [
    {"name": "participant_id", "label": "Pseudonymous participant id", "type": "string"},
    {"name": "sex", "label": "Sex", "type": "code", "codelist": "HL7 administrative-gender"},
    {"name": "birth_year", "label": "Year of birth", "type": "integer"},
]
DICTIONARIES: dict[str, list[dict[str, Any]]] = {
    "leiden-diabetes-cohort": [
        *COMMON,
        {"name": "bmi", "label": "Body-mass index", "type": "decimal", "unit": "kg/m2"},
        {"name": "hba1c", "label": "HbA1c", "type": "decimal", "unit": "mmol/mol"},
        {"name": "diagnosis_date", "label": "Date of the diabetes diagnosis", "type": "date"},
        {
            "name": "medication",
            "label": "Glucose-lowering medication",
            "type": "code",
            "codelist": "ATC",
        },
    ],
    "lumc-cardiovascular-biobank": [
        *COMMON,
        {"name": "ldl", "label": "LDL cholesterol", "type": "decimal", "unit": "mmol/L"},
        {"name": "statin", "label": "Statin use", "type": "boolean"},
        {"name": "mace_date", "label": "Date of the first major cardiac event", "type": "date"},
    ],
    "leiden-population-health-study": [
        *COMMON,
        {"name": "steps_per_day", "label": "Mean steps per day", "type": "integer"},
        {"name": "frailty_index", "label": "Frailty index", "type": "decimal"},
        {"name": "smoking", "label": "Smoking status", "type": "code", "codelist": "SNOMED CT"},
    ],
}
TERMS_TITLE = "LUMC data-use agreement for federated analysis"
TERMS_TEXT = """1. The data stay at the LUMC data station; only the permitted algorithms visit them.
2. Only aggregate results leave the station, every cell at or above the permit's minimum count.
3. You do not try to re-identify any person, and you do not link the results to other data
   about the participants.
4. You use the results only for the purpose in the permit, and never to stigmatise or harm the
   persons or groups the data are about (EHDS Recital 73).
5. You acknowledge the LUMC and the participants in every publication, and you make the results
   public within 18 months of the end of the permit (EHDS Art. 61).
6. A breach of these terms ends the permit; the access body may impose penalties (EHDS
   Art. 63)."""


def seed_terms(report: Any) -> None:
    for dataset in Dataset.objects.filter(slug__in=DICTIONARIES).order_by("slug"):
        if not dataset.variables.exists():
            dataset_dictionary_set(
                actor=None, dataset=dataset, variables=DICTIONARIES[dataset.slug]
            )
            report.created.append(f"data dictionary of {dataset.slug}")
        if not dataset.terms_versions.exists():
            dataset_terms_publish(
                actor=None,
                dataset=dataset,
                title=TERMS_TITLE,
                text=TERMS_TEXT,
                licence_url=dataset.licence_url,
            )
            report.created.append(f"data-use terms v1 of {dataset.slug}")


def minimise(request: Any) -> None:
    """A demo request asks for a few variables of each dataset, anonymised (a draft only)."""
    from requests_app.services import minimisation_set

    for item in request.requested_datasets.select_related("dataset"):
        names = list(item.dataset.variables.values_list("name", flat=True))
        minimisation_set(
            actor=request.requester,
            request_id=request.pk,
            dataset_slug=item.dataset.slug,
            variables=[n for n in names if n != "participant_id"][:4],
            population="Adults (18 or older) in the cohort.",
            data_form="anonymised",
        )
