"""FHIR R4 and R5 Consent imports: single resources and Bundles, all or nothing."""

from __future__ import annotations

import copy
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEvent
from consent.models import ConsentProvision, ConsentRecord, DatasetConsentState, Participant
from consent.services import ConsentImportRefused, consent_import
from tests.consent import fhir_examples as ex

AMS = ZoneInfo("Europe/Amsterdam")


def rows() -> tuple[int, int, int, int]:
    return (
        Participant.objects.count(),
        ConsentRecord.objects.count(),
        ConsentProvision.objects.count(),
        AuditEvent.objects.count(),
    )


def provisions_of(pseudonym: str) -> list[tuple]:
    record = ConsentRecord.objects.get(participant__pseudonym=pseudonym, is_current=True)
    return sorted(
        (
            p.decision,
            p.code,
            p.disease,
            p.period_start,
            p.period_end,
            p.is_non_commercial,
            p.is_not_for_profit,
        )
        for p in record.provisions.all()
    )


@pytest.mark.django_db
def test_r4_single_resource_with_permit_period_and_nested_deny(dataset, world):
    report = consent_import(
        actor=world["owner"], dataset=dataset, content=json.dumps(ex.R4_PERMIT_HMB_DENY_MDS)
    )

    assert (
        report.format,
        report.entries,
        report.participants_created,
        report.consents_recorded,
        report.version,
    ) == ("fhir", 1, 1, 1, 1)
    record = ConsentRecord.objects.get(participant__pseudonym="P-R4-01")
    assert (record.status, record.decision, record.source, record.source_id) == (
        "active",
        "deny",
        "fhir-r4",
        "p-r4-01",
    )
    assert record.period_start == dt.datetime(2020, 1, 1, tzinfo=AMS)
    assert record.period_end == dt.datetime(2036, 1, 1, tzinfo=AMS)  # 2035-12-31 included
    assert (record.policy_uri, record.policy_version, record.date_signed) == (
        "https://lumc.example/policies/biobank-consent",
        "2.1",
        dt.date(2021, 3, 15),
    )
    start, end = dt.datetime(2020, 1, 1, tzinfo=AMS), dt.datetime(2036, 1, 1, tzinfo=AMS)
    assert provisions_of("P-R4-01") == [
        ("deny", "DUO:0000031", "", start, end, False, False),
        ("permit", "DUO:0000006", "", start, end, False, False),
    ]


@pytest.mark.django_db
def test_r4_bundle_inactive_optout_and_expired(dataset, world):
    report = consent_import(
        actor=world["owner"], dataset=dataset, content=json.dumps(ex.bundle(ex.R4_EXAMPLES))
    )

    assert (report.entries, report.participants_created, report.consents_recorded) == (4, 4, 4)
    statuses = dict(
        ConsentRecord.objects.filter(dataset=dataset).values_list(
            "participant__pseudonym", "status"
        )
    )
    assert statuses == {
        "P-R4-01": "active",
        "P-R4-02": "inactive",
        "P-R4-03": "active",
        "P-R4-04": "active",
    }
    # OPTOUT with an untyped root: deny everything except the nested permit.
    assert provisions_of("P-R4-03") == [
        (
            "permit",
            "DUO:0000007",
            "MONDO:0005015",
            dt.datetime(2022, 1, 1, tzinfo=AMS),
            dt.datetime(2031, 1, 1, tzinfo=AMS),
            False,
            False,
        ),
    ]
    expired = ConsentRecord.objects.get(participant__pseudonym="P-R4-04")
    assert (expired.period_start, expired.period_end) == (
        dt.datetime(2015, 1, 1, tzinfo=AMS),
        dt.datetime(2020, 1, 1, tzinfo=AMS),
    )


@pytest.mark.django_db
def test_r5_single_resource_base_permit_with_deny_exceptions(dataset, world):
    report = consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=json.dumps(ex.R5_PERMIT_EXCEPT_POA_MDS),
        fmt="fhir-r5",
    )

    assert (report.format, report.consents_recorded) == ("fhir-r5", 1)
    record = ConsentRecord.objects.get(participant__pseudonym="P-R5-01")
    assert (
        record.status,
        record.decision,
        record.source,
        record.policy_version,
        record.date_signed,
    ) == ("active", "permit", "fhir-r5", "3.0", dt.date(2023, 5, 1))
    start = dt.datetime(2023, 5, 1, tzinfo=AMS)
    assert (record.period_start, record.period_end) == (start, None)
    assert provisions_of("P-R5-01") == [
        ("deny", "DUO:0000011", "", start, None, False, False),
        ("deny", "DUO:0000031", "", start, None, False, False),
        ("permit", "DUO:0000042", "", start, None, False, False),
    ]


