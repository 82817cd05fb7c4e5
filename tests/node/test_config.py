"""Node configuration: strict keys, defaults, relative paths, and the README example."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from lifes_node.config import config_from_dict, load_config
from lifes_node.disclosure import DominanceRule
from lifes_node.errors import ConfigError

from .conftest import ROOT

MINIMAL = {
    "hub_url": "https://hub.example/",
    "node_id": "node-leiden",
    "credential": "abc",
    "signing_key": "node.key",
}


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    config = config_from_dict(
        {**MINIMAL, "datasets": {"leiden-diabetes": "data/x.csv"}}, base_dir=tmp_path
    )

    assert config.hub_url == "https://hub.example"
    assert config.signing_key == tmp_path / "node.key"
    assert config.datasets == {"leiden-diabetes": tmp_path / "data" / "x.csv"}
    assert config.outbox_dir == tmp_path / ".lifes-node-cache" / "outbox"
    assert (config.max_revocation_age, config.max_cohort_age, config.timeout) == (3600, 0, 300)
    assert (config.id_column, config.leeway, config.runner) == ("participant_id", 30, "subprocess")
    assert config.dominance == (DominanceRule(1, 0.85), DominanceRule(2, 0.90))


def test_credential_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = {**MINIMAL, "credential_env": "LIFES_NODE_TOKEN"}
    del settings["credential"]
    monkeypatch.setenv("LIFES_NODE_TOKEN", "from-env")

    assert config_from_dict(settings).credential == "from-env"

    monkeypatch.delenv("LIFES_NODE_TOKEN")
    with pytest.raises(ConfigError, match="LIFES_NODE_TOKEN"):
        config_from_dict(settings)


@pytest.mark.parametrize(
    "change",
    [
        {"max_revocaton_age": 60},
        {"hub_url": "ftp://hub"},
        {"node_id": ""},
        {"credential": None},
        {"timeout": "five minutes"},
        {"runner": "chroot"},
        {"disclosure": {"min_cell_count": -1}},
        {"disclosure": {"dominance": [[0, 0.5]]}},
        {"disclosure": {"k": 1}},
        {"container": {"image": 3}},
        {"signing_key": None},
    ],
)
def test_mistakes_are_config_errors(change: dict) -> None:
    settings = {**MINIMAL, **change}
    settings = {k: v for k, v in settings.items() if v is not None}

    with pytest.raises(ConfigError) as info:
        config_from_dict(settings)
    assert info.value.reason == "config_error"


def test_unreadable_or_invalid_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("hub_url = ")

    with pytest.raises(ConfigError, match="TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_readme_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "lifes_node" / "README.md").read_text()
    (example,) = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    monkeypatch.setenv("LIFES_NODE_TOKEN", "from-env")

    config = config_from_dict(tomllib.loads(example), base_dir="/etc/lifes-node")

    assert config.node_id == "node-leiden"
    assert "leiden-diabetes" in config.datasets
