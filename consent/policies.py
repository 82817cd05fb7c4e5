"""Consent policies as data: what kind of consent a resource is, and what its policy codes allow.

The map is ``consent/data/policy_map.json`` (shipped, with the MII broad consent) plus every
file named in the ``CONSENT_POLICY_MAPS`` setting (operators' own policies, same shape). Two
parts:

- ``kinds``: for each code system of ``Consent.scope`` (R4) and ``Consent.category`` (R4, R5),
  which codes mean a research, treatment, privacy or advance-directive consent, and which only
  name the document type (``document``: LOINC 59284-0 "Patient Consent" says nothing about
  what was consented to);
- ``policies``: for each consent policy code system, what each code grants as a permit
  (``permit``: DUO permissions) and refuses as a deny (``deny``). An empty list means the code
  is known and grants or denies nothing for research use of a dataset; ``note`` says why and
  is shown to the steward. A code system marked ``"kind": "research"`` (the MII broad consent)
  also makes the consent a research consent.

Every entry carries its ``source``. Operators' entries are added to the shipped ones; an
operator file cannot silently change a shipped mapping (a conflicting entry is a
configuration error, reported by ``manage.py check``, check id ``consent.E001``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

SHIPPED = Path(__file__).resolve().parent / "data" / "policy_map.json"
KINDS = ("research", "treatment", "privacy", "advance-directive", "document")


class PolicyMapError(ValueError):
    """A policy map file that cannot be used (unreadable, wrong shape, conflicting entry)."""


@dataclass(frozen=True, slots=True)
class PolicyCode:
    """What one consent policy code means for research use."""

    system: str
    code: str
    display: str
    permit: tuple[str, ...]
    deny: tuple[str, ...]
    note: str
    source: str


@dataclass(frozen=True)
class PolicyMap:
    kinds: dict[str, dict[str, str]]
    kind_sources: dict[str, str]
    systems: dict[str, dict[str, PolicyCode]]
    system_names: dict[str, str]
    research_systems: frozenset[str]

    def kind_of(self, system: str | None, code: str | None) -> str | None:
        """The kind a scope/category coding names, or ``None`` when the map does not know it."""
        return self.kinds.get(_norm(system), {}).get((code or "").strip())

    def knows_system(self, system: str | None) -> bool:
        return _norm(system) in self.systems

    def lookup(self, system: str | None, code: str | None) -> PolicyCode | None:
        return self.systems.get(_norm(system), {}).get((code or "").strip())

    def system_name(self, system: str | None) -> str:
        return self.system_names.get(_norm(system), _norm(system))


def _norm(system: str | None) -> str:
    return (system or "").strip().rstrip("/")


def _duo_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.startswith("DUO:") for v in value
    ):
        raise PolicyMapError(f"{where}: must be a list of DUO codes")
    return tuple(value)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PolicyMapError(f"{path}: cannot be read as JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise PolicyMapError(f"{path}: must be a JSON object")
    return data


def build(paths: Iterable[Path]) -> PolicyMap:
    """Merge the given map files, shipped first; raise ``PolicyMapError`` on a bad file."""
    kinds: dict[str, dict[str, str]] = {}
    kind_sources: dict[str, str] = {}
    systems: dict[str, dict[str, PolicyCode]] = {}
    names: dict[str, str] = {}
    research: set[str] = set()
    for path in paths:
        data = _read(path)
        for system, entry in (data.get("kinds") or {}).items():
            where = f"{path}: kinds[{system}]"
            codes = entry.get("codes") if isinstance(entry, dict) else None
            if not isinstance(codes, dict) or not entry.get("source"):
                raise PolicyMapError(f"{where}: needs 'codes' and 'source'")
            target = kinds.setdefault(_norm(system), {})
            kind_sources.setdefault(_norm(system), entry["source"])
            for code, kind in codes.items():
                if kind not in KINDS:
                    raise PolicyMapError(f"{where}.{code}: kind must be one of {', '.join(KINDS)}")
                if target.get(code, kind) != kind:
                    raise PolicyMapError(f"{where}.{code}: conflicts with an earlier map")
                target[code] = kind
        for system, entry in (data.get("policies") or {}).items():
            where = f"{path}: policies[{system}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("codes"), dict):
                raise PolicyMapError(f"{where}: needs 'codes'")
            key = _norm(system)
            names.setdefault(key, str(entry.get("name") or system))
            if entry.get("kind") == "research":
                research.add(key)
            target_codes = systems.setdefault(key, {})
            for code, item in entry["codes"].items():
                cwhere = f"{where}.{code}"
                if not isinstance(item, dict) or not (item.get("source") or entry.get("source")):
                    raise PolicyMapError(f"{cwhere}: needs 'permit', 'deny' and a 'source'")
                mapped = PolicyCode(
                    system=key,
                    code=code,
                    display=str(item.get("display") or code),
                    permit=_duo_list(item.get("permit"), f"{cwhere}.permit"),
                    deny=_duo_list(item.get("deny"), f"{cwhere}.deny"),
                    note=str(item.get("note") or ""),
                    source=str(item.get("source") or entry.get("source")),
                )
                previous = target_codes.get(code)
                if previous is not None and (previous.permit, previous.deny) != (
                    mapped.permit,
                    mapped.deny,
                ):
                    raise PolicyMapError(f"{cwhere}: conflicts with an earlier map")
                target_codes.setdefault(code, mapped)
    return PolicyMap(kinds, kind_sources, systems, names, frozenset(research))


def map_paths() -> list[Path]:
    return [SHIPPED, *(Path(p) for p in getattr(settings, "CONSENT_POLICY_MAPS", []) or [])]


@cache
def _cached(paths: tuple[Path, ...]) -> PolicyMap:
    return build(paths)


def policy_map() -> PolicyMap:
    """The shipped map merged with the operators' (cached per set of files)."""
    return _cached(tuple(map_paths()))


def check_policy_maps(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``manage.py check``: every configured policy map can be read and agrees with the rest."""
    try:
        build(map_paths())
    except PolicyMapError as exc:
        return [checks.Error(str(exc), hint="Fix or remove the file.", id="consent.E001")]
    return []
