"""The README's demo-node walkthrough, run as written against a live ``runserver``.

The commands are read from README.md (the ``sh`` block after "Run the demo permit on the demo
node"), so this test fails when the README drifts from what works. The hub is the one
``make run`` starts (migrate, seed_demo, runserver on 127.0.0.1:8000 — the ``hub_url`` of
demo/node/node.toml.example), on a database of its own.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = "127.0.0.1", 8000  # node.toml.example's hub_url
MARKER = "Run the demo permit on the demo node"


def readme_commands() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(MARKER) :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the README lost its demo-node commands"
    return block.group(1)


def port_is_free() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, PORT)) != 0


@pytest.fixture
def live_hub(tmp_path):
    """`make run` in miniature: migrate, seed_demo, runserver (SQLite, eager Celery)."""
    if not port_is_free():
        pytest.fail(f"{HOST}:{PORT} is taken; the README's node config points there")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "HUB_URL")
    }
    database = tmp_path / "hub.sqlite3"
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{database}",
        SIGNING_KEY_DIR=str(tmp_path / "keys"),
        MEDIA_ROOT=str(tmp_path / "media"),
        PYTHONUNBUFFERED="1",
    )
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [*manage, "runserver", f"{HOST}:{PORT}", "--noreload"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=2):  # noqa: S310 - our own server
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "runserver.log").read_text()) from None
                time.sleep(0.5)
        yield env, database
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def receipts(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT p.number, r.status, r.jti FROM permits_executionreceipt r "
            "JOIN permits_permit p ON p.id = r.permit_id ORDER BY r.id"
        ).fetchall()


def test_the_readme_node_walkthrough_works_as_written(live_hub, tmp_path):
    env, database = live_hub
    permit_file = ROOT / "permit.jwt"  # where the README's first command writes it
    assert receipts(database) == []
    try:
        done = subprocess.run(
            ["/bin/bash", "-euo", "pipefail", "-c", readme_commands()],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        token = permit_file.read_text().strip()
    finally:
        permit_file.unlink(missing_ok=True)

    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token)  # only the token, no chatter
    summary = json.loads(done.stdout)
    assert (summary["status"], summary["reason"]) == ("succeeded", None)
    assert summary["receipt"]["posted"] is True
    # The receipt arrived at the hub, for the demo permit.
    assert receipts(database) == [(summary["permit"], "succeeded", summary["receipt"]["jti"])]

    # The config's paths are relative to the config file: the same run from elsewhere works.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "permit.jwt").write_text(token)
    again = subprocess.run(
        [sys.executable, "-m", "lifes_node", "run",
         "--config", str(ROOT / "demo" / "node" / "node.toml.example"),
         "--permit", "permit.jwt",
         "--algorithm", str(ROOT / "demo" / "node" / "algorithms" / "mean_bmi_by_sex.py")],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert [status for _number, status, _jti in receipts(database)] == ["succeeded", "succeeded"]
