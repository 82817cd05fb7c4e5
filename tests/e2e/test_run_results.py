"""The permit holder downloads the results of a run from the permit page, in English and Dutch;
the data owner, who sees the same permit and its receipts, is offered no results."""

from __future__ import annotations

import hashlib
import json

import pytest

OUTPUT = json.dumps(
    {"tables": [{"name": "bmi_by_sex", "by": ["sex"], "cells": [
        {"group": {"sex": "F"}, "count": 30, "sums": {"bmi": 881.1}},
        {"group": {"sex": "M"}, "count": 30, "sums": {"bmi": 873.5}}]}]}
).encode()  # fmt: skip


def uploaded_run(tmp_path) -> tuple[str, int]:
    """A permitted request whose node uploaded the released output of one run, through the
    same service the node API calls."""
    from django.conf import settings

    from accounts.models import User
    from catalogue.models import Node
    from catalogue.services import node_public_key_set
    from lifes_node.keys import generate_private_key, public_jwk, write_private_key
    from lifes_node.receipt import NodeSigner, receipt_claims
    from permits.services import run_output_upload
    from tests.factories import request_in_state

    requester = User.objects.get(email="requester@demo.lifes.test")
    # approved in a committed transaction: the approval issues the permit by itself
    request = request_in_state("approved", requester, ["leiden-diabetes-cohort"])
    permit = request.permits.get()
    node = Node.objects.get(identifier="lumc-station-1")
    key = generate_private_key()
    write_private_key(key, tmp_path / "node.key")
    node_public_key_set(actor=None, node=node, jwk=public_jwk(key))
    claims = receipt_claims(
        node_id=node.identifier,
        hub_url=settings.HUB_URL,
        receipt={
            "permit": permit.number,
            "permit_jti": str(permit.jti),
            "dataset": "leiden-diabetes-cohort",
            "algorithm_digest": permit.permit_algorithms.first().digest,
            "started_at": "2026-12-01T10:00:00Z",
            "ended_at": "2026-12-01T10:00:03Z",
            "cohort_version": 1,
            "cohort_digest": "sha256:" + "ab" * 32,
            "cohort_size": 60,
            "output_digest": "sha256:" + hashlib.sha256(OUTPUT).hexdigest(),
            "disclosure": {"passed": True, "reason": None, "details": []},
            "status": "succeeded",
            "reason": None,
        },
    )
    token = NodeSigner.from_file(tmp_path / "node.key").sign(claims)
    output = run_output_upload(
        actor=node.identity, token=token, data=OUTPUT, content_type="application/json"
    )
    return permit.number, output.pk


@pytest.mark.parametrize(
    ("lang", "heading"), [("en", "Run results"), ("nl", "Resultaten van de runs")]
)
def test_the_holder_downloads_the_run_results_from_the_permit_page(people, tmp_path, lang, heading):
    number, output_id = uploaded_run(tmp_path)

    holder = people(lang)
    holder.sign_in("requester@demo.lifes.test")
    holder.goto(f"/permits/{number}/")
    holder.step("permit-results", check=False)
    section = holder.page.locator("section#results")
    assert section.locator("h2").inner_text() == heading
    link = section.locator(f"a[href$='/run-outputs/{output_id}/']")
    with holder.page.expect_download() as download:
        link.click()
    saved = tmp_path / "downloaded.json"
    download.value.save_as(saved)

    assert saved.read_bytes() == OUTPUT
    assert download.value.suggested_filename.startswith(number)
    assert "sha256:" + hashlib.sha256(OUTPUT).hexdigest() in section.inner_text()

    owner = people(lang)
    owner.sign_in("owner@demo.lifes.test")
    owner.goto(f"/permits/{number}/")
    assert owner.page.locator("section#results").count() == 0
    assert owner.page.locator(f"a[href$='/run-outputs/{output_id}/']").count() == 0
