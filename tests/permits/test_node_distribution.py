"""lifes-node as its own distribution: both wheels are built, the node wheel is installed alone
in a fresh virtualenv (no Django there), and its ``lifes-node verify`` accepts a permit this hub
issued. The hub's wheel carries its templates, static files and locale, and not the node."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import NODE_ID, ROOT

# What a copy of the hub's source needs to build (the checkout's caches and venv are not it).
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", "node_modules", "db.sqlite3", "keys", "media", "staticfiles", ".test-media",
    "test-artifacts",
)  # fmt: skip


def build_wheel(source: Path, out: Path) -> Path:
    """Build in a copy, so the checkout gets no build/ directories."""
    copy = out / "src" / source.name
    shutil.copytree(source, copy, ignore=IGNORED)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(copy)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out


@pytest.mark.django_db
def test_the_node_wheel_alone_verifies_a_hub_permit(permit, client, settings, tmp_path):
    wheels = build_wheel(ROOT / "lifes_node", tmp_path / "wheels")
    build_wheel(ROOT, wheels)
    (node_wheel,) = wheels.glob("lifes_node-*.whl")
    (hub_wheel,) = wheels.glob("lifes_hub-*.whl")

    # The hub's wheel: templates, static files, locale; the node is a dependency, not inside.
    names = zipfile.ZipFile(hub_wheel).namelist()
    for expected in (
        "lifes/templates/base.html",
        "lifes/static/css/lifes.css",
        "lifes/locale/nl/LC_MESSAGES/django.mo",
    ):
        assert expected in names
    assert not [name for name in names if name.startswith("lifes_node/")]
    metadata = zipfile.ZipFile(hub_wheel).read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))
    )
    assert b"Requires-Dist: lifes-node>=0.1" in metadata

    # A clean virtualenv with the node wheel only (its dependencies from the index).
    env_dir = tmp_path / "node-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(node_wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    outside = tmp_path / "elsewhere"  # not the checkout, whose lifes_node/ would shadow the wheel
    outside.mkdir()
    django = subprocess.run(
        [str(python), "-c", "import django"], cwd=outside, capture_output=True, text=True
    )
    assert django.returncode == 1
    assert "No module named 'django'" in django.stderr
    where = subprocess.run(
        [str(python), "-c", "import lifes_node; print(lifes_node.__file__, lifes_node.__version__)"],
        cwd=outside, check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(env_dir))

    # `lifes-node verify` of that venv against a permit this hub issued.
    (outside / "jwks.json").write_text(client.get("/.well-known/jwks.json").content.decode())
    (outside / "permit.jwt").write_text(permit.token)
    verified = subprocess.run(
        [str(env_dir / "bin" / "lifes-node"), "verify", "--jwks", "jwks.json",
         "--issuer", settings.HUB_URL, "--node", NODE_ID, "permit.jwt"],
        cwd=outside, capture_output=True, text=True,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    claims = json.loads(verified.stdout)
    assert claims["permit"]["number"] == permit.number
    assert claims["aud"] == [NODE_ID]

    # ...and refuses it for another node, with the contract's reason code.
    refused = subprocess.run(
        [str(env_dir / "bin" / "lifes-node"), "verify", "--jwks", "jwks.json",
         "--issuer", settings.HUB_URL, "--node", "some-other-node", "permit.jwt"],
        cwd=outside, capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.split()[0] == "wrong_audience"
