"""No 500 on hostile input: every API operation that takes a body, sent each hostile body,
answers a 4xx with the project's JSON error body and writes nothing (no row in any table).

The operations come from the OpenAPI schema, so a new endpoint is covered the day it exists.
The hostile inputs: JSON nested past any sane depth (and past Python's recursion limit), lone
UTF-16 surrogates (escaped and raw), NUL characters (PostgreSQL refuses them in text), NaN and
Infinity (not JSON), numbers that overflow; NUL in URLs; receipts whose ``iat`` is absurd
(1e20, NaN, Infinity); consent imports with dates at the edges of the calendar.
"""

from __future__ import annotations

import json
import re

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from demo.world import DEMO_NODE_TOKEN

DEEP = 100_000  # far past Python's recursion limit
HOSTILE_JSON: dict[str, tuple[bytes, str]] = {
    "deep array": (b"[" * DEEP + b"]" * DEEP, "too_deep"),
    "deep object": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "too_deep"),
    "nested 100": (b'{"name":' + b"[" * 99 + b"]" * 99 + b"}", "too_deep"),
    "lone surrogate escaped": (b'{"name": "x\\ud800y", "title": "\\udfff"}', "invalid_unicode"),
    "lone surrogate raw": (b'{"name": "x\xed\xa0\x80y"}', "invalid_encoding"),
    "lone surrogate in key": (b'{"\\udc00": "x"}', "invalid_unicode"),
    "NUL in value": (b'{"name": "a\\u0000b", "title": "t\\u0000"}', "nul"),
    "NUL in key": (b'{"na\\u0000me": "x"}', "nul"),
    "NaN": (b'{"name": NaN, "min_votes": NaN}', "parse_error"),
    "Infinity": (b'{"name": Infinity}', "parse_error"),
    "-Infinity": (b'{"name": -Infinity}', "parse_error"),
    "float overflow": (b'{"name": 1e999}', "parse_error"),
    "huge integer": (b'{"name": ' + b"9" * 5000 + b"}", "parse_error"),
}


def table_counts() -> dict[str, int]:
    """Rows in every table of every app: 'nothing written' means all of these are unchanged.
    One statement of a COUNT per table: asked after each of ~650 hostile bodies, a query per
    model made this a quarter of the suite's time on this file."""
    from django.db import connection

    models = [model for model in apps.get_models() if not model._meta.proxy]
    quote = connection.ops.quote_name
    # The table names are the models' own, quoted: no input reaches this statement.
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")  # noqa: S608
        row = cursor.fetchone()
    return {model._meta.label: count for model, count in zip(models, row, strict=True)}


def assert_json_4xx(response, code: str | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), str)
    assert isinstance(body.get("code"), str)
    if code is not None:
        assert body["code"] == code, body


@pytest.fixture
def demo(world):
    """The demo's people and datasets with a permitted request (tests/factories.py)."""
    from tests.factories import permitted_request

    permitted_request(world)
    return world


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def node_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_NODE_TOKEN}")
    return client


# --- the guarded parser on endpoints that read their body -----------------------------------------


TARGETS = {
    "token create": ("requester", "/api/v1/auth/tokens"),
    "matcher (anonymous)": (None, "/api/v1/consent/match"),
    "request create": ("requester", "/api/v1/requests/"),
    "dataset conditions": ("owner", "/api/v1/consent/datasets/leiden-diabetes-cohort/conditions"),
    "report create": ("auditor", "/api/v1/reports"),
    "node key": ("node", "/api/v1/node/keys"),
    "node receipt": ("node", "/api/v1/node/receipts"),
    "consent import (FHIR)": ("owner", "/api/v1/consent/datasets/leiden-diabetes-cohort/imports"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("target", list(TARGETS))
def test_each_hostile_json_body_gets_its_4xx_and_nothing_is_written(demo, target):
    person, path = TARGETS[target]
    client = node_client() if person == "node" else client_for(demo[person] if person else None)
    content_type = "application/fhir+json" if "imports" in path else "application/json"
    before = table_counts()

    for name, (body, code) in HOSTILE_JSON.items():
        response = client.generic("POST", path, body, content_type=content_type)
        # The consent import refuses in its service, with its own field errors, so that the
        # form, the API and the command refuse a hostile document alike.
        assert_json_4xx(response, "import_refused" if "imports" in path else code)
        assert (name, table_counts()) == (name, before)


@pytest.mark.django_db
def test_a_nul_byte_in_a_csv_import_is_refused(demo):
    client = client_for(demo["owner"])
    before = table_counts()
    response = client.generic(
        "POST",
        "/api/v1/consent/datasets/leiden-diabetes-cohort/imports?type=csv",
        b"participant,permit\nP\x00X,DUO:0000042\n",
        content_type="text/csv",
    )
    assert_json_4xx(response, "import_refused")
    assert response.json()["errors"] == {"document": ["the file contains a NUL character"]}
    assert table_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/permits/LIFES%00P",
        "/api/v1/requests/R%00X",
        "/api/v1/datasets/x%00y",
        "/api/v1/register/?q=%00",
        "/api/v1/consent/datasets/leiden-diabetes-cohort/participants/P%000001",
    ],
)
def test_nul_in_a_url_is_a_400_json(demo, path):
    response = client_for(demo["admin"]).get(path)
    assert_json_4xx(response, "nul")