@pytest.mark.django_db
def test_r5_bundle_nested_exception_npuncu_and_inactive(dataset, world):
    report = consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=json.dumps(ex.bundle([*ex.R5_EXAMPLES, ex.PATIENT])),
    )

    assert (report.entries, report.consents_recorded) == (4, 4)
    assert report.ignored == [
        "entry 5 (Patient/P-R5-01): a Patient resource, not a Consent: skipped"
    ]
    start, end = dt.datetime(2024, 1, 1, tzinfo=AMS), dt.datetime(2035, 1, 1, tzinfo=AMS)
    assert provisions_of("P-R5-02") == [
        ("deny", "DUO:0000007", "MONDO:0007254", start, end, False, False),
        ("permit", "DUO:0000007", "MONDO:0004992", start, end, False, False),
    ]
    assert provisions_of("P-R5-04") == [
        ("permit", "DUO:0000006", "", dt.datetime(2023, 5, 1, tzinfo=AMS), None, True, True),
    ]
    assert ConsentRecord.objects.get(participant__pseudonym="P-R5-03").status == "inactive"


@pytest.mark.django_db
def test_each_import_is_audited_and_bumps_the_version_once(dataset, world):
    events = AuditEvent.objects.count()

    report = consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=json.dumps(ex.bundle(ex.R5_EXAMPLES)),
        filename="r5.json",
    )

    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.object_type, event.object_id) == (
        "consent.import",
        "catalogue.dataset",
        str(dataset.pk),
    )
    assert event.payload["participants"] == ["P-R5-01", "P-R5-02", "P-R5-03", "P-R5-04"]
    assert (
        event.payload["entries"],
        event.payload["consents_recorded"],
        event.payload["version"],
        event.payload["filename"],
    ) == (4, 4, 1, "r5.json")
    assert report.version == DatasetConsentState.objects.get(dataset=dataset).version == 1


@pytest.mark.django_db
def test_reimporting_the_same_consents_changes_nothing(dataset, world):
    content = json.dumps(ex.bundle(ex.R4_EXAMPLES))
    consent_import(actor=world["owner"], dataset=dataset, content=content)
    before = rows()

    report = consent_import(actor=world["owner"], dataset=dataset, content=content)

    assert (report.unchanged, report.consents_recorded, report.version) == (4, 0, 1)
    assert rows()[:3] == before[:3]
    assert rows()[3] == before[3] + 1  # the import itself is still audited


@pytest.mark.django_db
def test_a_new_consent_for_a_known_participant_is_appended_to_the_history(dataset, world):
    consent_import(
        actor=world["owner"], dataset=dataset, content=json.dumps(ex.R5_PERMIT_HMB_NPUNCU)
    )
    changed = copy.deepcopy(ex.R5_PERMIT_HMB_NPUNCU)
    changed["provision"][0]["purpose"] = [ex.duo("DUO:0000042")]

    report = consent_import(actor=world["owner"], dataset=dataset, content=json.dumps(changed))

    assert (report.participants_created, report.consents_recorded, report.version) == (0, 1, 2)
    history = list(
        ConsentRecord.objects.filter(participant__pseudonym="P-R5-04")
        .order_by("recorded_at", "pk")
        .values_list("is_current", "content_digest")
    )
    assert [current for current, _ in history] == [False, True]
    old = ConsentRecord.objects.get(participant__pseudonym="P-R5-04", is_current=False)
    assert old.superseded_at is not None
    assert list(old.provisions.values_list("code", "is_non_commercial")) == [("DUO:0000006", True)]


# --------------------------------------------------------------------------------------------
# Refusals: a report of what was refused and why; nothing partial stored
# --------------------------------------------------------------------------------------------


def refused(dataset, world, content, fmt="auto") -> list[dict]:
    before = rows()
    with pytest.raises(ConsentImportRefused) as caught:
        consent_import(actor=world["owner"], dataset=dataset, content=content, fmt=fmt)
    assert rows() == before
    assert not DatasetConsentState.objects.filter(dataset=dataset, version__gt=0).exists()
    assert caught.value.report.is_stored is False
    return caught.value.report.refused


@pytest.mark.django_db
def test_malformed_fhir_in_a_bundle_refuses_the_whole_bundle(dataset, world):
    bad = copy.deepcopy(ex.R5_PERMIT_HMB_NPUNCU)
    bad["decision"] = 42
    bad["provision"] = {"purpose": "HMB"}
    content = json.dumps(ex.bundle([ex.R5_PERMIT_EXCEPT_POA_MDS, bad]))

    assert refused(dataset, world, content) == [
        {
            "entry": "entry 2 (Consent/p-r5-04)",
            "reasons": [
                "decision: Input should be a valid string",
                "provision: Input should be a valid list",
            ],
        }
    ]


