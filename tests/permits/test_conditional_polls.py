"""Node polls and the JWKS answer conditional requests: an ETag on every answer, 304 without a
body when the node already holds the current document, and a new tag (and the new document)
after anything that changes it — above all a revocation."""

from __future__ import annotations

import json

import jwt
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from consent.services import consent_import, consent_withdraw
from permits import keys
from permits.services import permit_revoke, permit_suspend

from .conftest import DATASET, DEMO_NODE_TOKEN

REVOCATIONS = "/api/v1/permits/revocations"
NODE_PERMITS = "/api/v1/node/permits"
JWKS = "/.well-known/jwks.json"


@pytest.fixture
def node_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_NODE_TOKEN}")
    return client


def revoked_jtis(response) -> list[str]:
    claims = jwt.decode(response.content, options={"verify_signature": False})
    return [entry["jti"] for entry in claims["revoked"]]


@pytest.mark.django_db
def test_the_revocation_list_answers_304_until_a_revocation_changes_it(
    permit, consented, node_client
):
    first = node_client.get(REVOCATIONS, HTTP_ACCEPT="application/jwt")
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, no-cache"
    etag = first["ETag"]
    assert str(permit.jti) not in revoked_jtis(first)

    again = node_client.get(REVOCATIONS, HTTP_ACCEPT="application/jwt", HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)

    permit_revoke(actor=consented["owner"], number=permit.number, reason="Misuse")
    after = node_client.get(REVOCATIONS, HTTP_ACCEPT="application/jwt", HTTP_IF_NONE_MATCH=etag)

    # the node holding the old tag gets the new list, with the permit on it
    assert after.status_code == 200
    assert after["ETag"] != etag
    assert str(permit.jti) in revoked_jtis(after)


@pytest.mark.django_db
def test_the_node_permit_list_answers_304_and_drops_a_suspended_permit(
    permit, consented, node_client
):
    first = node_client.get(NODE_PERMITS)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    assert [p["number"] for p in first.json()["results"]] == [permit.number]
    etag = first["ETag"]

    with CaptureQueriesContext(connection) as queries:
        again = node_client.get(NODE_PERMITS, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content) == (304, b"")
    # the tag is computed without building the list: no token, algorithm or proof is read
    sql = " ".join(q["sql"] for q in queries)
    assert '"permits_permit"."token"' not in sql
    assert "permits_permitalgorithm" not in sql
    assert "leaf_data" not in sql
    assert "audit_audittreenode" not in sql

    permit_suspend(actor=consented["owner"], number=permit.number, reason="Audit")
    after = node_client.get(NODE_PERMITS, HTTP_IF_NONE_MATCH=etag)

    assert after.status_code == 200
    assert after["ETag"] != etag
    assert after.json()["results"] == []


@pytest.mark.django_db
def test_a_head_signed_for_other_events_keeps_the_node_permit_list_tag(permit, node_client):
    """The tag is weak: a newer signed head changes the proofs a fresh answer would carry, not
    what they prove, so a busy log does not make every poll download the list again. The first
    head over a permit's issue event does change it: the node has no proof until then."""
    from audit.models import AuditTreeHead
    from audit.services import audit_record, audit_sequence

    unlogged = node_client.get(NODE_PERMITS)
    assert unlogged.json()["results"][0]["log"]["tree_head"] is None  # no head signed yet
    audit_sequence()  # a signed head covers the permit's issue event: the proof is news
    first = node_client.get(NODE_PERMITS, HTTP_IF_NONE_MATCH=unlogged["ETag"])
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('W/"')
    (held,) = first.json()["results"]
    assert held["log"]["tree_head"] is not None
    head_before = AuditTreeHead.objects.order_by("-tree_size").first().tree_size

    with transaction.atomic():
        audit_record(actor=None, action="test.elsewhere", payload={})
    audit_sequence()
    assert AuditTreeHead.objects.order_by("-tree_size").first().tree_size > head_before

    again = node_client.get(NODE_PERMITS, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again["ETag"]) == (304, etag)
    # a fresh answer carries a proof against the newer head, of the same issue event
    (fresh,) = node_client.get(NODE_PERMITS).json()["results"]
    assert fresh["log"]["leaf_index"] == held["log"]["leaf_index"]
    assert fresh["log"] != held["log"]