@pytest.mark.django_db
def test_nul_in_a_page_url_is_a_400_page(client, demo):
    response = client.get("/catalogue/x%00y/")
    assert response.status_code == 400


# --- every operation of the schema ------------------------------------------------------------------


def operations_with_a_body() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch") and "requestBody" in operation
    )


def fill(path: str) -> str:
    """Path parameters filled with objects of the demo world, so lookups succeed and the
    view goes on to read its body."""
    from accounts.models import ApiToken
    from permits.models import Permit
    from reports.models import Report
    from requests_app.models import AccessRequest, ReviewBoard

    request = AccessRequest.objects.exclude(state="draft").order_by("pk").first()
    values = {
        "reference": request.reference,
        "number": Permit.objects.order_by("pk").first().number,
        "slug": "leiden-diabetes-cohort",
        "dataset_id": "leiden-diabetes-cohort",
        "board_id": str(ReviewBoard.objects.order_by("pk").first().pk),
        "token_id": str(ApiToken.objects.order_by("pk").first().pk),
        "report_id": str((Report.objects.order_by("pk").first() or ApiToken()).pk or 1),
        "pseudonym": "P0001",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


@pytest.mark.django_db
def test_every_api_operation_with_a_body_refuses_every_hostile_body(demo):
    operations = operations_with_a_body()
    assert len(operations) >= 20
    staff = client_for(demo["admin"])
    before = table_counts()
    answered: dict[str, int] = {}

    for method, path in operations:
        url = fill(path)
        for name, (body, _code) in HOSTILE_JSON.items():
            response = staff.generic(method, url, body, content_type="application/json")
            assert_json_4xx(response)
            answered[f"{method} {path} {name}"] = response.status_code
            assert (method, path, name, table_counts()) == (method, path, name, before)

    # Most operations really parsed the body (400), not only refused the caller or the state.
    parsed = [key for key, status in answered.items() if status == 400]
    assert len(parsed) >= len(answered) // 2


# --- receipts with absurd iat ----------------------------------------------------------------------


@pytest.fixture
def signer(demo, tmp_path):
    """The demo node's receipt key, registered with the hub as ``lifes-node keygen`` would."""
    from catalogue.models import Node
    from catalogue.services import node_public_key_set
    from lifes_node.keys import generate_private_key, public_jwk
    from lifes_node.receipt import NodeSigner

    key = generate_private_key()
    node_public_key_set(
        actor=None, node=Node.objects.get(identifier="lumc-station-1"), jwk=public_jwk(key)
    )
    return NodeSigner(key)


def receipt_token(signer, **claims) -> str:
    from django.conf import settings

    from lifes_node.receipt import receipt_claims
    from permits.models import Permit

    permit = Permit.objects.filter(status="active").order_by("pk").first()
    body = {
        "permit": permit.number,
        "permit_jti": str(permit.jti),
        "dataset": "leiden-diabetes-cohort",
        "status": "succeeded",
        "disclosure": {"passed": True, "reason": None, "details": []},
    }
    full = receipt_claims(node_id="lumc-station-1", hub_url=settings.HUB_URL, receipt=body)
    full.update(claims)
    return signer.sign(full)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "iat",
    [1e20, float("nan"), float("inf"), float("-inf"), -1, 253402300800, "1700000000", None, True],
    ids=[
        "1e20",
        "NaN",
        "Infinity",
        "-Infinity",
        "negative",
        "year 10000",
        "string",
        "null",
        "true",
    ],
)
def test_a_receipt_with_an_absurd_iat_is_a_400_and_nothing_is_written(signer, iat):
    from permits.models import ExecutionReceipt

    token = receipt_token(signer, iat=iat)
    before = table_counts()

    response = node_client().post("/api/v1/node/receipts", {"receipt": token}, format="json")

    assert_json_4xx(response)
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_receipt", "receipt_malformed")
    assert table_counts() == before
    assert ExecutionReceipt.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "claims",
    [
        {"jti": "a\x00b"},
        {"receipt": {"status": "succeeded", "reason": "x\x00", "disclosure": {"passed": True}}},
        {"extra": {"deep": json.loads("[" * 80 + "]" * 80)}},
    ],
    ids=["NUL jti", "NUL reason", "deep claim"],
)
def test_a_signed_receipt_with_hostile_claims_is_refused(signer, claims):
    token = receipt_token(signer, **claims)
    before = table_counts()
    response = node_client().post("/api/v1/node/receipts", {"receipt": token}, format="json")
    assert_json_4xx(response, "invalid_receipt")
    assert table_counts() == before


