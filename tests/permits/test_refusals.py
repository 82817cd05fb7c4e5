"""Hub-issued permits refused by the node, each with its reason code.

The node code (``lifes_node``) runs unchanged; it reaches the real hub views through Django's
test client (``DjangoClientHub``), so the JWKS, the revocation list, the cohort and the receipt
are the hub's own. The signature-level refusals (alg none, HMAC, unknown kid) are in
tests/node; one tamper test with a hub token is in test_issue.py.
"""

from __future__ import annotations

import datetime as dt
import time

import jwt
import pytest
from django.utils import timezone

from accounts.services import user_create
from catalogue.models import Dataset, Node
from catalogue.services import dataset_create, node_create
from lifes_node.errors import VerificationError
from lifes_node.execute import run_permit
from lifes_node.verify import verify_permit
from permits.models import ExecutionReceipt
from permits.services import permit_issue, permit_revoke

from .conftest import (
    DATASET,
    DEMO_ALGORITHM,
    DEMO_DATA,
    NODE_ID,
    DjangoClientHub,
    approve,
    expected_cohort,
    hub_jwks,
    node_config,
    revocations,
)


def refusal(token: str, client, settings, **kwargs) -> str:
    with pytest.raises(VerificationError) as refused:
        verify_permit(
            token,
            jwks=hub_jwks(client),
            issuer=settings.HUB_URL,
            **{"node_id": NODE_ID, "revocations": revocations(client), **kwargs},
        )
    return refused.value.reason


@pytest.mark.django_db
def test_a_valid_hub_permit_verifies_with_the_hub_list(permit, client, settings):
    claims = verify_permit(
        permit.token,
        jwks=hub_jwks(client),
        issuer=settings.HUB_URL,
        node_id=NODE_ID,
        revocations=revocations(client),
    )

    assert claims["permit"]["number"] == permit.number


@pytest.mark.django_db
def test_wrong_audience(permit, client, settings):
    assert refusal(permit.token, client, settings, node_id="erasmus-station-1") == "wrong_audience"


@pytest.mark.django_db
def test_not_yet_valid(consented, client, settings):
    start = timezone.localdate() + dt.timedelta(days=7)
    request = approve(
        consented, answers={"period_start": start, "period_end": start + dt.timedelta(days=30)}
    )
    permit = permit_issue(actor=None, request_id=request.pk)

    assert refusal(permit.token, client, settings) == "not_yet_valid"


@pytest.mark.django_db
def test_expired(permit, client, settings):
    after_the_end = permit.valid_until.timestamp() + 3600

    # the node's clock says the permit has ended; give it a list that is fresh then
    with pytest.raises(VerificationError) as refused:
        verify_permit(
            permit.token,
            jwks=hub_jwks(client),
            issuer=settings.HUB_URL,
            node_id=NODE_ID,
            now=after_the_end,
        )

    assert refused.value.reason == "expired"


@pytest.mark.django_db
def test_revoked_after_revocation_and_a_fresh_list(
    permit, consented, client, settings, django_capture_on_commit_callbacks
):
    assert verify_permit(
        permit.token,
        jwks=hub_jwks(client),
        issuer=settings.HUB_URL,
        node_id=NODE_ID,
        revocations=revocations(client),
    )

    with django_capture_on_commit_callbacks(execute=True):
        permit_revoke(actor=consented["owner"], number=permit.number, reason="Misuse.")

    assert refusal(permit.token, client, settings) == "revoked"


@pytest.mark.django_db
def test_stale_revocation_list(permit, client, settings):
    token = revocations(client)
    issued_at = jwt.decode(token, options={"verify_signature": False})["iat"]

    for now, max_age in ((issued_at + 601, 600), (issued_at + 2 * 3600, 10**9)):
        with pytest.raises(VerificationError) as refused:
            verify_permit(
                permit.token,
                jwks=hub_jwks(client),
                issuer=settings.HUB_URL,
                node_id=NODE_ID,
                revocations=token,
                max_revocation_age=max_age,
                now=now,
            )
        assert refused.value.reason == "stale_revocations"


# --- refusals of `lifes-node run` ---------------------------------------------------------------


def run(permit, client, settings, tmp_path, node_key, **kwargs):
    config_kwargs = {k: kwargs.pop(k) for k in ("datasets", "min_cell_count") if k in kwargs}
    config = node_config(tmp_path, node_key, hub_url=settings.HUB_URL, **config_kwargs)
    return run_permit(
        config,
        permit=permit.token,
        hub=DjangoClientHub(client),
        **{"algorithm": DEMO_ALGORITHM, **kwargs},
    )


