"""Hostile and edge values in consent imports (issue 10, Build 6, the consent-import part).

Each gets a 4xx with the JSON error body (or a per-entry refusal) and nothing is written;
``9999-12-31`` as an end date means "no end" and is accepted.
"""

from __future__ import annotations

import copy
import json

import pytest

from audit.models import AuditEvent
from consent.models import ConsentRecord, DatasetConsentState, Participant
from tests.consent import fhir_examples as ex


def url(dataset) -> str:
    return f"/api/v1/consent/datasets/{dataset.slug}/imports"


def state(dataset) -> tuple:
    return (
        Participant.objects.filter(dataset=dataset).count(),
        ConsentRecord.objects.filter(dataset=dataset).count(),
        DatasetConsentState.objects.filter(dataset=dataset, version__gt=0).count(),
        AuditEvent.objects.count(),
    )


def post(client, dataset, body, content_type: str, query: str = ""):
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    return client.generic("POST", url(dataset) + query, data, content_type=content_type)


@pytest.mark.django_db
@pytest.mark.parametrize("end", ["9999-12-31", "9999-12-31T23:59:59-05:00", "9999"])
def test_9999_12_31_as_an_end_means_no_end(dataset, world, token_client, end):
    resource = copy.deepcopy(ex.R4_PERMIT_HMB_DENY_MDS)
    resource["provision"]["period"]["end"] = end
    csv = f"participant,permit,period_end\nC-9999,DUO:0000042,{end}\n"
    client = token_client(world["owner"])

    fhir = post(client, dataset, json.dumps(resource), "application/fhir+json")
    table = post(client, dataset, csv, "text/csv")

    assert (fhir.status_code, table.status_code) == (201, 201)
    records = ConsentRecord.objects.filter(dataset=dataset).order_by("participant__pseudonym")
    assert [(r.participant.pseudonym, r.period_end) for r in records] == [
        ("C-9999", None),
        ("P-R4-01", None),
    ]


HOSTILE_FHIR = [
    pytest.param(
        lambda r: r["provision"]["period"].update(start="0001-01-01T00:00:00+14:00"),
        "unreadable value: 0001-01-01T00:00:00+14:00 lies outside the years 1–9999 (UTC) that "
        "the hub can store",
        id="start-before-year-1",
    ),
    pytest.param(
        lambda r: r.update(dateTime="0001-01-01T00:00:00+14:00"),
        "unreadable value: 0001-01-01T00:00:00+14:00 lies outside the years 1–9999 (UTC) that "
        "the hub can store",
        id="signed-before-year-1",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "reason"), HOSTILE_FHIR)
def test_edge_dates_in_fhir_are_refused_per_entry(dataset, world, token_client, change, reason):
    resource = copy.deepcopy(ex.R4_PERMIT_HMB_DENY_MDS)
    change(resource)
    client = token_client(world["owner"])
    before = state(dataset)

    response = post(client, dataset, json.dumps(resource), "application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "import_refused"
    assert response.json()["errors"] == {"Consent/p-r4-01": [reason]}
    assert state(dataset) == before


@pytest.mark.django_db
def test_edge_dates_in_csv_are_refused_per_row(dataset, world, token_client):
    csv = (
        "participant,permit,period_start,period_end\n"
        "ok,DUO:0000042,2024-01-01,9999-12-31\n"
        "early,DUO:0000042,0001-01-01T00:00:00+14:00,\n"
        "late,DUO:0000042,10000-01-01,\n"
    )
    client = token_client(world["owner"])
    before = state(dataset)

    response = post(client, dataset, csv, "text/csv")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "row 3": [
            "period_start: 0001-01-01T00:00:00+14:00 lies outside the years 1–9999 (UTC) that "
            "the hub can store"
        ],
        "row 4": ["period_start: '10000-01-01' is not an ISO 8601 date or date-time"],
    }
    assert state(dataset) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        pytest.param(
            "[" * 100_000 + "]" * 100_000,
            "application/json",
            "the JSON is nested too deeply to be a FHIR document",
            id="deeply-nested-json",
        ),
        pytest.param(
            json.dumps({**ex.R5_INACTIVE, "id": "x\u0000y"}),
            "application/json",
            "the document contains a NUL character, which cannot be stored",
            id="nul-byte",
        ),
        pytest.param(
            '{"resourceType": "Consent", "id": "\\ud800", "status": "active"}',
            "application/json",
            "the document contains a lone UTF-16 surrogate (\\ud800–\\udfff), which is not text",
            id="lone-surrogate",
        ),
    ],
)
def test_hostile_documents_get_a_4xx_json_and_nothing_is_written(
    dataset, world, token_client, body, content_type, detail
):
    client = token_client(world["owner"])
    before = state(dataset)

    response = post(client, dataset, body, content_type)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"] == {"document": [detail]}
    assert state(dataset) == before


@pytest.mark.django_db
def test_nul_and_surrogates_in_csv_are_refused(dataset, world, token_client):
    client = token_client(world["owner"])
    before = state(dataset)

    nul = post(client, dataset, "participant,permit\nA\x00,DUO:0000042\n", "text/csv")
    surrogate = post(
        client, dataset, b"participant,permit\nA\xed\xa0\x80,DUO:0000042\n", "text/csv"
    )

    assert (nul.status_code, surrogate.status_code) == (400, 400)
    assert nul.json()["errors"] == {"document": ["the file contains a NUL character"]}
    assert surrogate.json()["errors"] == {"document": ["the CSV file is not UTF-8 text"]}
    assert state(dataset) == before


@pytest.mark.django_db
def test_the_import_body_limit_is_a_setting(dataset, world, token_client, settings):
    settings.CONSENT_IMPORT_MAX_BYTES = 64
    client = token_client(world["owner"])
    before = state(dataset)

    big = post(client, dataset, "participant,permit\n" + "A,DUO:0000042\n" * 10, "text/csv")

    assert big.status_code == 413
    assert big.json() == {
        "detail": "The request body is larger than 64 bytes.",
        "code": "request_too_large",
    }
    assert state(dataset) == before
    small = post(client, dataset, "participant,permit\nA,DUO:0000042\n", "text/csv")
    assert small.status_code == 201
