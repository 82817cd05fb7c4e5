"""The node's TOML configuration (``lifes-node run --config node.toml``).

Unknown keys are errors, not warnings: a misspelt ``max_revocation_age`` silently falling back to
a default is exactly the kind of quiet loosening a data station must not have. Relative paths are
resolved against the directory of the config file, so a config can travel with its data.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifes_node.disclosure import DEFAULT_DOMINANCE, DominanceRule
from lifes_node.errors import ConfigError
from lifes_node.transport import is_url

RUNNERS = ("subprocess", "container", "auto")

_TOP_KEYS = {
    "hub_url", "node_id", "credential", "credential_env", "signing_key", "cache_dir",
    "outbox_dir", "max_revocation_age", "max_cohort_age", "timeout", "id_column", "leeway",
    "http_timeout", "jwks", "revocations", "runner", "datasets", "disclosure", "container",
}  # fmt: skip
_DISCLOSURE_KEYS = {"min_cell_count", "dominance"}
_CONTAINER_KEYS = {"engine", "image", "memory", "cpus"}


@dataclass
class NodeConfig:
    hub_url: str
    node_id: str
    credential: str
    signing_key: Path
    cache_dir: Path
    outbox_dir: Path
    datasets: dict[str, Path]
    max_revocation_age: float = 3600.0
    max_cohort_age: float = 0.0
    timeout: float = 300.0
    id_column: str = "participant_id"
    leeway: float = 30.0
    http_timeout: float = 10.0
    jwks: str | None = None
    revocations: str | None = None
    runner: str = "subprocess"
    min_cell_count: int = 0
    dominance: tuple[DominanceRule, ...] = DEFAULT_DOMINANCE
    container: dict[str, str] = field(default_factory=dict)
    source: Path | None = None


def _require_str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key!r} is required (a non-empty string)")
    return value.strip()


def _number(data: Mapping[str, Any], key: str, default: float, *, minimum: float = 0.0) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{key!r} must be a number")
    if value < minimum:
        raise ConfigError(f"{key!r} must be >= {minimum}")
    return float(value)


def _path(base: Path, value: object, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key!r} must be a path")
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else (base / path)


def _source(base: Path, value: object, key: str) -> str | None:
    """An override for the hub JWKS / revocation list: URL kept as is, paths made absolute."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key!r} must be a path or URL")
    return value if is_url(value) else str(_path(base, value, key))


def _dominance(value: object) -> tuple[DominanceRule, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError("disclosure.dominance must be a list of [n, k] pairs, e.g. [[1, 0.85]]")
    rules = []
    for item in value:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], int)
            or isinstance(item[0], bool)
            or item[0] < 1
            or not isinstance(item[1], int | float)
            or not 0 < item[1] <= 1
        ):
            raise ConfigError("each dominance rule is [n >= 1, 0 < k <= 1]")
        rules.append(DominanceRule(item[0], float(item[1])))
    return tuple(rules)


def config_from_dict(data: Mapping[str, Any], *, base_dir: str | Path = ".") -> NodeConfig:
    """Build and validate a :class:`NodeConfig` from parsed TOML."""
    base = Path(base_dir)
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))}")

    hub_url = _require_str(data, "hub_url").rstrip("/")
    if not is_url(hub_url):
        raise ConfigError("'hub_url' must be an http(s) URL")
    node_id = _require_str(data, "node_id")

    credential = data.get("credential")
    if credential is None and "credential_env" in data:
        env_name = _require_str(data, "credential_env")
        credential = os.environ.get(env_name)
        if not credential:
            raise ConfigError(f"environment variable {env_name} (credential_env) is not set")
    if not isinstance(credential, str) or not credential.strip():
        raise ConfigError("set 'credential' or 'credential_env' (the node's hub API token)")

    cache_dir = _path(base, data.get("cache_dir", ".lifes-node-cache"), "cache_dir")
    outbox_dir = _path(base, data.get("outbox_dir", str(cache_dir / "outbox")), "outbox_dir")

    datasets_raw = data.get("datasets", {})
    if not isinstance(datasets_raw, Mapping):
        raise ConfigError("[datasets] must map dataset ids to file paths")
    datasets = {str(ds): _path(base, path, f"datasets.{ds}") for ds, path in datasets_raw.items()}

    disclosure = data.get("disclosure", {})
    if not isinstance(disclosure, Mapping) or set(disclosure) - _DISCLOSURE_KEYS:
        raise ConfigError(f"[disclosure] takes only {', '.join(sorted(_DISCLOSURE_KEYS))}")
    floor = disclosure.get("min_cell_count", 0)
    if not isinstance(floor, int) or isinstance(floor, bool) or floor < 0:
        raise ConfigError("disclosure.min_cell_count must be a non-negative integer")
    dominance = (
        _dominance(disclosure["dominance"]) if "dominance" in disclosure else DEFAULT_DOMINANCE
    )

    container = data.get("container", {})
    if not isinstance(container, Mapping) or set(container) - _CONTAINER_KEYS:
        raise ConfigError(f"[container] takes only {', '.join(sorted(_CONTAINER_KEYS))}")
    if not all(isinstance(v, str) for v in container.values()):
        raise ConfigError("[container] values are strings")

    runner = data.get("runner", "subprocess")
    if runner not in RUNNERS:
        raise ConfigError(f"'runner' must be one of {', '.join(RUNNERS)}")
    id_column = data.get("id_column", "participant_id")
    if not isinstance(id_column, str) or not id_column:
        raise ConfigError("'id_column' must be a column name")

    return NodeConfig(
        hub_url=hub_url,
        node_id=node_id,
        credential=credential.strip(),
        signing_key=_path(base, data.get("signing_key"), "signing_key"),
        cache_dir=cache_dir,
        outbox_dir=outbox_dir,
        datasets=datasets,
        max_revocation_age=_number(data, "max_revocation_age", 3600.0),
        max_cohort_age=_number(data, "max_cohort_age", 0.0),
        timeout=_number(data, "timeout", 300.0, minimum=0.001),
        id_column=id_column,
        leeway=_number(data, "leeway", 30.0),
        http_timeout=_number(data, "http_timeout", 10.0, minimum=0.001),
        jwks=_source(base, data.get("jwks"), "jwks"),
        revocations=_source(base, data.get("revocations"), "revocations"),
        runner=runner,
        min_cell_count=floor,
        dominance=dominance,
        container=dict(container),
    )


def load_config(path: str | Path) -> NodeConfig:
    """Read and validate a TOML config file (raises :class:`ConfigError` with the reason)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    config = config_from_dict(data, base_dir=path.resolve().parent)
    config.source = path
    return config
