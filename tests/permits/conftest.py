"""Permits on top of the demo world: consenting participants, an approved request, a node key,
and a node "hub client" that speaks to the real hub views through Django's test client."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.utils import timezone

from tests.requests import conftest as requests_conftest
from tests.requests.conftest import fill_draft

ROOT = Path(__file__).resolve().parents[2]
DEMO_NODE = ROOT / "demo" / "node"
DEMO_DATA = DEMO_NODE / "data" / "leiden-diabetes-cohort.csv"
DEMO_ALGORITHM = DEMO_NODE / "algorithms" / "mean_bmi_by_sex.py"
NODE_ID = "lumc-station-1"
DATASET = "leiden-diabetes-cohort"
DEMO_NODE_TOKEN = "lifes_demo-node-lumc-station-1-not-for-production"  # noqa: S105
PARTICIPANTS = [f"P{n:04d}" for n in range(1, 61)]

review = requests_conftest.review  # the boards and owners of the request tests


@pytest.fixture(autouse=True)
def key_dir(settings, tmp_path):
    """Every test signs with its own fresh keys, never the developer's ``keys/``."""
    settings.SIGNING_KEY_DIR = tmp_path / "keys"
    settings.SIGNING_KEY_PASSPHRASE = ""
    settings.SIGNING_KEY_PEM = ""
    settings.VISA_SIGNING_KEY_PEM = ""
    return settings.SIGNING_KEY_DIR


def consent_csv(participants: list[str]) -> str:
    """Every listed participant permits disease-specific research on diabetes mellitus."""
    rows = ["participant,permit,permit_diseases"]
    rows += [f"{p},DUO:0000007,MONDO:0005015" for p in participants]
    return "\n".join(rows) + "\n"


@pytest.fixture
def consented(review):
    """The diabetes cohort's participants with their consents: those of the demo world when it
    seeds them (demo/consent_world.py), else all 60 consenting to diabetes research."""
    from catalogue.models import Dataset
    from consent.models import Participant
    from consent.services import consent_import

    dataset = Dataset.objects.get(slug=DATASET)
    if not Participant.objects.filter(dataset=dataset).exists():
        consent_import(actor=None, dataset=dataset, content=consent_csv(PARTICIPANTS), fmt="csv")
    return review


def demo_purpose():
    """The purpose of the test requests: disease-specific research on type 2 diabetes."""
    from consent.matcher import Purpose

    return Purpose(
        codes=("DUO:0000007",), diseases=("MONDO:0005148",), commercial=False, for_profit=False
    )


def expected_cohort() -> list[str]:
    """The current cohort of the diabetes dataset for the test purpose, by the consent engine;
    every id is a participant_id of the node's demo data, so runs select real rows."""
    from catalogue.models import Dataset
    from consent.cohort import cohort_for

    ids = cohort_for(dataset=Dataset.objects.get(slug=DATASET), purpose=demo_purpose()).ids()
    assert set(ids) <= set(PARTICIPANTS), "cohort pseudonyms must match the node's demo data"
    assert len(ids) >= 50
    return ids


def cohort_version() -> int:
    from catalogue.models import Dataset
    from consent.cohort import cohort_version as version_of

    return version_of(Dataset.objects.get(slug=DATASET))


def approve(
    people: dict[str, Any],
    *,
    datasets: list[str] | None = None,
    answers: dict[str, Any] | None = None,
    title: str = "Glycaemic control and BMI",
    refuse: frozenset[str] = frozenset(),
    existing: Any = None,
    submit: bool = True,
):
    """Drive a request through the services to ``approved`` (the boards approve, the owners
    grant all but ``refuse``); ``existing`` resubmits a request sent back for changes.

    Outside a transactional test the approval's on-commit signal never fires, so no permit is
    issued here; transactional tests get one issued by the signal, as in production.
    """
    from demo.permits_world import approve_request

    if existing is None:
        today = timezone.localdate()
        answers = {
            "period_start": today,
            "period_end": today + dt.timedelta(days=365),
            **(answers or {}),
        }
        existing = fill_draft(
            people["requester"], datasets or [DATASET], title=title, answers=answers
        )
        if not submit:
            return existing
    return approve_request(existing, refuse=refuse)