@pytest.mark.django_db
def test_a_sane_receipt_still_goes_in(signer):
    """The guard refuses the absurd, not the ordinary: the same receipt with a real iat is
    stored (so the refusals above are about the iat, not about the receipt)."""
    response = node_client().post(
        "/api/v1/node/receipts", {"receipt": receipt_token(signer)}, format="json"
    )
    assert response.status_code == 201, response.json()


# --- consent imports: dates at the edges of the calendar ---------------------------------------------


IMPORT = "/api/v1/consent/datasets/leiden-diabetes-cohort/imports"


def csv_row(**columns: str) -> str:
    header = ["participant", "permit", *columns]
    values = ["EDGE-1", "DUO:0000042", *columns.values()]
    return ",".join(header) + "\n" + ",".join(values) + "\n"


def fhir_consent(period: dict[str, str]) -> bytes:
    return json.dumps(
        {
            "resourceType": "Consent",
            "id": "edge-1",
            "status": "active",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "research",
                    }
                ]
            },
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": "Patient/EDGE-1"},
            "dateTime": "2021-03-15T10:30:00+01:00",
            "policyRule": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "OPTIN",
                    }
                ]
            },
            "provision": {
                "type": "permit",
                "period": period,
                "purpose": [
                    {"system": "http://purl.obolibrary.org/obo/duo.owl", "code": "DUO:0000042"}
                ],
            },
        }
    ).encode()


def post_import(demo, fmt: str, body) -> object:
    return client_for(demo["owner"]).generic(
        "POST",
        f"{IMPORT}?type={fmt}",
        body,
        content_type="text/csv" if fmt == "csv" else "application/fhir+json",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("csv", csv_row(period_end="9999-12-31")),
        ("fhir", fhir_consent({"start": "2020-01-01", "end": "9999-12-31"})),
    ],
    ids=["csv", "fhir"],
)
def test_9999_12_31_as_a_consent_end_means_no_end_and_is_accepted(demo, fmt, body):
    response = post_import(demo, fmt, body)
    assert response.status_code == 201, response.content[:500]
    assert response.json()["consents_recorded"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("csv", csv_row(period_start="0001-01-01T00:00:00+14:00")),
        ("fhir", fhir_consent({"start": "0001-01-01T00:00:00+14:00"})),
    ],
    ids=["csv", "fhir"],
)
def test_a_start_before_the_calendar_in_utc_is_a_400_and_nothing_is_written(demo, fmt, body):
    """0001-01-01T00:00:00+14:00 is 0000-12-31T10:00Z: no datetime (nor PostgreSQL) holds it."""
    before = table_counts()
    response = post_import(demo, fmt, body)
    assert_json_4xx(response)
    assert response.status_code == 400
    assert table_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "body"),
    [
        ("csv", csv_row(period_end="9999-12-31T23:59:59-12:00")),
        ("fhir", fhir_consent({"start": "2020-01-01", "end": "9999-12-31T23:59:59-12:00"})),
    ],
    ids=["csv", "fhir"],
)
def test_an_end_past_the_calendar_in_utc_is_no_end_or_a_400_never_a_500(demo, fmt, body):
    """9999-12-31T23:59:59-12:00 is in year 10000 in UTC. Read as "no end" (like 9999-12-31)
    or refused with a 400: either is a clear answer; a 500 or a half-written import is not."""
    before = table_counts()
    response = post_import(demo, fmt, body)
    assert response.status_code in (201, 400), response.content[:500]
    if response.status_code == 400:
        assert_json_4xx(response)
        assert table_counts() == before
    else:
        assert response.json()["consents_recorded"] == 1
