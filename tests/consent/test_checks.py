"""The consent and legal checks: each one's pass, fail and needs_review cases."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from catalogue.models import Dataset
from consent.checks import (
    CheckOutcome,
    DatasetFacts,
    RequestFacts,
    check_cohort_size,
    check_duo_compatibility,
    check_ehds_prohibited_uses,
    check_ehds_purpose,
    check_ethics_approval,
    check_gdpr_legal_basis,
    check_organisation,
    check_processing_location,
    dataset_facts,
    facts_cohort_counts,
    overall_status,
    run_checks,
)
from consent.legal import EEA_COUNTRIES, EhdsCategory, GdprArt6Basis, GdprArt9Basis, ProhibitedUse
from consent.matcher import Conditions, Purpose
from consent.services import consent_import

HMB, DS, GRU, MDS = "DUO:0000006", "DUO:0000007", "DUO:0000042", "DUO:0000031"
NPU, NCU, IS, IRB, NMDS = "DUO:0000045", "DUO:0000046", "DUO:0000028", "DUO:0000021", "DUO:0000015"

HEALTH = DatasetFacts(slug="cardio", conditions=Conditions(codes=(HMB,)), cohort_count=40)


def facts(**changes) -> RequestFacts:
    """A request that passes every check; each test changes what it is about."""
    base = RequestFacts(
        organisation_kind="academic",
        organisation_is_for_profit=False,
        organisation_country="NL",
        purpose=Purpose(codes=(HMB,), commercial=False, for_profit=False),
        datasets=(HEALTH,),
        ehds_category=EhdsCategory.SCIENTIFIC_RESEARCH,
        gdpr_art6_basis=GdprArt6Basis.PUBLIC_TASK,
        gdpr_art9_basis=GdprArt9Basis.RESEARCH,
        ethics_reference="METC-2026-041",
        ethics_committee="METC Leiden Den Haag Delft",
        ethics_expires_on=dt.date(2028, 12, 31),
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2028, 6, 30),
        processing_countries=("NL", "DE"),
    )
    return dataclasses.replace(base, **changes)


def one(outcomes: list[CheckOutcome]) -> tuple[str, str]:
    [outcome] = outcomes
    return outcome.status, outcome.explanation


def test_every_check_passes_for_a_sound_request():
    outcomes = run_checks(facts())

    assert [(o.name, o.dataset, o.status) for o in outcomes] == [
        ("duo_compatibility", "cardio", "pass"),
        ("cohort_size", "cardio", "pass"),
        ("organisation", "cardio", "pass"),
        ("ehds_purpose", None, "pass"),
        ("ehds_prohibited_uses", None, "pass"),
        ("gdpr_legal_basis", None, "pass"),
        ("ethics_approval", None, "pass"),
        ("processing_location", None, "pass"),
    ]
    assert overall_status(outcomes) == "pass"
    assert outcomes[0].details["decision"] == "compatible"
    assert outcomes[0].as_json()["name"] == "duo_compatibility"


# --- DUO compatibility (the matcher) -----------------------------------------------------------


def test_duo_compatibility_per_dataset():
    diabetes = DatasetFacts("diabetes", Conditions(codes=(DS,), diseases=("MONDO:0005015",)))
    regional = DatasetFacts("regional", Conditions(codes=(HMB,), values={"DUO:0000022": "EU"}))
    outcomes = check_duo_compatibility(facts(datasets=(HEALTH, diabetes, regional)))

    assert [(o.dataset, o.status) for o in outcomes] == [
        ("cardio", "pass"),
        ("diabetes", "fail"),
        ("regional", "needs_review"),
    ]
    assert outcomes[1].explanation.startswith(
        "The proposed health or medical or biomedical "
        "research (HMB, DUO:0000006) is broader than the "
        "dataset's disease specific research (DS, "
        "DUO:0000007)"
    )
    assert outcomes[2].details["decision"] == "needs_review"


def test_duo_compatibility_takes_for_profit_from_the_organisation_when_not_said():
    npu = DatasetFacts("npu", Conditions(codes=(HMB, NPU)))
    outcome = check_duo_compatibility(
        facts(
            datasets=(npu,),
            organisation_is_for_profit=True,
            purpose=Purpose(codes=(HMB,), commercial=False, for_profit=None),
        )
    )
    assert outcome[0].status == "fail"


def test_duo_compatibility_with_unreadable_conditions_needs_review():
    broken = DatasetFacts("broken", Conditions(codes=("DUO:9999999",)))
    [outcome] = check_duo_compatibility(facts(datasets=(broken,)))
    assert outcome.status == "needs_review"
    assert outcome.details == {
        "errors": {
            "conditions.codes": ["DUO:9999999 is not a known DUO term (DUO release v2021-02-23)"]
        }
    }


# --- cohort size ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "status", "explanation"),
    [
        (HEALTH, "pass", "40 participants consent to this purpose (the minimum is 10)."),
        (
            dataclasses.replace(HEALTH, cohort_count=9),
            "fail",
            "Only 9 participants consent to this purpose; the dataset needs at least 10.",
        ),
        (
            dataclasses.replace(HEALTH, cohort_count=40, min_cohort_size=50),
            "fail",
            "Only 40 participants consent to this purpose; the dataset needs at least 50.",
        ),
        (
            dataclasses.replace(HEALTH, cohort_count=10),
            "pass",
            "10 participants consent to this purpose (the minimum is 10).",
        ),
        (
            dataclasses.replace(HEALTH, cohort_count=None),
            "needs_review",
            "The number of participants whose consent covers this purpose could not be computed; a "
            "reviewer must check it.",
        ),
        (
            dataclasses.replace(HEALTH, cohort_count=0, contains_personal_data=False),
            "pass",
            "The dataset holds no personal data, so no participant consent is needed.",
        ),
    ],
)
def test_cohort_size(dataset, status, explanation):
    assert one(check_cohort_size(facts(datasets=(dataset,)))) == (status, explanation)


# --- organisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "values", "changes", "status", "explanation"),
    [
        (
            (HMB,),
            {},
            {"organisation_is_for_profit": True},
            "pass",
            "Nothing in the dataset's conditions limits which organisations may use it for this "
            "purpose.",
        ),
        (
            (HMB, NPU),
            {},
            {"organisation_is_for_profit": True, "organisation_kind": "company"},
            "fail",
            "The dataset is for not-for-profit organisations only (NPU), and the requesting "
            "organisation is for-profit.",
        ),
        (
            (HMB, NCU),
            {},
            {"purpose": Purpose(codes=(HMB,), commercial=True)},
            "fail",
            "The dataset is for non-commercial use only (NCU), and the proposed use is commercial.",
        ),
        (
            (HMB, IS),
            {IS: ["LUMC"]},
            {},
            "needs_review",
            "The dataset is limited to approved institutions (IS) (LUMC); a reviewer must check the "
            "requesting organisation.",
        ),
    ],
)
def test_organisation(codes, values, changes, status, explanation):
    dataset = DatasetFacts("d", Conditions(codes=codes, values=values))
    assert one(check_organisation(facts(datasets=(dataset,), **changes))) == (status, explanation)


# --- EHDS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "kind", "status", "explanation"),
    [
        (
            "e",
            "academic",
            "pass",
            "EHDS purpose (e) Scientific research related to health or care sectors, including "
            "development and innovation and the training, testing and evaluation of algorithms is "
            "allowed for this requester.",
        ),
        (
            "a",
            "public_body",
            "pass",
            "EHDS purpose (a) Public interest in public and occupational health is allowed for this "
            "requester.",
        ),
        (
            "b",
            "company",
            "fail",
            "EHDS purpose (b) Policy making and regulatory activities of public sector bodies is "
            "reserved for public sector bodies (Art. 53(2)); the requesting organisation is not one.",
        ),
        (
            "c",
            "academic",
            "fail",
            "EHDS purpose (c) Official statistics related to the health or care sectors is reserved "
            "for public sector bodies (Art. 53(2)); the requesting organisation is not one.",
        ),
        (
            "",
            "academic",
            "fail",
            "No EHDS Art. 53(1) purpose (a–f) is given for the secondary use.",
        ),
        (
            "g",
            "academic",
            "fail",
            "No EHDS Art. 53(1) purpose (a–f) is given for the secondary use.",
        ),
    ],
)
def test_ehds_purpose(category, kind, status, explanation):
    assert one(check_ehds_purpose(facts(ehds_category=category, organisation_kind=kind))) == (
        status,
        explanation,
    )


def test_ehds_prohibited_uses():
    assert one(check_ehds_prohibited_uses(facts())) == (
        "pass",
        "No use prohibited by EHDS Art. 54 is declared.",
    )
    status, explanation = one(
        check_ehds_prohibited_uses(
            facts(
                declared_prohibited_uses=(
                    ProhibitedUse.ADVERTISING,
                    ProhibitedUse.INSURANCE_EMPLOYMENT,
                )
            )
        )
    )
    assert status == "fail"
    assert explanation == (
        "The request declares uses that EHDS Art. 54 prohibits: (c) Advertising or marketing "
        "activities; (b) Decisions on job offers, less favourable terms for goods or services, "
        "insurance or credit, or other discrimination based on health data."
    )


# --- GDPR -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "explanation"),
    [
        (
            {},
            "pass",
            "The legal basis is (e) Task in the public interest or official authority "
            "with (j) Archiving, scientific or historical research or statistics "
            "(Art. 89(1)).",
        ),
        (
            {"gdpr_art9_basis": ""},
            "fail",
            "The datasets hold health data, a special category of personal data; the request does "
            "not give an exception under GDPR Art. 9(2) for health data.",
        ),
        (
            {"gdpr_art6_basis": "", "gdpr_art9_basis": ""},
            "fail",
            "The datasets hold health data, a special category of personal data; the request does "
            "not give a lawful basis under GDPR Art. 6(1) or an exception under GDPR Art. 9(2) for "
            "health data.",
        ),
        (
            {"gdpr_art6_basis": "f", "organisation_kind": "public_body"},
            "fail",
            "Legitimate interests (Art. 6(1)(f)) cannot be the basis for processing by a public "
            "authority in the performance of its tasks.",
        ),
        (
            {"gdpr_art9_basis": "e"},
            "needs_review",
            "The legal basis is (e) Task in the public interest or official authority with (e) Made "
            "manifestly public by the data subject; that Art. 9(2) exception is unusual for research "
            "use, so a reviewer must confirm it applies.",
        ),
        (
            {
                "gdpr_art6_basis": "",
                "datasets": (dataclasses.replace(HEALTH, contains_personal_data=False),),
            },
            "pass",
            "None of the datasets holds personal data.",
        ),
    ],
)
def test_gdpr_legal_basis(changes, status, explanation):
    assert one(check_gdpr_legal_basis(facts(**changes))) == (status, explanation)


# --- ethics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "explanation"),
    [
        (
            {},
            "pass",
            "Ethics approval METC-2026-041 by METC Leiden Den Haag Delft is valid until "
            "31 Dec 2028, for the whole requested period.",
        ),
        (
            {"ethics_expires_on": dt.date(2028, 6, 30)},
            "pass",
            "Ethics approval METC-2026-041 by METC Leiden Den Haag Delft is valid until 30 Jun 2028, "
            "for the whole requested period.",
        ),
        (
            {"ethics_expires_on": dt.date(2028, 1, 31)},
            "fail",
            "The ethics approval expires on 31 Jan 2028, before the requested period ends on "
            "30 Jun 2028.",
        ),
        (
            {"ethics_expires_on": dt.date(2026, 12, 1)},
            "fail",
            "The ethics approval expires on 1 Dec 2026, before the requested period starts.",
        ),
        (
            {"ethics_reference": "", "ethics_expires_on": None},
            "fail",
            "Ethics approval is required, and its reference, expiry date is not given.",
        ),
        (
            {"period_end": None},
            "needs_review",
            "The request gives no end date, so nobody can tell whether the ethics approval (valid "
            "until 31 Dec 2028) covers the whole period.",
        ),
        (
            {
                "ethics_reference": "",
                "datasets": (
                    DatasetFacts("open", Conditions(codes=(GRU,)), contains_personal_data=False),
                ),
            },
            "pass",
            "No requested dataset requires ethics approval.",
        ),
    ],
)
def test_ethics_approval(changes, status, explanation):
    assert one(check_ethics_approval(facts(**changes))) == (status, explanation)


def test_ethics_is_required_by_the_irb_modifier_even_without_personal_data():
    irb = DatasetFacts("irb", Conditions(codes=(GRU, IRB)), contains_personal_data=False)
    status, _ = one(check_ethics_approval(facts(datasets=(irb,), ethics_committee="")))
    assert status == "fail"


# --- processing location ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "explanation"),
    [
        ({}, "pass", "All processing stays within the European Economic Area."),
        (
            {"processing_countries": ("NL", "NO", "IS")},
            "pass",
            "All processing stays within the European Economic Area.",
        ),
        (
            {"processing_countries": ("NL", "US", "CH")},
            "needs_review",
            "Results will be processed outside the European Economic Area (CH, US). A reviewer must "
            "confirm a transfer safeguard (adequacy decision or appropriate safeguards, GDPR Art. "
            "45–46).",
        ),
        (
            {"processing_outside_eea": True, "processing_countries": ()},
            "needs_review",
            "Results will be processed outside the European Economic Area (a country not named). A "
            "reviewer must confirm a transfer safeguard (adequacy decision or appropriate "
            "safeguards, GDPR Art. 45–46).",
        ),
        (
            {"organisation_country": "GB"},
            "needs_review",
            "The requesting organisation is established outside the EEA (GB). A reviewer must "
            "confirm a transfer safeguard (adequacy decision or appropriate safeguards, GDPR Art. "
            "45–46).",
        ),
    ],
)
def test_processing_location(changes, status, explanation):
    assert one(check_processing_location(facts(**changes))) == (status, explanation)


def test_the_eea_is_the_eu_and_iceland_liechtenstein_norway():
    assert len(EEA_COUNTRIES) == 30
    assert {"IS", "LI", "NO", "GR", "NL"} <= EEA_COUNTRIES
    assert not {"GB", "CH", "US", "EL"} & EEA_COUNTRIES


def test_overall_status_is_the_worst_outcome():
    outcomes = run_checks(facts(processing_countries=("US",)))
    assert overall_status(outcomes) == "needs_review"
    assert overall_status(run_checks(facts(ehds_category=""))) == "fail"


# --- facts from the database ------------------------------------------------------------------


@pytest.mark.django_db
def test_cohort_counts_come_from_the_consent_records(dataset, world):
    csv = "participant,permit,deny\n" + "".join(
        f"P{i:02d},DUO:0000006,{'DUO:0000031' if i < 4 else ''}\n" for i in range(12)
    )
    consent_import(actor=world["owner"], dataset=dataset, content=csv)
    diabetes = Dataset.objects.get(slug="leiden-diabetes-cohort")
    purpose = Purpose(codes=(HMB, MDS), commercial=False, for_profit=False)

    assert facts_cohort_counts(purpose, [dataset, diabetes]) == {
        "consent-test-cohort": 8,
        "leiden-diabetes-cohort": 0,
    }
    assert facts_cohort_counts(Purpose(codes=(MDS,)), [dataset]) == {"consent-test-cohort": None}
    built = dataset_facts(purpose, [dataset])
    assert built == (
        DatasetFacts(
            slug="consent-test-cohort",
            conditions=Conditions(codes=(HMB,)),
            contains_personal_data=True,
            min_cohort_size=10,
            cohort_count=8,
        ),
    )
    [outcome] = check_cohort_size(facts(datasets=built))
    assert (outcome.status, outcome.explanation) == (
        "fail",
        "Only 8 participants consent to this purpose; the dataset needs at least 10.",
    )


def test_the_ethics_check_writes_its_dates_as_the_reader_does():
    from django.utils import translation

    with translation.override("nl"):
        [outcome] = check_ethics_approval(facts())

    assert outcome.explanation == (
        "Ethische goedkeuring METC-2026-041 door METC Leiden Den Haag Delft is geldig tot "
        "31 december 2028, voor de hele gevraagde periode."
    )
    assert outcome.details["expires_on"] == "2028-12-31"