@pytest.mark.django_db
def test_unknown_codes_are_refused_with_their_place(dataset, world):
    bad = copy.deepcopy(ex.R4_PERMIT_HMB_DENY_MDS)
    bad["provision"]["purpose"] = [ex.duo("DUO:9999999")]
    bad["provision"]["provision"][0]["purpose"] = [ex.duo("DUO:0000007"), ex.mondo("MONDO:9999999")]
    content = json.dumps(ex.bundle([bad, ex.R4_INACTIVE]))

    assert refused(dataset, world, content) == [
        {
            "entry": "entry 1 (Consent/p-r4-01)",
            "reasons": [
                "provision: DUO:9999999 is not a known DUO term",
                "provision.provision[0]: MONDO:9999999 is not a known MONDO disease",
            ],
        }
    ]


@pytest.mark.django_db
def test_duplicate_participants_are_refused(dataset, world):
    twin = copy.deepcopy(ex.R5_INACTIVE)
    twin["id"] = "p-r5-03-again"
    content = json.dumps(ex.bundle([ex.R5_INACTIVE, ex.R5_PERMIT_HMB_NPUNCU, twin]))

    reason = (
        "participant 'P-R5-03' appears more than once (entry 1 (Consent/p-r5-03), entry 3 "
        "(Consent/p-r5-03-again)); give one consent per participant"
    )
    assert refused(dataset, world, content) == [
        {"entry": "entry 1 (Consent/p-r5-03)", "reasons": [reason]},
        {"entry": "entry 3 (Consent/p-r5-03-again)", "reasons": [reason]},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            "{not json",
            "not valid JSON: Expecting property name enclosed in double quotes: line 1 "
            "column 2 (char 1)",
        ),
        (
            '{"resourceType": "Patient", "id": "x"}',
            "expected a Consent or a Bundle of Consents, got resourceType 'Patient'",
        ),
        ("[1, 2]", "a FHIR document must be a JSON object"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "it contains no Consent"),
    ],
)
def test_unreadable_documents_are_refused_as_a_whole(dataset, world, content, reason):
    assert refused(dataset, world, content, fmt="fhir") == [
        {"entry": "document", "reasons": [reason]}
    ]


@pytest.mark.django_db
def test_structures_the_hub_cannot_apply_are_refused_not_guessed(dataset, world):
    # R4: a nested provision without a type; a participant-level geographic restriction.
    # (A permit nested inside a deny is FHIR's exception to an exception, and is applied:
    # tests/consent/test_consent_kinds.py.)
    untyped = copy.deepcopy(ex.R4_PERMIT_HMB_DENY_MDS)
    del untyped["provision"]["provision"][0]["type"]
    regional = copy.deepcopy(ex.R5_PERMIT_HMB_NPUNCU)
    regional["provision"][0]["purpose"].append(ex.duo("DUO:0000022"))

    assert refused(dataset, world, json.dumps(ex.bundle([untyped, regional]))) == [
        {
            "entry": "entry 1 (Consent/p-r4-01)",
            "reasons": ["provision.provision[0].type: nested provisions must say permit or deny"],
        },
        {
            "entry": "entry 2 (Consent/p-r5-04)",
            "reasons": [
                "provision[0]: geographical restriction (GS, DUO:0000022) cannot be decided per "
                "participant; record it as a condition of the dataset instead"
            ],
        },
    ]


@pytest.mark.django_db
def test_a_participant_reference_that_is_not_a_patient_is_refused(dataset, world):
    group = copy.deepcopy(ex.R5_INACTIVE)
    group["subject"] = {"reference": "Group/everyone"}
    assert refused(dataset, world, json.dumps(group)) == [
        {
            "entry": "Consent/p-r5-03",
            "reasons": ["subject: 'Group/everyone' is not a Patient reference"],
        }
    ]


@pytest.mark.django_db
def test_status_must_belong_to_the_fhir_version(dataset, world):
    r5_status_in_r4 = copy.deepcopy(ex.R4_INACTIVE)
    r5_status_in_r4["status"] = "not-done"
    assert refused(dataset, world, json.dumps(r5_status_in_r4)) == [
        {
            "entry": "Consent/p-r4-02",
            "reasons": [
                "status: 'not-done' is not an R4 Consent status (active, draft, "
                "entered-in-error, inactive, proposed, rejected)"
            ],
        }
    ]
