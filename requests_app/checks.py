"""Builds the facts of a request for the consent and legal checks (consent.checks) and names
the dataset each outcome is about. The checks themselves live in ``consent``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalogue.models import Dataset
from consent import checks
from consent.cohort import cohort_for
from consent.matcher import Conditions, Purpose
from requests_app.models import AccessRequest


@dataclass(frozen=True)
class Outcome:
    name: str
    dataset: str | None
    dataset_obj: Dataset | None
    status: str
    explanation: str
    details: dict[str, Any]


def request_purpose(request: AccessRequest) -> Purpose:
    codes = tuple(code for code in (request.purpose_code, *request.research_types) if code)
    return Purpose(codes=codes, diseases=tuple(request.purpose_diseases),
                   commercial=request.is_commercial,
                   for_profit=request.organisation.is_for_profit)


def request_facts(request: AccessRequest) -> checks.RequestFacts:
    purpose = request_purpose(request)
    datasets = []
    for dataset in request.datasets.order_by("slug"):
        conditions = Conditions(codes=tuple(dataset.duo_codes),
                                diseases=tuple(dataset.duo_diseases),
                                values=dict(dataset.duo_values))
        try:
            cohort_count = cohort_for(dataset=dataset, purpose=purpose).count
        except Exception:  # noqa: BLE001 - an unusable purpose has no cohort; the check says so
            cohort_count = None
        datasets.append(checks.DatasetFacts(
            slug=dataset.slug, conditions=conditions,
            contains_personal_data=dataset.contains_personal_data,
            min_cohort_size=dataset.min_cohort_size, cohort_count=cohort_count))
    organisation = request.organisation
    return checks.RequestFacts(
        organisation_kind=organisation.kind, organisation_is_for_profit=organisation.is_for_profit,
        organisation_country=str(organisation.country),
        ehds_category=request.ehds_category,
        declared_prohibited_uses=() if request.no_prohibited_use else ("undeclared",),
        gdpr_art6_basis=request.gdpr_art6_basis, gdpr_art9_basis=request.gdpr_art9_basis,
        ethics_reference=request.ethics_reference, ethics_committee=request.ethics_committee,
        ethics_expires_on=request.ethics_expires_on,
        period_start=request.period_start, period_end=request.period_end,
        processing_outside_eea=request.processing_outside_eea,
        outside_eea_countries=tuple(c.strip().upper() for c in
                                    request.outside_eea_countries.replace(";", ",").split(",")
                                    if c.strip()),
        purpose=purpose, datasets=tuple(datasets),
    )


def evaluate(request: AccessRequest) -> list[Outcome]:
    by_slug = {d.slug: d for d in request.datasets.all()}
    return [
        Outcome(name=o.name, dataset=o.dataset, dataset_obj=by_slug.get(o.dataset or ""),
                status=o.status, explanation=o.explanation, details=dict(o.details))
        for o in checks.run_checks(request_facts(request))
    ]
