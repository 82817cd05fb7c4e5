"""Builds the facts of a request for the consent and legal checks (consent.checks) and names
the dataset each outcome is about. The checks themselves live in ``consent``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation

from catalogue.models import Dataset
from consent import checks
from consent.matcher import Purpose
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
    return Purpose(
        codes=codes,
        diseases=tuple(request.purpose_diseases),
        commercial=request.is_commercial,
        for_profit=request.organisation.is_for_profit,
    )


def request_facts(request: AccessRequest) -> checks.RequestFacts:
    purpose = request_purpose(request)
    organisation = request.organisation
    return checks.RequestFacts(
        organisation_kind=organisation.kind,
        organisation_is_for_profit=organisation.is_for_profit,
        organisation_country=str(organisation.country),
        purpose=purpose,
        datasets=checks.dataset_facts(purpose, request.datasets.order_by("slug")),
        ehds_category=request.ehds_category,
        # Submission requires the requester to confirm that no Art. 54 use is involved.
        declared_prohibited_uses=(),
        gdpr_art6_basis=request.gdpr_art6_basis,
        gdpr_art9_basis=request.gdpr_art9_basis,
        ethics_reference=request.ethics_reference,
        ethics_committee=request.ethics_committee,
        ethics_expires_on=request.ethics_expires_on,
        period_start=request.period_start,
        period_end=request.period_end,
        processing_outside_eea=request.processing_outside_eea,
        processing_countries=tuple(
            c.strip().upper()
            for c in request.outside_eea_countries.replace(";", ",").split(",")
            if c.strip()
        ),
    )


def evaluate(request: AccessRequest) -> list[Outcome]:
    """The checks' outcomes, each explained in every language of the hub: the checks run once
    (in a worker, in no one's language) and are read in English and Dutch alike, so the
    explanation of each language is kept in ``details["explanations"]``. The checks are pure
    functions of the facts, so running them per language gives the same outcomes in the same
    order."""
    by_slug = {d.slug: d for d in request.datasets.all()}
    facts = request_facts(request)
    outcomes = checks.run_checks(facts)
    explained: dict[str, list[str]] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            explained[code] = [o.explanation for o in checks.run_checks(facts)]
    return [
        Outcome(
            name=o.name,
            dataset=o.dataset,
            dataset_obj=by_slug.get(o.dataset or ""),
            status=o.status,
            explanation=o.explanation,
            details={
                **o.details,
                "explanations": {code: texts[index] for code, texts in explained.items()},
            },
        )
        for index, o in enumerate(outcomes)
    ]
