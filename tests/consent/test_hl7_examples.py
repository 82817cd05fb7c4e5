"""Every official HL7 FHIR R4 and R5 Consent example, imported as it is published.

The fixtures in ``hl7_examples/`` are the Consent resources of the packages
``hl7.fhir.r4.examples`` 4.0.1 and ``hl7.fhir.r5.examples`` 5.0.0 (CC0; see SOURCE.md). None
of them is a research consent: the R4 ones say ``scope`` patient-privacy, the R5 ones carry
privacy categories or only the LOINC document type "Patient Consent". So none may put anyone in
a research cohort, and each is refused with the reason that says what it is. (Before issue 12
the R5 ``notTime`` example, a patient withholding disclosure for a month, was stored as a
permit for all research.)

The second half relabels the same examples as research consents, to show how their provisions
are read by FHIR's rules, and that limits the hub cannot enforce (actors, data, classes,
security labels) are named precisely.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from consent.cohort import cohort_queryset
from consent.matcher import Purpose
from consent.models import ConsentRecord, DatasetConsentState, Participant
from consent.services import ConsentImportRefused, consent_import

from .conftest import GRU, HMB

EXAMPLES = Path(__file__).parent / "hl7_examples"
SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACTCODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CATEGORY = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
LOINC = "http://loinc.org"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ONLY_RESEARCH = "only research consents can put anyone in a research cohort"
PRIVACY = "a privacy consent (who may see or share the record)"


def privacy(*labels: str) -> str:
    return f"not a research consent ({', '.join(labels)}: {PRIVACY}); {ONLY_RESEARCH}"


PATIENT_PRIVACY = f"scope patient-privacy ({SCOPE})"
R5_UNKNOWN = (
    f"the kind of consent is unknown (category 59284-0 ({LOINC}): only the type of document); "
    "a research consent needs a research category (e.g. consentscope 'research' as category)"
)

#: (version, example id) → the reason it is refused.
EXPECTED = {
    ("r4", "consent-example-Emergency"): privacy(PATIENT_PRIVACY, f"category EMRGONLY ({ACTCODE})"),
    ("r4", "consent-example-Out"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-basic"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-grantor"): privacy(PATIENT_PRIVACY, f"category INFAO ({ACTCODE})"),
    ("r4", "consent-example-notAuthor"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-notOrg"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-notThem"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-notThis"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-notTime"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-pkb"): privacy(PATIENT_PRIVACY),
    ("r4", "consent-example-signature"): privacy(PATIENT_PRIVACY, f"category npp ({CATEGORY})"),
    ("r4", "consent-example-smartonfhir"): privacy(PATIENT_PRIVACY),
    ("r5", "consent-example-CDA"): privacy(f"category npp ({CATEGORY})"),
    ("r5", "consent-example-Emergency"): privacy(f"category INFA ({ACTCODE})"),
    ("r5", "consent-example-Out"): R5_UNKNOWN,
    ("r5", "consent-example-basic"): R5_UNKNOWN,
    ("r5", "consent-example-grantor"): privacy(f"category INFAO ({ACTCODE})"),
    ("r5", "consent-example-notAuthor"): R5_UNKNOWN,
    ("r5", "consent-example-notOrg"): R5_UNKNOWN,
    ("r5", "consent-example-notThem"): R5_UNKNOWN,
    ("r5", "consent-example-notThis"): R5_UNKNOWN,
    ("r5", "consent-example-notTime"): R5_UNKNOWN,
    ("r5", "consent-example-pkb"): R5_UNKNOWN,
    ("r5", "consent-example-smartonfhir"): R5_UNKNOWN,
}


def example(version: str, name: str) -> dict:
    return json.loads((EXAMPLES / version / f"Consent-{name}.json").read_text(encoding="utf-8"))


def test_the_fixtures_are_every_published_consent_example():
    found = {(p.parent.name, p.stem.removeprefix("Consent-")) for p in EXAMPLES.glob("*/*.json")}
    assert found == set(EXPECTED)
    assert len(EXPECTED) == 24


def nothing_stored(dataset) -> None:
    assert not Participant.objects.filter(dataset=dataset).exists()
    assert not ConsentRecord.objects.filter(dataset=dataset).exists()
    assert not DatasetConsentState.objects.filter(dataset=dataset, version__gt=0).exists()
    for purpose in (Purpose(codes=(GRU,)), Purpose(codes=(HMB,), commercial=False)):
        assert not cohort_queryset(dataset=dataset, purpose=purpose).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("version", "name"), sorted(EXPECTED), ids=lambda v: str(v))
def test_no_official_example_adds_anyone_to_a_research_cohort(dataset, world, version, name):
    resource = example(version, name)
    with pytest.raises(ConsentImportRefused) as caught:
        consent_import(
            actor=world["owner"],
            dataset=dataset,
            content=json.dumps(resource),
            fmt=f"fhir-{version}",
        )
    assert caught.value.report.refused == [
        {"entry": f"Consent/{resource['id']}", "reasons": [EXPECTED[(version, name)]]}
    ]
    nothing_stored(dataset)


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["r4", "r5"])
def test_a_bundle_of_all_examples_is_reported_entry_by_entry(dataset, world, version):
    names = sorted(name for v, name in EXPECTED if v == version)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": example(version, name)} for name in names],
    }
    with pytest.raises(ConsentImportRefused) as caught:
        consent_import(
            actor=world["owner"], dataset=dataset, content=json.dumps(bundle), fmt=f"fhir-{version}"
        )
    assert caught.value.report.refused == [
        {
            "entry": f"entry {number} (Consent/{example(version, name)['id']})",
            "reasons": [EXPECTED[(version, name)]],
        }
        for number, name in enumerate(names, start=1)
    ]
    nothing_stored(dataset)


# --------------------------------------------------------------------------------------------
# The same examples relabelled as research consents: FHIR's provision rules, precise limits
# --------------------------------------------------------------------------------------------

RESEARCH = {"coding": [{"system": SCOPE, "code": "research"}]}
CANNOT_ENFORCE = (
    "The hub cannot enforce such a limit (it cannot see which people receive a visiting "
    "algorithm's results, and a node runs on the participant's whole record, not on single "
    "records, classes or labels), so this permit grants nothing here"
)
NONE_APPLIES = (
    "none of the consent's permits can be applied at the hub, so it cannot put the participant "
    "in any cohort"
)


def as_research(version: str, name: str) -> dict:
    resource = copy.deepcopy(example(version, name))
    if version == "r4":
        resource["scope"] = RESEARCH
    else:
        resource["category"] = [RESEARCH]  # in place of its privacy or document category
    return resource


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("version", "name", "reasons"),
    [
        (
            "r4",
            "consent-example-notThem",
            [
                "provision: a permit limited to actor(s) Practitioner/f204 (role PRCP "
                f"({PARTICIPATION})). {CANNOT_ENFORCE}",
                NONE_APPLIES,
            ],
        ),
        (
            "r4",
            "consent-example-notThis",
            [f"provision: a permit limited to data Task/example3 (related). {CANNOT_ENFORCE}"]
            + [NONE_APPLIES],
        ),
        (
            "r5",
            "consent-example-pkb",
            [
                "provision[0]: a permit limited to actor(s) Organization/f001 (role PRCP "
                f"({PARTICIPATION})); security label N "
                "(http://terminology.hl7.org/CodeSystem/v3-Confidentiality). " + CANNOT_ENFORCE,
                NONE_APPLIES,
            ],
        ),
        (
            "r5",
            "consent-example-CDA",
            [
                f"provision[0].provision[0]: code {code!r} of code system '{LOINC}' is in no "
                "consent policy map, so the hub cannot tell what it allows (operators add "
                "policy maps with CONSENT_POLICY_MAPS)"
                for code in ("34133-9", "18842-5")
            ],
        ),
    ],
)
def test_relabelled_limits_the_hub_cannot_enforce_are_named(dataset, world, version, name, reasons):
    resource = as_research(version, name)
    with pytest.raises(ConsentImportRefused) as caught:
        consent_import(
            actor=world["owner"],
            dataset=dataset,
            content=json.dumps(resource),
            fmt=f"fhir-{version}",
        )
    assert caught.value.report.refused == [
        {"entry": f"Consent/{resource['id']}", "reasons": reasons}
    ]
    nothing_stored(dataset)


@pytest.mark.django_db
def test_relabelled_not_them_deny_is_applied_to_the_whole_record(dataset, world):
    # R5 notThem: base permit, one deny exception limited to a practitioner. The hub cannot
    # tell recipients apart, so the deny refuses all research use: fail closed, and said so.
    report = consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=json.dumps(as_research("r5", "consent-example-notThem")),
        fmt="fhir-r5",
    )
    assert report.notes == [
        "Consent/consent-example-notThem: provision[0]: a deny limited to actor(s) "
        f"Practitioner/f204 (role PRCP ({PARTICIPATION})) is applied to all of the "
        "participant's data (the hub cannot withhold single records or tell recipients apart), "
        "which refuses more, never less"
    ]
    assert not cohort_queryset(dataset=dataset, purpose=Purpose(codes=(GRU,))).exists()


@pytest.mark.django_db
def test_relabelled_not_time_withholds_exactly_its_month(dataset, world):
    # R5 notTime: base permit, an exception (deny) for 2015-01-01..2015-02-01 (inclusive).
    consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=json.dumps(as_research("r5", "consent-example-notTime")),
        fmt="fhir-r5",
    )
    ams = ZoneInfo("Europe/Amsterdam")
    record = ConsentRecord.objects.get(dataset=dataset, is_current=True)
    assert sorted(
        (p.decision, p.code, p.period_start, p.period_end) for p in record.provisions.all()
    ) == [
        (
            "deny",
            GRU,
            dt.datetime(2015, 1, 1, tzinfo=ams),
            dt.datetime(2015, 2, 2, tzinfo=ams),  # FHIR period ends are inclusive
        ),
        ("permit", GRU, None, None),
    ]
    # The month has passed: research use is permitted again now.
    assert list(
        cohort_queryset(dataset=dataset, purpose=Purpose(codes=(GRU,))).values_list(
            "pseudonym", flat=True
        )
    ) == ["f001"]
