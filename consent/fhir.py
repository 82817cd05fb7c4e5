"""FHIR R4 and R5 Consent resources (single or in a Bundle) read into ``ConsentSpec``s.

Every resource is validated with ``fhir.resources`` (v8): R5 with ``fhir.resources.consent``, R4
with ``fhir.resources.R4B.consent`` (the package ships R4B, whose Consent is unchanged from R4
4.0.1). Nothing is stored here; ``consent.services.consent_import`` stores all or nothing.

Mapping (what the hub reads; everything else in the resource is validated and then ignored):

==========================  ===================================  ==============================
hub field                   R5                                   R4
==========================  ===================================  ==============================
participant (pseudonym)     ``subject``: ``identifier.value``,   ``patient`` (same rule)
                            else the id of ``Patient/<id>``
status                      ``status``                           ``status``
base decision               ``decision`` (absent: deny)          deny; the root ``provision``
                                                                 is the first rule
period                      ``period``                           root ``provision.period``
policy, version             ``policyBasis.url`` (or              ``policy[0].uri`` (or
                            ``.reference``); a canonical         ``authority``), else the
                            ``url|version`` gives the version    ``policyRule`` code
date signed                 ``date``                             ``dateTime`` (its date)
provisions                  ``provision[]``: exceptions to       root ``provision.type``, or
                            ``decision``, so their decision      from ``policyRule`` (OPTIN:
                            alternates with depth                permit, OPTOUT: deny); nested
                                                                 provisions carry ``type``
==========================  ===================================  ==============================

Purposes are the provision's ``purpose`` Codings with system ``http://purl.obolibrary.org/obo/
duo.owl`` or a ``DUO:`` code; MONDO Codings (system ``.../mondo.owl`` or a ``MONDO:`` code) in
the same ``purpose`` list give the diseases of disease-specific research. Codings of other systems
are ignored. A provision that names no purpose at all takes its parent's purposes (a top-level
one: all research). How provisions become permit/deny rows, and the few structures that are
refused, is in ``consent.rules``. An R4 root provision of type deny that names no DUO purpose is
read as the base decision (deny all, except its nested permits).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from fhir.resources.bundle import Bundle as BundleR5
from fhir.resources.consent import Consent as ConsentR5
from fhir.resources.R4B.bundle import Bundle as BundleR4
from fhir.resources.R4B.consent import Consent as ConsentR4
from pydantic import ValidationError

from consent import policies
from consent.models import PSEUDONYM_RE, ConsentSource
from consent.rules import ConsentRuleError, ConsentSpec, ProvisionNode, flatten

R4_STATUSES = frozenset({"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"})
R5_STATUSES = frozenset({"draft", "active", "inactive", "not-done", "entered-in-error", "unknown"})
_R4_KEYS = frozenset(
    {"scope", "patient", "dateTime", "policyRule", "policy", "performer", "organization"}
)
_R5_KEYS = frozenset(
    {
        "decision",
        "subject",
        "date",
        "grantor",
        "grantee",
        "manager",
        "controller",
        "policyBasis",
        "policyText",
        "regulatoryBasis",
    }
)
#: policyRule codes (v3 ActCode) that say what an untyped R4 root provision means.
_POLICY_RULE_DECISION = {"OPTIN": "permit", "OPTINR": "permit", "OPTOUT": "deny", "OPTOUTE": "deny"}
_CONSTRAINTS_R5 = (
    "actor",
    "data",
    "resourceType",
    "documentType",
    "securityLabel",
    "dataPeriod",
    "expression",
)
_CONSTRAINTS_R4 = ("actor", "data", "class_fhir", "securityLabel", "dataPeriod")
_PSEUDONYM = re.compile(PSEUDONYM_RE)
MAX_REASONS = 10


class DocumentError(ValueError):
    """The document as a whole cannot be read (not JSON, not a Consent or Bundle)."""


@dataclass
class ImportEntry:
    """One consent of an import: what it became, or why it was refused."""

    number: int
    label: str
    spec: ConsentSpec | None = None
    reasons: list[str] = field(default_factory=list)
    is_ignored: bool = False


# --------------------------------------------------------------------------------------------
# Small conversions
# --------------------------------------------------------------------------------------------


def _aware(value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)


#: An end on the last day the calendar can hold (``9999-12-31``, or any moment of it) is how
#: many systems say "no end date"; it is read as no end rather than as an instant the next
#: midnight of which does not exist.
_NO_END_FROM = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
#: The range the hub stores (Python's and so Django's datetimes, in UTC).
_EARLIEST = dt.datetime(1, 1, 2, tzinfo=dt.UTC)


class InstantRangeError(ValueError):
    """A date or time outside what the hub can store (years 1–9999 in UTC)."""


def _utc(value: dt.datetime, *, is_end: bool) -> dt.datetime | None:
    """``value`` (aware) when it is within the stored range; ends from 9999-12-31 on: ``None``."""
    try:
        in_utc = value.astimezone(dt.UTC)
    except OverflowError as exc:
        if is_end and value.year == 9999:  # 9999-12-31 with a negative offset: past year 9999
            return None
        raise InstantRangeError(
            f"{value.isoformat()} lies outside the years 1–9999 (UTC) that the hub can store"
        ) from exc
    if is_end and in_utc >= _NO_END_FROM:
        return None
    if in_utc < _EARLIEST:
        raise InstantRangeError(
            f"{value.isoformat()} lies before 2 January of year 1 (UTC), earlier than any consent"
        )
    return value


def fhir_instant(value: Any, *, is_end: bool = False) -> dt.datetime | None:
    """A FHIR date/dateTime (possibly partial: ``2024``, ``2024-05``) as an aware datetime.

    Starts are the first moment of what they name. Ends are exclusive: ``2025-06-30`` ends at
    the first moment of 1 July, ``2025`` at 1 January 2026 (FHIR period ends are inclusive).
    Dates without a time are read in the hub's time zone. An end in ``9999-12-31`` (or the
    year ``9999``, or ``9999-12``) means "no end" and gives ``None``. Values outside what the
    hub can store raise ``InstantRangeError`` (a ``ValueError``), never an ``OverflowError``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _utc(_aware(value), is_end=is_end)
    if isinstance(value, dt.date):
        if is_end and value >= dt.date(9999, 12, 31):
            return None
        day = value + dt.timedelta(days=1) if is_end else value
        try:
            moment = timezone.make_aware(dt.datetime.combine(day, dt.time()))
        except OverflowError as exc:
            raise InstantRangeError(f"{value.isoformat()} lies outside the years 1–9999") from exc
        return _utc(moment, is_end=is_end)
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        if is_end and year == 9999:
            return None
        return fhir_instant(dt.date(year + (1 if is_end else 0), 1, 1))
    if re.fullmatch(r"\d{4}-\d{2}", text):
        year, month = (int(part) for part in text.split("-"))
        if is_end and (year, month) == (9999, 12):
            return None
        if is_end:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return fhir_instant(dt.date(year, month, 1))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return fhir_instant(dt.date.fromisoformat(text), is_end=is_end)
    return fhir_instant(dt.datetime.fromisoformat(text.replace("Z", "+00:00")), is_end=is_end)


