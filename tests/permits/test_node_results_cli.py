"""``lifes-node run --upload`` and ``lifes-node upload`` against the hub served over HTTP: the
released output arrives with its receipt and the permit holder downloads exactly those bytes;
a tampered output is refused by its digest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from audit.models import AuditEvent
from lifes_node.keys import generate_private_key, public_jwk, write_private_key
from permits.models import Permit, RunOutput

from .conftest import DATASET, DEMO_ALGORITHM, DEMO_DATA, DEMO_NODE_TOKEN, NODE_ID, ROOT, approve
from .test_e2e_node import hub_call


def lifes_node(*args: str) -> tuple[int, dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "lifes_node.cli", *args],
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
def test_the_node_uploads_its_results_and_the_holder_downloads_them(
    live_server, settings, consented, tmp_path, client
):
    settings.HUB_URL = live_server.url
    permit = Permit.objects.get(request=approve(consented))
    key = generate_private_key()
    write_private_key(key, tmp_path / "node.key")
    hub_call(f"{live_server.url}/api/v1/node/keys", body={"jwk": public_jwk(key)})
    (tmp_path / "permit.jwt").write_text(permit.token)
    config = tmp_path / "node.toml"
    config.write_text(
        f'hub_url = "{live_server.url}"\nnode_id = "{NODE_ID}"\n'
        f'credential = "{DEMO_NODE_TOKEN}"\nsigning_key = "node.key"\n'
        f'cache_dir = "cache"\ntimeout = 60\n\n[datasets]\n{DATASET} = "{DEMO_DATA}"\n'
    )
    out, receipt = tmp_path / "out.json", tmp_path / "receipt.jwt"

    # when the node runs with --upload
    code, summary, stderr = lifes_node(
        "run",
        "--config", str(config),
        "--permit", str(tmp_path / "permit.jwt"),
        "--algorithm", str(DEMO_ALGORITHM),
        "--output", str(out),
        "--upload",
        "--receipt-out", str(receipt),
    )  # fmt: skip

    # then the hub holds the output, byte for byte, under the receipt's digest
    assert code == 0, stderr
    assert summary["upload"]["uploaded"] is True
    stored = RunOutput.objects.get()
    assert stored.digest == summary["output_digest"]
    assert stored.file.read() == out.read_bytes()
    assert AuditEvent.objects.filter(action="receipt.output_upload").count() == 1
    client.force_login(consented["requester"])
    download = client.get(f"/permits/{permit.number}/run-outputs/{stored.pk}/")
    assert b"".join(download.streaming_content) == out.read_bytes()

    # uploading it again is "already stored"; a tampered copy is refused by its digest
    again = lifes_node("upload", "--config", str(config), "--receipt", str(receipt), str(out))
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(out.read_bytes().replace(b"}", b" }", 1))
    refused = lifes_node(
        "upload", "--config", str(config), "--receipt", str(receipt), str(tampered)
    )
    assert again[0] == 0, again[2]
    assert refused[0] == 1
    assert refused[2].split()[0] == "output_digest_mismatch"
    assert RunOutput.objects.count() == 1
