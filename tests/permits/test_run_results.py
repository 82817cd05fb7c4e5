"""Run results: the node that ran uploads the released output with its signed receipt; the
permit holder's team reads and downloads it; everyone else gets 404, and every refusal of an
upload stores nothing."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.services import api_token_create, user_create
from audit.models import AuditEvent
from catalogue.services import node_create
from permits.models import ExecutionReceipt, RunOutput
from requests_app import services as request_services

from .conftest import DEMO_NODE_TOKEN, approve
from .test_node_api import signed_receipt

OUTPUT = json.dumps({"mean_bmi": {"F": 27.1, "M": 28.4}, "n": {"F": 31, "M": 29}}).encode()
UPLOAD = "/api/v1/node/run-outputs"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def node_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_NODE_TOKEN}")
    return client


@pytest.fixture
def other_node_client(world) -> APIClient:
    identity = user_create(actor=None, email="erasmus-1@nodes.lifes.test", is_machine=True)
    node_create(
        actor=None,
        identifier="erasmus-station-1",
        name="Erasmus MC Station",
        organisation=world["owner"].memberships.get().organisation,
        identity=identity,
    )
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(actor=None, user=identity, name='n').key}"
    )
    return client


def upload(client, token: str, data: bytes = OUTPUT, content_type: str = "application/json"):
    return client.post(
        UPLOAD,
        {"receipt": token, "output": SimpleUploadedFile("out.json", data, content_type)},
        format="multipart",
    )


def uploaded(permit, node_key, node_client, data: bytes = OUTPUT) -> RunOutput:
    token, _jti = signed_receipt(node_key, permit, output_digest=digest(data))
    response = upload(node_client, token, data)
    assert response.status_code == 201, response.content
    return RunOutput.objects.get(pk=response.json()["id"])


def nothing_stored(events_before: int) -> bool:
    return not RunOutput.objects.exists() and AuditEvent.objects.count() == events_before


# --- upload ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_node_uploads_the_output_with_its_receipt_stored_and_audited(
    permit, node_key, node_client
):
    token, jti = signed_receipt(node_key, permit, output_digest=digest(OUTPUT))

    response = upload(node_client, token)

    assert response.status_code == 201
    output = RunOutput.objects.get()
    assert response.json()["digest"] == digest(OUTPUT) == output.digest
    assert (output.receipt.jti, output.size, output.content_type) == (
        jti,
        len(OUTPUT),
        "application/json",
    )
    assert output.file.read() == OUTPUT
    event = AuditEvent.objects.get(action="receipt.output_upload")
    assert event.payload["digest"] == digest(OUTPUT)
    assert event.payload["permit"] == permit.number
    # the receipt came with it and was stored (and audited) too
    assert ExecutionReceipt.objects.filter(jti=jti).exists()
    # a second upload of the same run is refused
    again = upload(node_client, token)
    assert (again.status_code, again.json()["code"]) == (409, "output_duplicate")


@pytest.mark.django_db
def test_an_already_delivered_receipt_takes_its_output_later(permit, node_key, node_client):
    token, _jti = signed_receipt(node_key, permit, output_digest=digest(OUTPUT))
    node_client.post("/api/v1/node/receipts", {"receipt": token}, format="json")

    assert upload(node_client, token).status_code == 201
    assert ExecutionReceipt.objects.count() == 1


@pytest.mark.django_db
def test_another_node_cannot_upload_for_the_permits_node(
    permit, node_key, node_client, other_node_client
):
    token, _jti = signed_receipt(node_key, permit, output_digest=digest(OUTPUT))
    before = AuditEvent.objects.count()

    unknown = upload(other_node_client, token)  # receipt not stored: it cannot verify it
    node_client.post("/api/v1/node/receipts", {"receipt": token}, format="json")
    before = AuditEvent.objects.count()
    stolen = upload(other_node_client, token)  # stored: it is another node's

    assert unknown.status_code == 403
    assert (stolen.status_code, stolen.json()["code"]) == (403, "not_your_receipt")
    assert nothing_stored(before)


@pytest.mark.django_db
def test_a_person_cannot_upload(permit, node_key, token_client, consented):
    token, _jti = signed_receipt(node_key, permit, output_digest=digest(OUTPUT))
    response = upload(token_client(consented["requester"]), token)
    assert (response.status_code, response.json()["code"]) == (403, "not_a_node")
    assert not RunOutput.objects.exists()


@pytest.mark.django_db
def test_an_output_whose_digest_is_not_the_receipts_is_refused(permit, node_key, node_client):
    token, _jti = signed_receipt(node_key, permit, output_digest=digest(OUTPUT))
    before = AuditEvent.objects.count()

    response = upload(node_client, token, OUTPUT.replace(b"27.1", b"99.9"))

    assert (response.status_code, response.json()["code"]) == (400, "output_digest_mismatch")
    assert response.json()["errors"]["output"] == [f"expected {digest(OUTPUT)}"]
    assert nothing_stored(before)
    assert not ExecutionReceipt.objects.exists()  # one transaction: the receipt is not kept


@pytest.mark.django_db
def test_an_output_over_the_size_limit_is_refused(permit, node_key, node_client, settings):
    settings.RUN_OUTPUT_MAX_BYTES = 64
    big = json.dumps({"cells": list(range(40))}).encode()
    token, _jti = signed_receipt(node_key, permit, output_digest=digest(big))
    before = AuditEvent.objects.count()

    response = upload(node_client, token, big)

    assert (response.status_code, response.json()["code"]) == (413, "output_too_large")
    assert nothing_stored(before)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"not json {", "application/json")],
)
def test_an_output_of_another_type_is_refused(permit, node_key, node_client, data, content_type):
    token, _jti = signed_receipt(node_key, permit, output_digest=digest(data))
    before = AuditEvent.objects.count()

    response = upload(node_client, token, data, content_type)

    assert (response.status_code, response.json()["code"]) == (415, "output_type")
    assert nothing_stored(before)


@pytest.mark.django_db
def test_the_output_of_a_refused_run_is_refused(permit, node_key, node_client):
    token, _jti = signed_receipt(
        node_key,
        permit,
        output_digest=digest(OUTPUT),
        status="refused",
        reason="revoked",
    )
    response = upload(node_client, token)
    assert (response.status_code, response.json()["code"]) == (409, "output_not_released")
    assert not RunOutput.objects.exists()


# --- who reads it ------------------------------------------------------------------------------


@pytest.fixture
def team_permit(consented):
    """A permit whose request has a team member besides the requester (member3)."""
    from permits.services import permit_issue

    draft = approve(consented, submit=False)
    request_services.team_member_invite(
        actor=consented["requester"], request_id=draft.pk, email="member3@demo.lifes.test"
    )
    request_services.terms_accept(actor=consented["member3"], request_id=draft.pk)
    approved = approve(consented, existing=draft)
    return permit_issue(actor=None, request_id=approved.pk)


@pytest.mark.django_db
def test_the_holder_and_team_download_it_and_nobody_else(
    team_permit, node_key, node_client, consented, client, token_client
):
    permit = team_permit
    output = uploaded(permit, node_key, node_client)
    page_url = f"/permits/{permit.number}/"
    file_url = f"/permits/{permit.number}/run-outputs/{output.pk}/"
    api_list = f"/api/v1/permits/{permit.number}/run-outputs"
    api_file = f"{api_list}/{output.pk}"

    for name in ("requester", "member3"):
        client.force_login(consented[name])
        page = client.get(page_url)
        assert file_url in page.content.decode(), name
        download = client.get(file_url)
        assert download.status_code == 200, name
        assert b"".join(download.streaming_content) == OUTPUT
        assert download["Content-Disposition"].startswith("attachment")
        api = token_client(consented[name])
        listed = api.get(api_list).json()["results"]
        assert [(r["id"], r["digest"]) for r in listed] == [(output.pk, digest(OUTPUT))]
        assert b"".join(api.get(api_file).streaming_content) == OUTPUT

    # the owner, a board member and the auditor see the permit and its receipts, not the results
    for name in ("owner", "chair", "auditor"):
        client.force_login(consented[name])
        page = client.get(page_url)
        assert page.status_code == 200, name
        assert file_url not in page.content.decode(), name
        assert client.get(file_url).status_code == 404, name
        api = token_client(consented[name])
        assert api.get(api_list).status_code == 404, name
        assert api.get(api_file).status_code == 404, name
    # a stranger does not see the permit at all
    client.force_login(consented["industry"])
    assert client.get(file_url).status_code == 404