def split_canonical(uri: str) -> tuple[str, str]:
    """FHIR canonical ``url|version`` → (url, version)."""
    uri = (uri or "").strip()
    if "|" in uri:
        url, version = uri.split("|", 1)
        return url, version
    return uri, ""


def pseudonym_from_reference(reference: Any, field_name: str, reasons: list[str]) -> str:
    """The participant's pseudonymous id from a Reference (identifier first, then the id)."""
    if reference is None:
        reasons.append(f"{field_name}: missing; the consent must name its participant")
        return ""
    identifier = getattr(reference, "identifier", None)
    value = (getattr(identifier, "value", None) or "").strip() if identifier else ""
    ref = (getattr(reference, "reference", None) or "").strip()
    if not value and ref:
        parts = ref.rstrip("/").split("/")
        if "_history" in parts:
            parts = parts[: parts.index("_history")]
        if len(parts) < 2 or parts[-2] != "Patient":
            reasons.append(f"{field_name}: {ref!r} is not a Patient reference")
            return ""
        value = parts[-1]
    if not value:
        reasons.append(f"{field_name}: gives neither an identifier value nor a Patient reference")
        return ""
    if not _PSEUDONYM.match(value):
        reasons.append(
            f"{field_name}: {value!r} is not a usable pseudonymous id (1–128 letters, "
            "digits, '.', ':', '-' or '_')"
        )
        return ""
    return value


def _codings(codings: Iterable[Any] | None) -> list[tuple[str | None, str | None]]:
    return [(c.system, c.code) for c in codings or []]