@pytest.mark.django_db
def test_the_demo_algorithm_runs_on_the_cohort_and_reports(
    permit, client, settings, tmp_path, node_key
):
    result = run(permit, client, settings, tmp_path, node_key)

    assert (result.status, result.reason, result.receipt_posted) == ("succeeded", None, True)
    cells = result.output["tables"][0]["cells"]
    ids = expected_cohort()
    assert sum(cell["count"] for cell in cells) == len(ids)  # the cohort's rows, no others
    receipt = ExecutionReceipt.objects.get()
    assert (receipt.status, receipt.cohort_size, receipt.output_digest) == (
        "succeeded",
        len(ids),
        result.output_digest,
    )


@pytest.mark.django_db
def test_algorithm_digest_mismatch(permit, client, settings, tmp_path, node_key):
    changed = tmp_path / "mean_bmi_by_sex.py"
    changed.write_bytes(DEMO_ALGORITHM.read_bytes() + b"\n# one more line\n")

    result = run(permit, client, settings, tmp_path, node_key, algorithm=changed)

    assert (result.status, result.reason) == ("refused", "algorithm_mismatch")
    receipt = ExecutionReceipt.objects.get()
    assert (receipt.status, receipt.reason, receipt.cohort_size) == (
        "refused",
        "algorithm_mismatch",
        None,
    )


@pytest.mark.django_db
def test_dataset_not_held_by_this_node(consented, client, settings, tmp_path, node_key):
    owner = consented["owner"]
    identity = user_create(actor=None, email="erasmus-1@nodes.lifes.test", is_machine=True)
    elsewhere = node_create(
        actor=None,
        identifier="erasmus-station-1",
        name="Erasmus MC",
        organisation=Node.objects.get(identifier=NODE_ID).organisation,
        identity=identity,
    )
    dataset_create(
        actor=None,
        slug="rotterdam-diabetes",
        title="Rotterdam Diabetes",
        persistent_identifier="https://doi.org/10.5072/rotterdam",
        description="Diabetes cohort.",
        owner=elsewhere.organisation,
        node=elsewhere,
        contact_email="data@example.org",
        stewards=[owner],
        duo_codes=["DUO:0000007"],
        duo_diseases=["MONDO:0005015"],
    )
    request = approve(consented, datasets=[DATASET, "rotterdam-diabetes"])
    permit = permit_issue(actor=None, request_id=request.pk)
    assert sorted(jwt.decode(permit.token, options={"verify_signature": False})["aud"]) == [
        "erasmus-station-1",
        NODE_ID,
    ]

    # this node has a copy of the Rotterdam file, but the permit assigns it to Erasmus
    result = run(
        permit, client, settings, tmp_path, node_key, datasets={"rotterdam-diabetes": DEMO_DATA}
    )

    assert (result.status, result.reason) == ("refused", "dataset_not_held")
    assert ExecutionReceipt.objects.get().reason == "dataset_not_held"
    assert Dataset.objects.get(slug="rotterdam-diabetes").node == elsewhere
    # naming it explicitly (lifes-node run --dataset) is refused the same way
    named = run(
        permit,
        client,
        settings,
        tmp_path,
        node_key,
        dataset="rotterdam-diabetes",
        datasets={"rotterdam-diabetes": DEMO_DATA},
    )
    assert (named.status, named.reason) == ("refused", "dataset_not_held")
    assert "assigns dataset 'rotterdam-diabetes' to node 'erasmus-station-1'" in named.message


@pytest.mark.django_db
def test_output_below_the_minimum_cell_count(approved, client, settings, tmp_path, node_key):
    settings.PERMIT_MIN_CELL_COUNT = 40  # the demo output has cells of about 30
    permit = permit_issue(actor=None, request_id=approved.pk)

    result = run(permit, client, settings, tmp_path, node_key)

    assert (result.status, result.reason) == ("refused", "disclosure_small_cell")
    assert result.output is None
    receipt = ExecutionReceipt.objects.get()
    assert (receipt.reason, receipt.is_disclosure_passed, receipt.output_digest) == (
        "disclosure_small_cell",
        False,
        "",
    )
    assert receipt.cohort_size == len(expected_cohort())


@pytest.mark.django_db
def test_a_suspended_permit_stops_the_next_run(
    permit, consented, client, settings, tmp_path, node_key, django_capture_on_commit_callbacks
):
    from permits.services import permit_suspend

    with django_capture_on_commit_callbacks(execute=True):
        permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")

    result = run(permit, client, settings, tmp_path, node_key)

    assert (result.status, result.reason) == ("refused", "revoked")
    assert ExecutionReceipt.objects.get().reason == "revoked"
    assert time.time() < permit.valid_until.timestamp()