@pytest.mark.django_db
def test_each_page_of_the_node_permit_list_has_its_own_tag(permit, node_client):
    first = node_client.get(NODE_PERMITS)
    other_page = node_client.get(NODE_PERMITS + "?page=2", HTTP_IF_NONE_MATCH=first["ETag"])
    assert other_page.status_code != 304


@pytest.mark.django_db
def test_a_page_of_the_node_permit_list_keeps_its_tag_exactly_while_its_body_holds(
    permit, consented, node_client
):
    """The tag is made of the page (and the capped count), not of every permit of the node:
    it must still change whenever that page's body changes, and only then may it be kept."""
    from permits.models import Permit
    from permits.services import permit_issue
    from tests.permits.conftest import approve

    page = NODE_PERMITS + "?page_size=1"

    def poll() -> tuple[str, str]:
        """The tag, and the body as it means: a ``log`` proof against a newer signed head
        means what the older one did (the tag is weak), so only whether there is one counts."""
        response = node_client.get(page)
        assert response.status_code == 200
        body = response.json()
        for result in body["results"]:
            result["log"] = result["log"] is not None and result["log"]["tree_head"] is not None
        return response["ETag"], json.dumps(body, sort_keys=True)

    seen = [poll()]

    def step() -> None:
        seen.append(poll())
        (old_tag, old_body), (new_tag, new_body) = seen[-2:]
        if new_body != old_body:  # a changed body never keeps the old tag
            assert new_tag != old_tag
        else:
            assert node_client.get(page, HTTP_IF_NONE_MATCH=old_tag).status_code == 304

    step()  # nothing happened: 304
    second = permit_issue(actor=None, request_id=approve(consented, title="Second study").pk)
    step()  # a second permit: page 1's count and "next" change
    assert seen[-1][0] != seen[-2][0]
    Permit.objects.filter(pk=second.pk).update(token="x", token_sha256="0" * 64)
    step()  # page 2's token changed; page 1 (ordered by expiry) may hold either permit
    Permit.objects.filter(pk=permit.pk).update(valid_until=timezone.now())
    step()  # the first permit's window closed with no status change: it leaves the list
    assert seen[-1][0] != seen[-2][0]
    assert str(permit.number) not in seen[-1][1]
    assert node_client.get(page + "&page=9").status_code == 404


@pytest.mark.django_db
def test_the_jwks_answers_304_until_a_key_is_added(client):
    first = client.get(JWKS)
    assert first.status_code == 200
    etag = first["ETag"]
    assert "max-age=" in first["Cache-Control"]

    again = client.get(JWKS, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    assert client.get(JWKS, HTTP_IF_NONE_MATCH=f'W/{etag}, "other"').status_code == 304

    new = keys.rotate(actor=None)
    after = client.get(JWKS, HTTP_IF_NONE_MATCH=etag)

    assert after.status_code == 200
    assert after["ETag"] != etag
    assert new.kid in [key["kid"] for key in after.json()["keys"]]


# --- the cohort: a cheap validator that is never stale ------------------------------------------


def cohort_url(permit) -> str:
    return f"/api/v1/node/permits/{permit.number}/cohorts/{DATASET}"


def diabetes():
    from catalogue.models import Dataset

    return Dataset.objects.get(slug=DATASET)


def fetched(node_client, permit):
    first = node_client.get(cohort_url(permit))
    assert first.status_code == 200
    return first, first["ETag"]


@pytest.mark.django_db
def test_an_unchanged_cohort_is_a_304_without_reading_the_cohort(permit, node_client, consented):
    first, etag = fetched(node_client, permit)
    body = first.json()
    assert etag == f'"{body["digest"]}.v{body["version"]}"'

    with CaptureQueriesContext(connection) as queries:
        again = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=etag)

    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    assert again["Cache-Control"] == "private, no-cache"
    # the stored cohort's digest and version, never its ids, and no consent is read
    sql = " ".join(q["sql"] for q in queries)
    assert '"consent_materialisedcohort"."ids"' not in sql
    assert "consent_consentrecord" not in sql
    assert "consent_participant" not in sql
    # another tag, or none, gets the cohort
    assert node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert node_client.get(cohort_url(permit)).json() == body