def _period(period: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    if period is None:
        return None, None
    return fhir_instant(period.start), fhir_instant(period.end, is_end=True)


def _coding_text(coding: Any) -> str:
    code = getattr(coding, "code", None) or "?"
    system = getattr(coding, "system", None)
    return f"{code} ({system})" if system else str(code)


def _describe_constraint(name: str, value: Any) -> str:
    """One limit of a provision, in words that name what it names."""
    items = value if isinstance(value, list) else [value]
    if name == "actor":
        parts = []
        for actor in items:
            ref = getattr(getattr(actor, "reference", None), "reference", None) or "someone"
            roles = [_coding_text(c) for c in (getattr(actor.role, "coding", None) or [])]
            parts.append(f"{ref} (role {', '.join(roles)})" if roles else ref)
        return "actor(s) " + ", ".join(parts)
    if name == "data":
        refs = [
            f"{getattr(d.reference, 'reference', '?')} ({d.meaning})"
            for d in items
            if getattr(d, "reference", None) is not None
        ]
        return "data " + ", ".join(refs)
    if name in ("class_fhir", "resourceType", "documentType", "securityLabel"):
        label = {
            "class_fhir": "class",
            "resourceType": "resource type",
            "documentType": "document type",
            "securityLabel": "security label",
        }[name]
        return f"{label} " + ", ".join(_coding_text(c) for c in items)
    if name == "dataPeriod":
        period = items[0]
        return f"data from the period {period.start or '…'} to {period.end or '…'}"
    return f"{name} (an expression the hub does not evaluate)"


def _constraints(provision: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        _describe_constraint(name, getattr(provision, name))
        for name in names
        if getattr(provision, name, None)
    )


def _code_codings(provision: Any) -> list[tuple[str | None, str | None]]:
    """The Codings of ``provision.code`` (a consent policy code, e.g. the MII's)."""
    return [
        (c.system, c.code) for concept in (provision.code or []) for c in (concept.coding or [])
    ]


def _validation_reasons(exc: ValidationError) -> list[str]:
    reasons = []
    for error in exc.errors()[:MAX_REASONS]:
        where = ".".join(str(part) for part in error.get("loc", ())) or "resource"
        reasons.append(f"{where}: {error.get('msg', 'invalid')}")
    if len(exc.errors()) > MAX_REASONS:
        reasons.append(f"… and {len(exc.errors()) - MAX_REASONS} more problems")
    return reasons


# --------------------------------------------------------------------------------------------
# What kind of consent
# --------------------------------------------------------------------------------------------

_KIND_WORDS = {
    "treatment": "a treatment consent",
    "privacy": "a privacy consent (who may see or share the record)",
    "advance-directive": "an advance directive",
}


def _policy_systems_r4(provision: Any) -> set[str]:
    if provision is None:
        return set()
    systems = {s for s, _ in _codings(provision.purpose) + _code_codings(provision) if s}
    for child in provision.provision or []:
        systems |= _policy_systems_r4(child)
    return systems


def _policy_systems_r5(provisions: Any) -> set[str]:
    systems: set[str] = set()
    for provision in provisions or []:
        systems |= {s for s, _ in _codings(provision.purpose) + _code_codings(provision) if s}
        systems |= _policy_systems_r5(provision.provision)
    return systems


def check_research_kind(
    *,
    scope: list[tuple[str | None, str | None]],
    category: list[tuple[str | None, str | None]],
    policy_systems: set[str],
    version: str,
) -> None:
    """Refuse (``ConsentRuleError``) anything but a research consent, saying what it is.

    Research: R4 ``scope`` research, a research ``category`` (consentcategorycodes research,
    v3 ActCode RESEARCH/RSDID/RSREID, the MII broad consent category, ...), or provisions coded
    in a research policy's code system (the MII broad consent policy codes). The kinds are data:
    ``kinds`` in ``consent/data/policy_map.json`` and operators' maps.
    """
    pm = policies.policy_map()
    if not scope and not category:
        raise ConsentRuleError(
            [
                "neither scope (R4) nor category (R4, R5) says what kind of consent this is; "
                "only a research consent (scope 'research' in R4, or a research category) can "
                "put anyone in a research cohort"
            ]
        )
    found: dict[str, list[str]] = {}
    unknown: list[str] = []
    documents: list[str] = []
    for element, codings in (("scope", scope), ("category", category)):
        for system, code in codings:
            label = f"{element} {code} ({system})"
            kind = pm.kind_of(system, code)
            if kind is None:
                unknown.append(label)
            elif kind == "document":
                documents.append(label)
            else:
                found.setdefault(kind, []).append(label)
    research_policy = sorted(s for s in policy_systems if s.rstrip("/") in pm.research_systems)
    if research_policy:
        found.setdefault("research", []).append(
            f"provisions coded in the research policy {pm.system_name(research_policy[0])}"
        )
    others = {k: v for k, v in found.items() if k != "research"}
    if "research" in found and not others:
        return
    if "research" in found:
        said = "; ".join(f"{', '.join(v)} make it {_KIND_WORDS[k]}" for k, v in others.items())
        raise ConsentRuleError(
            [
                f"not only a research consent: {', '.join(found['research'])} mark it as "
                f"research, but {said}; refused rather than guessed"
            ]
        )
    if others:
        said = "; ".join(f"{', '.join(v)}: {_KIND_WORDS[k]}" for k, v in others.items())
        raise ConsentRuleError(
            [
                f"not a research consent ({said}); only research consents can put anyone in a "
                "research cohort"
            ]
        )
    what = []
    if documents:
        what.append(f"{', '.join(documents)}: only the type of document")
    if unknown:
        what.append(f"{', '.join(unknown)}: in no consent policy map")
    raise ConsentRuleError(
        [
            f"the kind of consent is unknown ({'; '.join(what)}); a research consent needs "
            + (
                "scope 'research' or a research category"
                if version == "R4"
                else "a research category (e.g. consentscope 'research' as category)"
            )
        ]
    )


# --------------------------------------------------------------------------------------------
# R5
# --------------------------------------------------------------------------------------------


def _nodes_r5(
    provisions: Iterable[Any] | None,
    parent_decision: str,
    path: str,
) -> list[ProvisionNode]:
    decision = "deny" if parent_decision == "permit" else "permit"  # exceptions alternate
    nodes = []
    for index, provision in enumerate(provisions or []):
        where = f"{path}[{index}]"
        start, end = _period(provision.period)
        nodes.append(
            ProvisionNode(
                decision=decision,
                codings=_codings(provision.purpose) + _code_codings(provision),
                period_start=start,
                period_end=end,
                constrained=_constraints(provision, _CONSTRAINTS_R5),
                children=_nodes_r5(provision.provision, decision, f"{where}.provision"),
                path=where,
            )
        )
    return nodes


def _spec_r5(resource: ConsentR5, source_id: str) -> ConsentSpec:
    reasons: list[str] = []
    status = resource.status or ""
    if status not in R5_STATUSES:
        reasons.append(
            f"status: {status!r} is not an R5 Consent status ({', '.join(sorted(R5_STATUSES))})"
        )
    check_research_kind(
        scope=[],
        category=[(c.system, c.code) for cc in resource.category or [] for c in cc.coding or []],
        policy_systems=_policy_systems_r5(resource.provision),
        version="R5",
    )
    pseudonym = pseudonym_from_reference(resource.subject, "subject", reasons)
    decision = resource.decision or "deny"
    if decision not in ("permit", "deny"):
        reasons.append(f"decision: {decision!r} is neither permit nor deny")
    start, end = _period(resource.period)
    if start and end and start >= end:
        reasons.append("period: ends before it starts")
    policy_uri, policy_version = "", ""
    if resource.policyBasis is not None:
        basis = resource.policyBasis
        ref = basis.reference.reference if basis.reference is not None else ""
        policy_uri, policy_version = split_canonical(basis.url or ref or "")
    if reasons:
        raise ConsentRuleError(reasons)
    rows, modifiers, notes = flatten(
        base_decision=decision,
        provisions=_nodes_r5(resource.provision, decision, "provision"),
        base_start=start,
        base_end=end,
    )
    return ConsentSpec(
        pseudonym=pseudonym,
        status=status,
        decision=decision,
        source=ConsentSource.FHIR_R5,
        source_id=source_id,
        period_start=start,
        period_end=end,
        policy_uri=policy_uri[:500],
        policy_version=policy_version[:100],
        date_signed=_date(resource.date),
        provisions=rows,
        modifiers=modifiers,
        notes=notes,
    )


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    instant = fhir_instant(value)
    try:
        return timezone.localtime(instant).date() if instant else None
    except OverflowError as exc:
        raise InstantRangeError(f"{value} lies outside the years 1–9999") from exc


# --------------------------------------------------------------------------------------------
# R4
# --------------------------------------------------------------------------------------------


def _nodes_r4(
    provisions: Iterable[Any] | None,
    path: str,
    reasons: list[str],
) -> list[ProvisionNode]:
    nodes = []
    for index, provision in enumerate(provisions or []):
        where = f"{path}[{index}]"
        if provision.type not in ("permit", "deny"):
            reasons.append(f"{where}.type: nested provisions must say permit or deny")
            continue
        start, end = _period(provision.period)
        nodes.append(
            ProvisionNode(
                decision=provision.type,
                codings=_codings(provision.purpose) + _code_codings(provision),
                period_start=start,
                period_end=end,
                constrained=_constraints(provision, _CONSTRAINTS_R4),
                children=_nodes_r4(provision.provision, f"{where}.provision", reasons),
                path=where,
            )
        )
    return nodes


def _policy_rule_codes(resource: ConsentR4) -> list[str]:
    rule = resource.policyRule
    return [c.code for c in (rule.coding or [])] if rule is not None else []


def _spec_r4(resource: ConsentR4, source_id: str) -> ConsentSpec:
    reasons: list[str] = []
    status = resource.status or ""
    if status not in R4_STATUSES:
        reasons.append(
            f"status: {status!r} is not an R4 Consent status ({', '.join(sorted(R4_STATUSES))})"
        )
    check_research_kind(
        scope=_codings(resource.scope.coding) if resource.scope is not None else [],
        category=[(c.system, c.code) for cc in resource.category or [] for c in cc.coding or []],
        policy_systems=_policy_systems_r4(resource.provision),
        version="R4",
    )
    pseudonym = pseudonym_from_reference(resource.patient, "patient", reasons)
    policy_uri, policy_version = "", ""
    for policy in resource.policy or []:
        policy_uri, policy_version = split_canonical(policy.uri or policy.authority or "")
        if policy_uri:
            break
    rule_codes = _policy_rule_codes(resource)
    if not policy_uri and rule_codes:
        policy_uri = rule_codes[0]
    root = resource.provision
    start = end = None
    nodes: list[ProvisionNode] = []
    if root is not None:
        start, end = _period(root.period)
        if start and end and start >= end:
            reasons.append("provision.period: ends before it starts")
        decision = root.type or next(
            (_POLICY_RULE_DECISION[c] for c in rule_codes if c in _POLICY_RULE_DECISION), None
        )
        if decision not in ("permit", "deny"):
            reasons.append(
                "provision.type: the root provision says neither permit nor deny, "
                "and policyRule is not OPTIN or OPTOUT"
            )
        children = _nodes_r4(root.provision, "provision.provision", reasons)
        purposes = _codings(root.purpose) + _code_codings(root)
        if decision == "deny" and not purposes:
            nodes = children  # the base rule: deny everything except the nested permits
        elif decision in ("permit", "deny"):
            nodes = [
                ProvisionNode(
                    decision=decision,
                    codings=purposes,
                    period_start=start,
                    period_end=end,
                    constrained=_constraints(root, _CONSTRAINTS_R4),
                    children=children,
                    path="provision",
                )
            ]
    if reasons:
        raise ConsentRuleError(reasons)
    rows, modifiers, notes = flatten(
        base_decision="deny", provisions=nodes, base_start=start, base_end=end
    )
    if root is None:
        notes = (*notes, "the consent has no provision, so it permits no research use")
    return ConsentSpec(
        pseudonym=pseudonym,
        status=status,
        decision="deny",
        source=ConsentSource.FHIR_R4,
        source_id=source_id,
        period_start=start,
        period_end=end,
        policy_uri=policy_uri[:500],
        policy_version=policy_version[:100],
        date_signed=_date(resource.dateTime),
        provisions=rows,
        modifiers=modifiers,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def detect_version(resource: dict[str, Any]) -> str:
    """``"r4"`` or ``"r5"``: whichever version's own elements the resource has more of (``""``
    on a tie: then both are tried, R5 first)."""
    provision = resource.get("provision")
    r4 = len(_R4_KEYS & resource.keys()) + isinstance(provision, dict)
    r5 = len(_R5_KEYS & resource.keys()) + isinstance(provision, list)
    if r4 != r5:
        return "r4" if r4 > r5 else "r5"
    return ""


def _consent_entry(
    number: int,
    label: str,
    resource: dict[str, Any],
    version: str,
) -> ImportEntry:
    entry = ImportEntry(number=number, label=label)
    chosen = version if version in ("r4", "r5") else detect_version(resource)
    candidates = [chosen] if chosen else ["r5", "r4"]
    errors: dict[str, list[str]] = {}
    for candidate in candidates:
        model = ConsentR5 if candidate == "r5" else ConsentR4
        try:
            parsed = model.model_validate(resource)
        except ValidationError as exc:
            errors[candidate] = _validation_reasons(exc)
            continue
        source_id = str(resource.get("id") or "")
        try:
            entry.spec = (_spec_r5 if candidate == "r5" else _spec_r4)(parsed, source_id)
        except ConsentRuleError as exc:
            entry.reasons = exc.reasons
        except ValueError as exc:  # a date fhir.resources let through that is not a date
            entry.reasons = [f"unreadable value: {exc}"]
        return entry
    for candidate, reasons in errors.items():
        prefix = f"as FHIR {candidate.upper()}: " if len(errors) > 1 else ""
        entry.reasons.extend(prefix + reason for reason in reasons)
    return entry


def _bundle_entries(bundle: dict[str, Any], version: str) -> list[ImportEntry]:
    items = bundle.get("entry")
    if items is None:
        items = []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise DocumentError("Bundle.entry must be a list of entries")
    envelope = {
        **bundle,
        "entry": [{k: v for k, v in item.items() if k != "resource"} for item in items],
    }
    model = BundleR4 if version == "r4" else BundleR5
    try:
        model.model_validate(envelope)
    except ValidationError as exc:
        raise DocumentError(
            "the Bundle is not valid FHIR: " + "; ".join(_validation_reasons(exc))
        ) from exc
    entries = []
    for number, item in enumerate(items, start=1):
        resource = item.get("resource")
        if not isinstance(resource, dict):
            entries.append(
                ImportEntry(number, f"entry {number}", reasons=["the entry has no resource"])
            )
            continue
        kind = resource.get("resourceType")
        label = (
            f"entry {number} ({kind}/{resource.get('id', '')})"
            if resource.get("id")
            else (f"entry {number} ({kind})")
        )
        if kind != "Consent":
            entries.append(
                ImportEntry(
                    number,
                    label,
                    is_ignored=True,
                    reasons=[f"a {kind} resource, not a Consent: skipped"],
                )
            )
            continue
        entries.append(_consent_entry(number, label, resource, version))
    return entries


def check_storable_text(data: Any) -> None:
    """Refuse text the database cannot store: NUL characters (PostgreSQL text) and lone UTF-16
    surrogates (not encodable as UTF-8), wherever they sit in the document (keys included).
    An explicit stack, not recursion: the document may be as deep as the JSON parser allowed."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise DocumentError("the document contains a NUL character, which cannot be stored")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise DocumentError(
                    "the document contains a lone UTF-16 surrogate (\\ud800–\\udfff), which is "
                    "not text"
                ) from exc


def parse_document(
    content: bytes | str | dict[str, Any],
    *,
    version: str = "auto",
) -> list[ImportEntry]:
    """Every Consent of a FHIR JSON document (one Consent or a Bundle), read or refused.

    ``version`` is ``"r4"``, ``"r5"`` or ``"auto"`` (decide per resource from its elements).
    Raises ``DocumentError`` when the document itself cannot be read.
    """
    if isinstance(content, bytes | str):
        try:
            data = json.loads(content)
        except (UnicodeDecodeError, ValueError) as exc:
            raise DocumentError(f"not valid JSON: {exc}") from exc
        except RecursionError as exc:
            raise DocumentError("the JSON is nested too deeply to be a FHIR document") from exc
    else:
        data = content
    if not isinstance(data, dict):
        raise DocumentError("a FHIR document must be a JSON object")
    check_storable_text(data)
    kind = data.get("resourceType")
    if kind == "Bundle":
        return _bundle_entries(data, version)
    if kind == "Consent":
        label = f"Consent/{data['id']}" if data.get("id") else "Consent"
        return [_consent_entry(1, label, data, version)]
    raise DocumentError(f"expected a Consent or a Bundle of Consents, got resourceType {kind!r}")
