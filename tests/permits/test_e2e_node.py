"""End to end across processes: the hub served over HTTP, a node running ``lifes-node run``.

The permitted algorithm runs on the consenting cohort only and its signed receipt lands in the
hub (a receipt row and an audit event); a participant withdraws, and the next run leaves them
out: the cohort is one smaller and the receipt carries the new digest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from audit.models import AuditEvent
from catalogue.models import Dataset
from consent.cohort import digest_of
from consent.services import consent_withdraw
from lifes_node.keys import generate_private_key, public_jwk, write_private_key
from permits.models import ExecutionReceipt, Permit

from .conftest import (
    DATASET,
    DEMO_ALGORITHM,
    DEMO_DATA,
    DEMO_NODE_TOKEN,
    NODE_ID,
    ROOT,
    approve,
    expected_cohort,
)


def hub_call(url: str, *, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the test's own live server
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Token {DEMO_NODE_TOKEN}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def node_run(config: Path, permit: Path, output: Path) -> tuple[int, dict, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_"))
    }
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [
            sys.executable,
            "-m",
            "lifes_node.cli",
            "run",
            "--config",
            str(config),
            "--permit",
            str(permit),
            "--algorithm",
            str(DEMO_ALGORITHM),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    summary = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return done.returncode, summary, done.stderr


@pytest.mark.django_db(transaction=True)
def test_a_node_runs_the_permit_on_the_consenting_cohort_and_reports_back(
    live_server, settings, consented, tmp_path
):
    # given the hub at its live URL (the permit's iss) and a node that registered its key
    settings.HUB_URL = live_server.url
    request = approve(consented)  # the approval issues the permit by itself (on commit)
    permit = Permit.objects.get(request=request)
    key = generate_private_key()
    write_private_key(key, tmp_path / "node.key")
    registered = hub_call(f"{live_server.url}/api/v1/node/keys", body={"jwk": public_jwk(key)})
    assert registered["node"] == NODE_ID
    listed = hub_call(f"{live_server.url}/api/v1/node/permits")["results"]
    assert [p["number"] for p in listed] == [permit.number]
    (tmp_path / "permit.jwt").write_text(listed[0]["token"])
    config = tmp_path / "node.toml"
    config.write_text(
        f'hub_url = "{live_server.url}"\nnode_id = "{NODE_ID}"\n'
        f'credential = "{DEMO_NODE_TOKEN}"\nsigning_key = "node.key"\n'
        f'cache_dir = "cache"\ntimeout = 60\n\n[datasets]\n{DATASET} = "{DEMO_DATA}"\n'
    )
    cohort = expected_cohort()

    # when the node runs the permitted algorithm
    code, summary, stderr = node_run(config, tmp_path / "permit.jwt", tmp_path / "out.json")

    # then it ran on the consenting cohort only, and the hub holds its signed receipt
    assert code == 0, stderr
    assert summary["status"] == "succeeded"
    assert summary["receipt"]["posted"] is True
    assert summary["cohort"]["size"] == len(cohort)
    output = json.loads((tmp_path / "out.json").read_text())
    assert sum(cell["count"] for cell in output["tables"][0]["cells"]) == len(cohort)
    first = ExecutionReceipt.objects.get()
    assert (first.permit, first.node.identifier, first.status, first.jti) == (
        permit,
        NODE_ID,
        "succeeded",
        summary["receipt"]["jti"],
    )
    assert (first.cohort_size, first.cohort_digest) == (len(cohort), digest_of(cohort))
    assert first.output_digest == summary["output_digest"]
    event = AuditEvent.objects.get(action="receipt.record")
    assert (event.actor_type, event.payload["jti"]) == ("node", first.jti)

    # when a participant withdraws, the next run leaves them out
    withdrawn = cohort[0]
    consent_withdraw(
        actor=consented["owner"],
        dataset=Dataset.objects.get(slug=DATASET),
        pseudonym=withdrawn,
        note="Asked by phone.",
    )
    code, summary, stderr = node_run(config, tmp_path / "permit.jwt", tmp_path / "out2.json")

    assert code == 0, stderr
    second = ExecutionReceipt.objects.exclude(pk=first.pk).get()
    assert second.cohort_size == len(cohort) - 1
    assert second.cohort_digest == digest_of(cohort[1:])
    assert second.cohort_digest != first.cohort_digest
    assert second.cohort_version == first.cohort_version + 1
    output = json.loads((tmp_path / "out2.json").read_text())
    assert sum(cell["count"] for cell in output["tables"][0]["cells"]) == len(cohort) - 1
    assert AuditEvent.objects.filter(action="receipt.record").count() == 2