@pytest.mark.django_db
def test_a_withdrawal_changes_the_cohort_tag(permit, node_client, consented):
    first, etag = fetched(node_client, permit)
    leaving = first.json()["participants"][0]

    consent_withdraw(actor=consented["owner"], dataset=diabetes(), pseudonym=leaving)
    after = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=etag)

    assert after.status_code == 200
    assert after["ETag"] != etag
    assert leaving not in after.json()["participants"]
    assert after.json()["count"] == first.json()["count"] - 1
    # and the new tag is the one that answers 304 from now on
    again = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=after["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_a_new_consent_changes_the_cohort_tag(permit, node_client, consented):
    first, etag = fetched(node_client, permit)

    consent_import(
        actor=consented["owner"],
        dataset=diabetes(),
        content="participant,permit,permit_diseases\nP0099,DUO:0000007,MONDO:0005015\n",
        fmt="csv",
    )
    after = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=etag)

    assert after.status_code == 200
    assert after["ETag"] != etag
    assert after.json()["count"] == first.json()["count"] + 1
    assert after.json()["version"] == first.json()["version"] + 1


@pytest.mark.django_db
def test_a_consent_change_outside_the_cohort_still_changes_the_tag(permit, node_client, consented):
    """The body carries the cohort version: a new version is a new document, even when the
    participants stay the same (here: a consent to ancestry research only, outside the
    permit's disease-specific purpose)."""
    first, etag = fetched(node_client, permit)

    consent_import(
        actor=consented["owner"],
        dataset=diabetes(),
        content="participant,permit,permit_diseases\nP0098,DUO:0000011,\n",
        fmt="csv",
    )
    after = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=etag)

    assert after.status_code == 200
    assert after["ETag"] != etag
    assert after.json()["participants"] == first.json()["participants"]
    assert after.json()["version"] == first.json()["version"] + 1


@pytest.mark.django_db
@pytest.mark.parametrize("change", [permit_suspend, permit_revoke])
def test_a_suspended_or_revoked_permit_never_gets_a_304(permit, node_client, consented, change):
    _first, etag = fetched(node_client, permit)

    change(actor=consented["owner"], number=permit.number, reason="Audit")
    after = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=etag)

    assert after.status_code == 404
    assert after.json()["code"] == "permit_not_active"


@pytest.mark.django_db
def test_a_stored_cohort_past_a_consent_period_boundary_is_computed_again(
    permit, node_client, consented
):
    """A consent that starts or ends later makes the stored cohort expire then: the cheap
    validator gives no tag and the cohort is computed again (the same one here: a 304)."""
    from django.utils import timezone

    from consent.models import MaterialisedCohort
    from permits.selectors import node_cohort_etag

    _first, etag = fetched(node_client, permit)
    node = permit.permit_datasets.get().dataset.node
    assert node_cohort_etag(node=node, number=permit.number, dataset_id=DATASET) == etag

    MaterialisedCohort.objects.update(valid_until=timezone.now())
    assert node_cohort_etag(node=node, number=permit.number, dataset_id=DATASET) is None
    again = node_client.get(cohort_url(permit), HTTP_IF_NONE_MATCH=etag)

    assert (again.status_code, again["ETag"]) == (304, etag)
    assert node_cohort_etag(node=node, number=permit.number, dataset_id=DATASET) == etag
