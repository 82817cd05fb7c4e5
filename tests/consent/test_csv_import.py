"""CSV consent imports: documented columns, every row checked, all or nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEvent
from consent.models import ConsentProvision, ConsentRecord, Participant
from consent.services import ConsentImportRefused, consent_import

AMS = ZoneInfo("Europe/Amsterdam")
HEADER = (
    "participant,permit,permit_diseases,deny,deny_diseases,status,period_start,"
    "period_end,policy,policy_version,date_signed\n"
)


def rows() -> tuple[int, int, int, int]:
    return (
        Participant.objects.count(),
        ConsentRecord.objects.count(),
        ConsentProvision.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(dataset, world, content: str) -> list[dict]:
    before = rows()
    with pytest.raises(ConsentImportRefused) as caught:
        consent_import(actor=world["owner"], dataset=dataset, content=content)
    assert rows() == before
    return caught.value.report.refused


@pytest.mark.django_db
def test_csv_rows_become_consents_with_provisions(dataset, world):
    content = (
        "\ufeff"
        + HEADER
        + "L-001,DUO:0000006 DUO:0000046,,DUO:0000031,,active,2024-01-01,2030-12-31,"
        "https://lumc.example/policy|4,,2023-12-20\n"
        + "L-002,DUO:0000007,MONDO:0005015,DUO:0000007,MONDO:0005147,,,,,,\n"
        + "L-003,,,,,inactive,,,,,\n"
        + ",,,,,,,,,,\n"  # a blank row is skipped
    )

    report = consent_import(actor=world["owner"], dataset=dataset, content=content.encode())

    assert (report.format, report.entries, report.consents_recorded) == ("csv", 3, 3)
    first = ConsentRecord.objects.get(participant__pseudonym="L-001")
    assert (
        first.status,
        first.source,
        first.source_id,
        first.policy_uri,
        first.policy_version,
        first.date_signed,
    ) == ("active", "csv", "row 2", "https://lumc.example/policy", "4", dt.date(2023, 12, 20))
    start, end = dt.datetime(2024, 1, 1, tzinfo=AMS), dt.datetime(2031, 1, 1, tzinfo=AMS)
    assert (first.period_start, first.period_end) == (start, end)
    assert sorted(
        first.provisions.values_list("decision", "code", "disease", "is_non_commercial")
    ) == [("deny", "DUO:0000031", "", False), ("permit", "DUO:0000006", "", True)]
    second = ConsentRecord.objects.get(participant__pseudonym="L-002")
    assert sorted(second.provisions.values_list("decision", "code", "disease")) == [
        ("deny", "DUO:0000007", "MONDO:0005147"),
        ("permit", "DUO:0000007", "MONDO:0005015"),
    ]
    third = ConsentRecord.objects.get(participant__pseudonym="L-003")
    assert (third.status, third.provisions.count()) == ("inactive", 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("participant,permit,colour\n", "unknown column(s) 'colour'"),
        (
            "pseudonym,permit\n",
            "unknown column(s) 'pseudonym'; missing required column(s) participant",
        ),
        ("participant,deny\n", "missing required column(s) permit"),
        ("participant,permit,permit\n", "repeated column(s) permit"),
    ],
)
def test_wrong_columns_refuse_the_whole_file(dataset, world, header, problem):
    content = header + "L-001,DUO:0000042\n"
    expected = (
        problem + ". Expected columns: participant, permit, permit_diseases, deny, "
        "deny_diseases, status, period_start, period_end, policy, policy_version, "
        "date_signed (required: participant, permit)"
    )
    assert refused(dataset, world, content) == [{"entry": "document", "reasons": [expected]}]


@pytest.mark.django_db
def test_every_bad_row_is_reported_and_nothing_is_stored(dataset, world):
    content = (
        "participant,permit,permit_diseases,deny,status,period_start,period_end,date_signed\n"
        "good-1,DUO:0000042,,,,,,\n"
        "bad id!,DUO:0000042,,,,,,\n"
        "bad-2,DUO:0000099,,HMB,,,,\n"
        "bad-3,DUO:0000007,MONDO:0000000,,maybe,2024-13-01,2023-01-01,yesterday\n"
        "good-1,DUO:0000006,,,,,,\n"
        "short,DUO:0000042\n"
        "bad-4,DUO:0000007,,,,2025-01-01,2024-01-01,\n"
    )

    assert refused(dataset, world, content) == [
        {
            "entry": "row 2",
            "reasons": [
                "participant 'good-1' appears more than once (row 2, row 6); give one consent per "
                "participant"
            ],
        },
        {
            "entry": "row 3",
            "reasons": [
                "participant: 'bad id!' is not a usable pseudonymous id (1–128 letters, digits, "
                "'.', ':', '-' or '_')"
            ],
        },
        {
            "entry": "row 4",
            "reasons": [
                "deny: 'HMB' is not a DUO code; write it as DUO:NNNNNNN",
                "permit: DUO:0000099 is not a known DUO term",
            ],
        },
        {
            "entry": "row 5",
            "reasons": [
                "status: 'maybe' is not a FHIR Consent status (active, draft, entered-in-error, "
                "inactive, not-done, proposed, rejected, unknown)",
                "period_start: '2024-13-01' is not an ISO 8601 date or date-time",
                "date_signed: 'yesterday' is not an ISO 8601 date",
                "permit: MONDO:0000000 is not a known MONDO disease",
            ],
        },
        {
            "entry": "row 6",
            "reasons": [
                "participant 'good-1' appears more than once (row 2, row 6); give one consent per "
                "participant"
            ],
        },
        {"entry": "row 7", "reasons": ["has 2 fields; the header has 8"]},
        {
            "entry": "row 8",
            "reasons": [
                "period_end: the period ends before it starts",
                "permit: disease specific research (DS, DUO:0000007) needs a MONDO disease",
            ],
        },
    ]


@pytest.mark.django_db
def test_a_csv_that_is_not_text_or_has_no_rows_is_refused(dataset, world):
    assert refused(dataset, world, "participant,permit\n") == [
        {"entry": "document", "reasons": ["the CSV file has a header but no rows"]}
    ]
    before = rows()
    with pytest.raises(ConsentImportRefused) as caught:
        consent_import(actor=world["owner"], dataset=dataset, content=b"\xff\xfe\x00bad", fmt="csv")
    assert caught.value.report.refused == [
        {"entry": "document", "reasons": ["the CSV file is not UTF-8 text"]}
    ]
    assert rows() == before