@pytest.fixture
def approved(consented):
    return approve(consented)


@pytest.fixture
def permit(approved):
    from permits.services import permit_issue

    return permit_issue(actor=None, request_id=approved.pk)


@pytest.fixture
def node_key(db, tmp_path):
    """The node's receipt key (a PEM file, as ``lifes-node keygen`` writes it), registered."""
    from catalogue.models import Node
    from catalogue.services import node_public_key_set
    from lifes_node.keys import generate_private_key, public_jwk, write_private_key

    key = generate_private_key()
    path = tmp_path / "node.key"
    write_private_key(key, path)
    node = Node.objects.get(identifier=NODE_ID)
    node_public_key_set(actor=None, node=node, jwk=public_jwk(key))
    return path


def hub_jwks(client) -> dict[str, Any]:
    return client.get("/.well-known/jwks.json").json()


def revocations(client) -> str:
    response = client.get("/api/v1/permits/revocations", HTTP_ACCEPT="application/jwt")
    assert response.status_code == 200
    return response.content.decode("ascii")


class DjangoClientHub:
    """``lifes_node.hub.HubClient`` over Django's test client: the node code runs unchanged
    against the real hub views, in the test's own transaction."""

    def __init__(self, client, *, credential: str = DEMO_NODE_TOKEN) -> None:
        self.client = client
        self.credential = credential
        self.base_url = "http://testserver"

    def _response(self, response):
        from lifes_node.transport import Response

        headers = {key.lower(): value for key, value in response.items()}
        return Response(response.status_code, response.content, headers)

    def jwks(self) -> bytes:
        return self.client.get("/.well-known/jwks.json").content

    def revocations(self) -> str:
        from lifes_node.hub import parse_revocations_body

        return parse_revocations_body(
            self.client.get(
                "/api/v1/permits/revocations", HTTP_ACCEPT="application/jwt, application/json"
            ).content
        )

    def cohort(self, permit: str, dataset: str, *, etag: str | None = None):
        headers = {"HTTP_AUTHORIZATION": f"Token {self.credential}"}
        if etag:
            headers["HTTP_IF_NONE_MATCH"] = etag
        return self._response(
            self.client.get(f"/api/v1/node/permits/{permit}/cohorts/{dataset}", **headers)
        )

    def post_receipt(self, token: str):
        return self._response(
            self.client.post(
                "/api/v1/node/receipts",
                data=json.dumps({"receipt": token}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {self.credential}",
            )
        )

    def url(self, path: str) -> str:
        return self.base_url + urlsplit(path).path


def node_config(
    tmp_path: Path,
    signing_key: Path,
    *,
    hub_url: str,
    min_cell_count: int = 0,
    datasets: dict[str, Path] | None = None,
):
    from lifes_node.config import NodeConfig

    return NodeConfig(
        hub_url=hub_url,
        node_id=NODE_ID,
        credential=DEMO_NODE_TOKEN,
        signing_key=signing_key,
        cache_dir=tmp_path / "cache",
        outbox_dir=tmp_path / "cache" / "outbox",
        datasets=datasets if datasets is not None else {DATASET: DEMO_DATA},
        min_cell_count=min_cell_count,
        timeout=60,
    )


def exchange_form(token: str, **changes: str) -> dict[str, str]:
    """The RFC 8693 form of CONTRACTS.md for POST /api/v1/ga4gh/token."""
    return {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "scope": "ga4gh_passport_v1",
        **changes,
    }


@pytest.fixture
def passport_client(db):
    """An API client holding a passport-scoped token, exchanged (RFC 8693) for a real API token
    of the given user at POST /api/v1/ga4gh/token."""
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    def make(user) -> APIClient:
        issued = api_token_create(actor=user, user=user, name="passport")
        client = APIClient()
        answer = client.post(
            "/api/v1/ga4gh/token",
            urlencode(exchange_form(issued.key)),
            content_type="application/x-www-form-urlencoded",
        )
        assert answer.status_code == 200, answer.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access_token']}")
        return client

    return make
