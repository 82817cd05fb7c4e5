"""What kind of consent, consent policies as data (the MII broad consent), and FHIR's nested
exceptions (issue 12, points 1-3).

The MII documents are our own, in the shape of the MII Kerndatensatz Modul Consent profile
``mii-pr-consent-einwilligung`` (as its examples and gICS exports have it): R4, scope research,
category LOINC 57016-8 plus the MII broad consent category, policy the MII broad consent
document, a root provision ``deny`` carrying the consent period, and one nested ``permit`` per
policy code of urn:oid:2.16.840.1.113883.3.1937.777.24.5.3, each with its own period.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from consent import policies
from consent.cohort import cohort_queryset
from consent.matcher import Purpose
from consent.models import ConsentRecord, DatasetConsentState, Participant
from consent.services import ConsentImportRefused, consent_import
from tests.consent import fhir_examples as ex

from .conftest import BREAST, CANCER, COLORECTAL, DIABETES, DS, GRU, HMB, T2D

AMS = ZoneInfo("Europe/Amsterdam")
SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
MII = "urn:oid:2.16.840.1.113883.3.1937.777.24.5.3"
OID = MII.removeprefix("urn:oid:")  # the codes are the bare OIDs under the system's
MII_CATEGORY = (
    "https://www.medizininformatik-initiative.de/fhir/modul-consent/CodeSystem/"
    "mii-cs-consent-consent_category"
)
DISPLAY = {
    ".6": "MDAT erheben",
    ".7": "MDAT speichern, verarbeiten",
    ".8": "MDAT wissenschaftlich nutzen EU DSGVO NIVEAU",
    ".22": "BIOMAT wissenschaftlich nutzen EU DSGVO NIVEAU",
}


def mii_code(suffix: str) -> dict:
    coding = {"system": MII, "code": OID + suffix}
    if suffix in DISPLAY:
        coding["display"] = DISPLAY[suffix]
    return {"coding": [coding]}


def mii_consent(
    pid: str,
    *,
    start: str = "2024-02-23",
    end: str = "2054-01-31",
    permits: tuple[str, ...] = (".6", ".7", ".8"),
    denies: tuple[str, ...] = (),
    periods: dict[str, tuple[str, str]] | None = None,
) -> dict:
    periods = periods or {}

    def provision(kind: str, suffix: str) -> dict:
        first, last = periods.get(suffix, (start, end))
        return {"type": kind, "period": {"start": first, "end": last}, "code": [mii_code(suffix)]}

    return {
        "resourceType": "Consent",
        "id": pid.lower(),
        "meta": {
            "profile": [
                "https://www.medizininformatik-initiative.de/fhir/modul-consent/"
                "StructureDefinition/mii-pr-consent-einwilligung"
            ]
        },
        "status": "active",
        "scope": {"coding": [{"system": SCOPE, "code": "research"}]},
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "57016-8"}]},
            {"coding": [{"system": MII_CATEGORY, "code": "2.16.840.1.113883.3.1937.777.24.2.184"}]},
        ],
        "patient": {"reference": f"Patient/{pid}"},
        "dateTime": start,
        "organization": [{"display": "Klinikum Musterstadt"}],
        "policy": [{"uri": "urn:oid:2.16.840.1.113883.3.1937.777.24.2.1791"}],
        "provision": {
            "type": "deny",
            "period": {"start": start, "end": end},
            "provision": [provision("permit", s) for s in permits]
            + [provision("deny", s) for s in denies],
        },
    }


def bundle(*resources: dict) -> str:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in resources],
        }
    )


def cohort(dataset, *codes: str, diseases: tuple[str, ...] = ()) -> list[str]:
    purpose = Purpose(codes=codes, diseases=diseases, commercial=False, for_profit=False)
    return sorted(
        cohort_queryset(dataset=dataset, purpose=purpose).values_list("pseudonym", flat=True)
    )


def refused(dataset, world, content: str) -> list[dict]:
    with pytest.raises(ConsentImportRefused) as caught:
        consent_import(actor=world["owner"], dataset=dataset, content=content, fmt="fhir")
    assert not Participant.objects.filter(dataset=dataset).exists()
    assert not DatasetConsentState.objects.filter(dataset=dataset, version__gt=0).exists()
    return caught.value.report.refused


# --------------------------------------------------------------------------------------------
# MII broad consent
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_mii_broad_consents_in_force_add_exactly_their_participants(dataset, world):
    report = consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=bundle(
            mii_consent("MII-IN-FORCE"),
            mii_consent("MII-IN-FORCE-2", start="2021-05-01", end="2051-04-30"),
            # Collection and storage only: no scientific use (.8) was consented.
            mii_consent("MII-NO-USE", permits=(".6", ".7")),
            # Signed 1995 for 25 years: the root period ended in 2020.
            mii_consent("MII-ENDED", start="1995-01-01", end="2019-12-31"),
            # The root is in force but the scientific use (.8) was valid for five years only.
            mii_consent("MII-USE-ENDED", periods={".8": ("2015-01-01", "2019-12-31")}),
            # Scientific use refused.
            mii_consent("MII-REFUSED", permits=(".6", ".7"), denies=(".8",)),
            # Not yet in force.
            mii_consent("MII-FUTURE", start="2090-01-01", end="2120-01-01"),
        ),
        fmt="fhir-r4",
    )
    assert report.consents_recorded == 7
    # .8 is "MDAT wissenschaftlich nutzen": health/medical/biomedical research (HMB), so it
    # covers HMB and disease-specific purposes, not general research use.
    assert cohort(dataset, HMB) == ["MII-IN-FORCE", "MII-IN-FORCE-2"]
    assert cohort(dataset, DS, diseases=(T2D,)) == ["MII-IN-FORCE", "MII-IN-FORCE-2"]
    assert cohort(dataset, GRU) == []
    record = ConsentRecord.objects.get(participant__pseudonym="MII-IN-FORCE")
    assert (record.period_start, record.period_end) == (
        dt.datetime(2024, 2, 23, tzinfo=AMS),
        dt.datetime(2054, 2, 1, tzinfo=AMS),
    )
    assert sorted((p.decision, p.code) for p in record.provisions.all()) == [("permit", HMB)]
    refusal = ConsentRecord.objects.get(participant__pseudonym="MII-REFUSED")
    assert sorted((p.decision, p.code) for p in refusal.provisions.all()) == [("deny", GRU)]


@pytest.mark.django_db
def test_mii_codes_that_grant_nothing_are_said_not_silent(dataset, world):
    report = consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=json.dumps(mii_consent("MII-BIO", permits=(".22",))),
        fmt="fhir-r4",
    )
    assert report.consents_recorded == 1
    assert report.notes == [
        "Consent/mii-bio: provision.provision[0]: permit of BIOMAT wissenschaftlich nutzen EU "
        f"DSGVO NIVEAU ({OID}.22) grants and denies nothing here: biomaterial (BIOMAT): "
        "samples, not the data a LIFES dataset holds; a dataset of analysis data needs its own "
        "mapping (add it in an operator policy map); here it neither grants nor denies research "
        "use"
    ]
    assert cohort(dataset, HMB) == []


@pytest.mark.django_db
def test_a_code_missing_from_its_systems_map_is_refused_naming_the_map(dataset, world):
    resource = mii_consent("MII-X", permits=(".8", ".999"))
    assert refused(dataset, world, json.dumps(resource)) == [
        {
            "entry": "Consent/mii-x",
            "reasons": [
                f"provision.provision[1]: '{OID}.999' is not in the policy map of MII broad "
                f"consent policy codes (mii-cs-consent-policy) ({MII}), so the hub cannot tell "
                "what it allows"
            ],
        }
    ]


@pytest.mark.django_db
def test_a_code_of_an_unknown_system_is_refused_naming_the_system(dataset, world):
    resource = copy.deepcopy(ex.R4_PERMIT_HMB_DENY_MDS)
    resource["provision"]["provision"][0]["code"] = [
        {"coding": [{"system": "https://biobank.example/policy", "code": "all-research"}]}
    ]
    assert refused(dataset, world, json.dumps(resource)) == [
        {
            "entry": "Consent/p-r4-01",
            "reasons": [
                "provision.provision[0]: code 'all-research' of code system "
                "'https://biobank.example/policy' is in no consent policy map, so the hub cannot "
                "tell what it allows (operators add policy maps with CONSENT_POLICY_MAPS)"
            ],
        }
    ]


def operator_map(tmp_path, permit: list[str]) -> str:
    path = tmp_path / "biobank-policies.json"
    path.write_text(
        json.dumps(
            {
                "policies": {
                    "https://biobank.example/policy": {
                        "name": "Biobank Example consent policy",
                        "kind": "research",
                        "codes": {
                            "all-research": {
                                "display": "all research",
                                "permit": permit,
                                "deny": ["DUO:0000042"],
                                "source": "Biobank Example consent form v4, question 2",
                            }
                        },
                    }
                }
            }
        )
    )
    return str(path)


@pytest.mark.django_db
def test_operators_extend_the_policy_map_with_a_setting(dataset, world, settings, tmp_path):
    settings.CONSENT_POLICY_MAPS = [operator_map(tmp_path, ["DUO:0000042"])]
    resource = mii_consent("OWN-POLICY", permits=())
    resource["scope"] = {"coding": [{"system": SCOPE, "code": "research"}]}
    resource["provision"]["provision"] = [
        {
            "type": "permit",
            "code": [
                {"coding": [{"system": "https://biobank.example/policy", "code": "all-research"}]}
            ],
        }
    ]
    consent_import(actor=world["owner"], dataset=dataset, content=json.dumps(resource), fmt="fhir")
    assert cohort(dataset, GRU) == ["OWN-POLICY"]
    assert policies.policy_map().lookup(MII, OID + ".8").permit == (HMB,)  # shipped map kept


def test_an_operator_map_cannot_change_a_shipped_mapping(settings, tmp_path):
    path = tmp_path / "override.json"
    path.write_text(
        json.dumps(
            {
                "policies": {
                    MII: {
                        "codes": {
                            OID + ".8": {"permit": ["DUO:0000042"], "deny": [], "source": "mine"}
                        }
                    }
                }
            }
        )
    )
    settings.CONSENT_POLICY_MAPS = [str(path)]
    messages = policies.check_policy_maps()
    assert [(m.id, m.msg) for m in messages] == [
        ("consent.E001", f"{path}: policies[{MII}].{OID}.8: conflicts with an earlier map")
    ]
    with pytest.raises(SystemCheckError, match="consent.E001"):
        call_command("check")


def test_every_shipped_mapping_names_its_source():
    shipped = json.loads(policies.SHIPPED.read_text(encoding="utf-8"))
    for system, entry in shipped["policies"].items():
        for code, item in entry["codes"].items():
            assert item.get("source"), (system, code)
    for system, entry in shipped["kinds"].items():
        assert entry.get("source"), system
    mii = policies.build([policies.SHIPPED]).systems[MII]
    assert mii[OID + ".8"].display == "MDAT wissenschaftlich nutzen EU DSGVO NIVEAU"
    assert (mii[OID + ".8"].permit, mii[OID + ".8"].deny) == ((HMB,), (GRU,))


# --------------------------------------------------------------------------------------------
# What kind of consent
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_treatment_consent_with_a_root_permit_is_refused(dataset, world):
    # The probe of issue 12: scope treatment and a root permit of all research.
    probe = copy.deepcopy(ex.R4_INACTIVE)
    probe["status"] = "active"
    probe["scope"] = {"coding": [{"system": SCOPE, "code": "treatment"}]}
    assert refused(dataset, world, json.dumps(probe)) == [
        {
            "entry": "Consent/p-r4-02",
            "reasons": [
                f"not a research consent (scope treatment ({SCOPE}): a treatment consent); only "
                "research consents can put anyone in a research cohort"
            ],
        }
    ]


@pytest.mark.django_db
def test_neither_scope_nor_category_is_refused_naming_both(dataset, world):
    r5 = copy.deepcopy(ex.R5_PERMIT_HMB_NPUNCU)
    del r5["category"]
    r4 = copy.deepcopy(ex.R4_PERMIT_HMB_DENY_MDS)
    del r4["scope"], r4["category"]
    assert refused(dataset, world, bundle(r5, r4)) == [
        {
            "entry": "entry 1 (Consent/p-r5-04)",
            "reasons": [
                "neither scope (R4) nor category (R4, R5) says what kind of consent this is; "
                "only a research consent (scope 'research' in R4, or a research category) can "
                "put anyone in a research cohort"
            ],
        },
        # R4 requires both elements: the FHIR validation names both.
        {
            "entry": "entry 2 (Consent/p-r4-01)",
            "reasons": ["category: Field required", "scope: Field required"],
        },
    ]


@pytest.mark.django_db
def test_a_consent_that_says_research_and_privacy_is_refused_not_guessed(dataset, world):
    both = copy.deepcopy(ex.R5_PERMIT_HMB_NPUNCU)
    both["category"].append(
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "INFA"}]}
    )
    (entry,) = refused(dataset, world, json.dumps(both))
    assert entry["reasons"] == [
        f"not only a research consent: category research ({SCOPE}) mark it as research, but "
        "category INFA (http://terminology.hl7.org/CodeSystem/v3-ActCode) make it a privacy "
        "consent (who may see or share the record); refused rather than guessed"
    ]


@pytest.mark.django_db
def test_a_multi_entry_import_reports_each_kind_entry_by_entry(dataset, world):
    privacy = copy.deepcopy(ex.R4_PERMIT_HMB_DENY_MDS)
    privacy["scope"] = {"coding": [{"system": SCOPE, "code": "patient-privacy"}]}
    unknown = copy.deepcopy(ex.R5_PERMIT_HMB_NPUNCU)
    unknown["category"] = [{"coding": [{"system": "https://example.org/kinds", "code": "x"}]}]
    assert refused(dataset, world, bundle(ex.R5_INACTIVE, privacy, unknown)) == [
        {
            "entry": "entry 2 (Consent/p-r4-01)",
            "reasons": [
                f"not a research consent (scope patient-privacy ({SCOPE}): a privacy consent (who "
                "may see or share the record)); only research consents can put anyone in a "
                "research cohort"
            ],
        },
        {
            "entry": "entry 3 (Consent/p-r5-04)",
            "reasons": [
                "the kind of consent is unknown (category x (https://example.org/kinds): in no "
                "consent policy map); a research consent needs a research category (e.g. "
                "consentscope 'research' as category)"
            ],
        },
    ]


# --------------------------------------------------------------------------------------------
# Nested provisions by FHIR's rules: an exception to an exception
# --------------------------------------------------------------------------------------------


def r5(pid: str, decision: str, provision: list[dict]) -> dict:
    resource = copy.deepcopy(ex.R5_INACTIVE)
    resource.update(id=pid.lower(), status="active", decision=decision, provision=provision)
    resource["subject"] = {"reference": f"Patient/{pid}"}
    return resource


@pytest.mark.django_db
def test_a_permit_inside_a_deny_re_permits_part_of_what_the_deny_refused(dataset, world):
    consents = [
        # Permit all research, except health research, except (again) diabetes research.
        r5(
            "NESTED",
            "permit",
            [
                {
                    "purpose": [ex.duo(HMB)],
                    "provision": [{"purpose": [ex.duo(DS), ex.mondo(DIABETES)]}],
                }
            ],
        ),
        # Deny by default; permit cancer research, except breast cancer research, except
        # (again) breast cancer research from 2030: three levels.
        r5(
            "DEEP",
            "deny",
            [
                {
                    "purpose": [ex.duo(DS), ex.mondo(CANCER)],
                    "provision": [
                        {
                            "purpose": [ex.duo(DS), ex.mondo(BREAST)],
                            "provision": [
                                {
                                    "period": {"start": "2030-01-01"},
                                    "purpose": [ex.duo(DS), ex.mondo(BREAST)],
                                }
                            ],
                        }
                    ],
                }
            ],
        ),
        # The same without the exception: health research refused altogether.
        r5("PLAIN", "permit", [{"purpose": [ex.duo(HMB)]}]),
    ]
    consent_import(actor=world["owner"], dataset=dataset, content=bundle(*consents), fmt="fhir")

    assert cohort(dataset, DS, diseases=(T2D,)) == ["NESTED"]  # inside the re-permit
    assert cohort(dataset, DS, diseases=(DIABETES,)) == ["NESTED"]
    assert cohort(dataset, HMB) == []  # refused by both
    assert cohort(dataset, DS, diseases=(COLORECTAL,)) == ["DEEP"]
    assert cohort(dataset, DS, diseases=(BREAST,)) == []  # the 2030 re-permit is not yet
    # Cancer as a whole overlaps the breast cancer refusal: refused (consent.rules).
    assert cohort(dataset, DS, diseases=(CANCER,)) == []
    # A general research purpose is not health research, which is all they refused
    # (consent.rules: deny HMB excludes HMB and DS purposes).
    assert cohort(dataset, GRU) == ["NESTED", "PLAIN"]
    nested = ConsentRecord.objects.get(participant__pseudonym="NESTED")
    assert sorted((p.decision, p.code, p.disease, p.group) for p in nested.provisions.all()) == [
        ("deny", HMB, "", 1),
        ("permit", DS, DIABETES, 1),
        ("permit", GRU, "", 0),
    ]


# --------------------------------------------------------------------------------------------
# The summary fast path gives exactly the members of the provision-row query
# --------------------------------------------------------------------------------------------

MIXED_CSV = (
    "participant,permit,permit_diseases,deny,deny_diseases,period_start,period_end\n"
    "S-GRU,DUO:0000042,,,,,\n"
    "S-HMB-NOMDS,DUO:0000006,,DUO:0000031,,2020-01-01,\n"
    "S-HMB-NCU,DUO:0000006 DUO:0000046,,,,,\n"
    "S-GRU-NPU,DUO:0000042 DUO:0000045,,,,,\n"
    "S-POA,DUO:0000011,,,,,\n"
    "S-GRU-NPOA,DUO:0000042 DUO:0000044,,,,,\n"
    "S-DS,DUO:0000007,MONDO:0005015,,,,\n"
    "S-GRU-NOT-T1D,DUO:0000042,,DUO:0000007,MONDO:0005147,,\n"
    "S-ENDED,DUO:0000042,,,,2010-01-01,2012-12-31\n"
    "S-DENY-HMB,DUO:0000042,,DUO:0000006,,,\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("codes", "diseases", "commercial", "for_profit"),
    [
        ((GRU,), (), False, False),
        ((GRU,), (), True, True),
        ((HMB,), (), False, True),
        ((HMB,), (), True, False),
        ((HMB, "DUO:0000031"), (), False, False),
        (("DUO:0000011",), (), None, None),
        ((GRU, "DUO:0000032"), (), False, False),
        ((DS,), (T2D,), False, False),
    ],
)
def test_the_summary_fast_path_has_exactly_the_general_querys_members(
    dataset, world, codes, diseases, commercial, for_profit
):
    from consent.cohort import cohort_pseudonyms

    consent_import(actor=world["owner"], dataset=dataset, content=MIXED_CSV, fmt="csv")
    # Not simple: a nested exception, and a provision with its own period.
    consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=bundle(
            r5(
                "N-NESTED",
                "permit",
                [{"purpose": [ex.duo(HMB)], "provision": [{"purpose": [ex.duo("DUO:0000011")]}]}],
            ),
            r5("N-PERIOD", "deny", [{"period": {"start": "2021-01-01"}, "purpose": [ex.duo(GRU)]}]),
        ),
        fmt="fhir",
    )
    participant = Participant.objects.get(dataset=dataset, pseudonym="S-GRU-NPOA")
    from consent.services import participant_opt_out_record

    participant_opt_out_record(actor=world["owner"], dataset=dataset, pseudonym="S-GRU")
    assert ConsentRecord.objects.get(participant=participant, is_current=True).is_simple
    assert not ConsentRecord.objects.get(pseudonym="N-NESTED", is_current=True).is_simple

    purpose = Purpose(codes=codes, diseases=diseases, commercial=commercial, for_profit=for_profit)
    general = sorted(
        cohort_queryset(dataset=dataset, purpose=purpose).values_list("pseudonym", flat=True)
    )
    fast = sorted(cohort_pseudonyms(dataset=dataset, purpose=purpose))
    assert general  # every case selects someone, and leaves someone out
    assert len(general) < Participant.objects.filter(dataset=dataset).count()
    assert fast == general
