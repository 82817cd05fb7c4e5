"""How a participant's consent provisions are read in DUO, the same way the matcher reads them.

Imports (FHIR R4/R5 and CSV) turn a consent into a ``ConsentSpec``: flat ``ProvisionSpec`` rows,
each permitting or denying one DUO purpose (and, for disease-specific research, one MONDO
disease) during a period. The cohort query (``consent.cohort``) reads those rows with the code
sets defined here, so the meaning of a provision lives in one module.

What a **permit** covers (DUO hierarchy DS ⊂ HMB ⊂ GRU, as in ``consent.matcher``):

====================  =========================================================================
permit                covers a purpose whose primary code is
====================  =========================================================================
NRES, GRU             GRU, HMB, DS (any disease), POA (GRU includes population origins research,
                      as the matcher and DUOS accept a POA purpose on GRU data)
HMB                   HMB, DS (any disease)
DS + disease D        DS, when every purpose disease is D or narrower than D in MONDO
POA                   POA
====================  =========================================================================

A permit marked non-commercial (NCU, or NPUNCU) does not cover a commercial purpose, and one
marked not-for-profit (NPU, or NPUNCU) does not cover a for-profit requester; a purpose that does
not say (``None``) is treated as commercial / for-profit (fail closed).

What a **deny** excludes (deny overrides permit):

- a permission code excludes the purposes it would cover as a permit (deny GRU excludes every
  purpose, deny HMB excludes HMB and DS);
- deny DS + disease D excludes a DS purpose naming a disease that *overlaps* D: D itself, a
  narrower disease, or a broader one (research on diabetes touches a refusal of research on type
  1 diabetes). It does not exclude HMB or GRU purposes, which are not about a named disease;
- deny POA also excludes purposes naming population (DUO:0000032) or ancestry (DUO:0000033)
  research, as the matcher does for NPOA;
- a research type (DUO:0000031–40) excludes purposes that name it (deny DUO:0000031 = no methods
  development).

Modifiers on a permit: NMDS adds a deny of methods development (DUO:0000031), NPOA a deny of POA,
population and ancestry research. Duties (IRB, PUB, COL, RTN, MOR, TS) and clinical care (CC) are
kept on the record but do not filter participants: duties are the dataset's conditions, which the
matcher enforces per request. GS, US, IS, PS, RS and GSO cannot be decided per participant, so a
consent carrying them is refused with that reason (record them as dataset conditions instead).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from consent import policies
from consent import vocabulary as vocab
from consent.duo import (
    AGE,
    ANCESTRY,
    BIOMEDICAL,
    CC,
    COL,
    CONTROL,
    DISEASE_CATEGORY,
    DRUG,
    DS,
    GENDER,
    GENETIC,
    GRU,
    GS,
    GSO,
    HMB,
    IRB,
    IS,
    MDS,
    MOR,
    NCU,
    NMDS,
    NPOA,
    NPU,
    NPUNCU,
    NRES,
    PERMISSIONS,
    POA,
    POPULATION,
    PS,
    PUB,
    RS,
    RTN,
    TS,
    US,
)

DUO_SYSTEM = "http://purl.obolibrary.org/obo/duo.owl"
MONDO_SYSTEM = "http://purl.obolibrary.org/obo/mondo.owl"

#: Modifiers kept on the record without filtering participants.
RECORDED_MODIFIERS: frozenset[str] = frozenset({IRB, PUB, COL, MOR, TS, RTN, CC})
#: Modifiers that cannot be decided per participant: a consent carrying them is refused.
UNSUPPORTED_MODIFIERS: frozenset[str] = frozenset({GS, US, PS, IS, RS, GSO})

#: Permit codes that cover each primary purpose (DS also needs the disease check).
PERMITS_COVERING: dict[str, frozenset[str]] = {
    GRU: frozenset({NRES, GRU}),
    HMB: frozenset({NRES, GRU, HMB}),
    DS: frozenset({NRES, GRU, HMB}),  # plus DS rows whose disease covers the purpose disease
    POA: frozenset({NRES, GRU, POA}),
}
#: Deny codes (permissions) that exclude each primary purpose (DS also by overlapping disease).
DENIALS_EXCLUDING: dict[str, frozenset[str]] = {
    GRU: frozenset({GRU}),
    HMB: frozenset({GRU, HMB}),
    DS: frozenset({GRU, HMB}),
    POA: frozenset({GRU, POA}),
}
#: Research types whose presence in a purpose a deny of POA also excludes.
POA_RESEARCH_TYPES: frozenset[str] = frozenset({POPULATION, ANCESTRY})


class ConsentRuleError(ValueError):
    """A consent that cannot be read; ``reasons`` say why, in plain words."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


@dataclass(frozen=True, slots=True)
class ProvisionSpec:
    decision: str  # "permit" | "deny"
    code: str
    disease: str = ""
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    is_non_commercial: bool = False
    is_not_for_profit: bool = False
    #: 0 for an ordinary row. A deny with nested permits (FHIR's exception to an exception)
    #: gets a group number > 0 within its consent, and its nested permits get the same number:
    #: such a deny does not exclude a purpose that one of its own nested permits covers.
    group: int = 0

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "decision": self.decision,
            "code": self.code,
            "disease": self.disease,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "is_non_commercial": self.is_non_commercial,
            "is_not_for_profit": self.is_not_for_profit,
        }
        if self.group:  # only when set, so digests of consents without exceptions stay as they were
            out["group"] = self.group
        return out


@dataclass(frozen=True, slots=True)
class ConsentSpec:
    """A consent as the hub stores it, before it is stored."""

    pseudonym: str
    status: str
    decision: str
    source: str
    source_id: str = ""
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    policy_uri: str = ""
    policy_version: str = ""
    date_signed: dt.date | None = None
    provisions: tuple[ProvisionSpec, ...] = ()
    modifiers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        """sha256 of the meaning (not the source format): an identical re-import is a no-op."""
        content = {
            "status": self.status,
            "decision": self.decision,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "policy_uri": self.policy_uri,
            "policy_version": self.policy_version,
            "date_signed": self.date_signed.isoformat() if self.date_signed else None,
            "provisions": sorted(
                (p.as_json() for p in self.provisions), key=lambda p: json.dumps(p, sort_keys=True)
            ),
            "modifiers": sorted(self.modifiers),
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Reading one provision's purposes
# --------------------------------------------------------------------------------------------


def normalise_code(system: str | None, code: str | None) -> tuple[str, str] | None:
    """``("duo"|"mondo", CURIE)`` for a DUO or MONDO Coding, ``None`` for any other system.

    Accepted: ``system`` = the DUO/MONDO OBO PURL with ``code`` ``DUO:0000007``, ``DUO_0000007``
    or ``0000007``; or any system with a ``DUO:``/``MONDO:`` CURIE as ``code``.
    """
    code = (code or "").strip()
    system = (system or "").strip().rstrip("/")
    for kind, prefix, purl in (("duo", "DUO", DUO_SYSTEM), ("mondo", "MONDO", MONDO_SYSTEM)):
        if code.startswith(f"{prefix}:"):
            return kind, code
        if system in (purl, purl.removesuffix(".owl")):
            if code.startswith(f"{prefix}_"):
                return kind, f"{prefix}:{code[len(prefix) + 1 :]}"
            return kind, code if ":" in code else f"{prefix}:{code}"
    return None


@dataclass
class Purposes:
    """The DUO and MONDO codes a provision names, sorted into what they mean here."""

    permissions: list[str] = field(default_factory=list)
    research_types: list[str] = field(default_factory=list)
    diseases: list[str] = field(default_factory=list)
    modifiers: list[str] = field(default_factory=list)
    other_codings: int = 0

    @property
    def names_duo(self) -> bool:
        return bool(self.permissions or self.research_types or self.modifiers)


def read_purposes(
    codings: Iterable[tuple[str | None, str | None]], where: str, errors: list[str]
) -> Purposes:
    """Sort a provision's purpose Codings; record every unusable one in ``errors``."""
    found = Purposes()
    for system, code in codings:
        normalised = normalise_code(system, code)
        if normalised is None:
            found.other_codings += 1
            continue
        kind, curie = normalised
        if kind == "mondo":
            if not vocab.is_mondo(curie):
                errors.append(f"{where}: {curie} is not a known MONDO disease")
            elif curie not in found.diseases:
                found.diseases.append(curie)
            continue
        if not vocab.is_duo(curie):
            errors.append(f"{where}: {curie} is not a known DUO term")
            continue
        term = vocab.duo_term(curie)
        if term.obsolete or term.kind in ("category", "obsolete"):
            errors.append(f"{where}: {term.display} cannot be used (obsolete or a category)")
        elif curie in PERMISSIONS:
            found.permissions.append(curie)
        elif term.kind == "research_type":
            found.research_types.append(curie)
        elif curie in UNSUPPORTED_MODIFIERS:
            errors.append(
                f"{where}: {term.display} cannot be decided per participant; record it as a "
                "condition of the dataset instead"
            )
        elif term.kind == "modifier":
            found.modifiers.append(curie)
        else:
            errors.append(f"{where}: {term.display} is not a research purpose")
    if found.diseases and DS not in found.permissions:
        errors.append(
            f"{where}: disease terms apply only with disease specific research (DS, {DS})"
        )
    if DS in found.permissions and not found.diseases and not errors:  # (errors say why)
        errors.append(f"{where}: disease specific research (DS, {DS}) needs a MONDO disease")
    return found


# --------------------------------------------------------------------------------------------
# Flattening a provision tree
# --------------------------------------------------------------------------------------------


@dataclass
class ProvisionNode:
    """One provision of a FHIR Consent, its decision already resolved (R4 ``type``, R5 by depth).

    ``codings`` are its ``purpose`` and ``code`` Codings: DUO and MONDO ones are read directly,
    consent policy codes through the policy map (``consent.policies``). ``constrained``
    describes, one string each, the limits other than purpose, code and period that the hub
    cannot enforce (actors, data references, classes and resource types, document types,
    security labels, data periods, expressions): a permit limited that way grants nothing here
    (the note says precisely which limit); a deny is applied to all of the participant's data.
    """

    decision: str
    codings: list[tuple[str | None, str | None]]
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    constrained: tuple[str, ...] = ()
    children: list[ProvisionNode] = field(default_factory=list)
    path: str = "provision"


Scope = tuple[tuple[str, str], ...]  # (permission code, disease or "")
ALL_RESEARCH: Scope = ((GRU, ""),)


def covers(outer: tuple[str, str], inner: tuple[str, str]) -> bool:
    """Whether a permission ``outer`` (code, disease) includes ``inner`` (DUO hierarchy)."""
    outer_code, outer_disease = outer
    inner_code, inner_disease = inner
    if outer_code in (NRES, GRU):
        return inner_code in PERMISSIONS
    if outer_code == HMB:
        return inner_code in (HMB, DS)
    if outer_code == POA:
        return inner_code == POA
    if outer_code == DS and inner_code == DS:
        return vocab.is_covered(inner_disease, outer_disease)
    return False


def _meet(parent: Scope, own: Scope) -> Scope:
    """The part of ``own`` that lies within ``parent`` (a nested permit narrows its parent)."""
    out: list[tuple[str, str]] = []
    for a in parent:
        for b in own:
            if covers(a, b):
                out.append(b)
            elif covers(b, a):
                out.append(a)
    return tuple(dict.fromkeys(out))


def _intersect(start_a, end_a, start_b, end_b):
    start = max((s for s in (start_a, start_b) if s is not None), default=None)
    end = min((e for e in (end_a, end_b) if e is not None), default=None)
    return start, end


def translate_policy_codes(
    codings: Iterable[tuple[str | None, str | None]],
    decision: str,
    where: str,
    errors: list[str],
    notes: list[str],
) -> tuple[list[tuple[str | None, str | None]], bool]:
    """DUO/MONDO codings as they are, consent policy codes through the policy map.

    Returns the codings to read and whether the provision named any policy code. A code of a
    system no map knows, or a code its system's map lacks, is an error naming the system: a
    code the hub cannot read is never accepted as a silent no-op.
    """
    pm = policies.policy_map()
    out: list[tuple[str | None, str | None]] = []
    named_policy = False
    for system, code in codings:
        if normalise_code(system, code) is not None or not (system or "").strip():
            out.append((system, code))  # DUO/MONDO, or a bare code read_purposes reports
            continue
        named_policy = True
        entry = pm.lookup(system, code)
        if entry is None:
            if pm.knows_system(system):
                errors.append(
                    f"{where}: {code!r} is not in the policy map of {pm.system_name(system)} "
                    f"({system}), so the hub cannot tell what it allows"
                )
            else:
                errors.append(
                    f"{where}: code {code!r} of code system {system or '(none)'!r} is in no "
                    "consent policy map, so the hub cannot tell what it allows (operators add "
                    "policy maps with CONSENT_POLICY_MAPS)"
                )
            continue
        duo = entry.permit if decision == "permit" else entry.deny
        out.extend((DUO_SYSTEM, c) for c in duo)
        if not duo:
            notes.append(
                f"{where}: {decision} of {entry.display} ({entry.code}) grants and denies "
                f"nothing here: {entry.note or 'it is not about research use of data'}"
            )
        elif entry.note:
            notes.append(f"{where}: {entry.display} ({entry.code}): {entry.note}")
    return out, named_policy


class _Flattener:
    def __init__(self) -> None:
        self.rows: list[ProvisionSpec] = []
        self.modifiers: list[str] = []
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.groups = 0
        self.permits = 0
        self.unenforceable: list[str] = []

    def emit(
        self,
        decision: str,
        scope: Scope,
        research_types: Iterable[str],
        start,
        end,
        *,
        non_commercial: bool = False,
        not_for_profit: bool = False,
        group: int = 0,
    ) -> None:
        if start is not None and end is not None and start >= end:
            return  # an empty period: the provision never applies
        for code, disease in scope:
            self.rows.append(
                ProvisionSpec(
                    decision, code, disease, start, end, non_commercial, not_for_profit, group
                )
            )
        for code in research_types:
            self.rows.append(ProvisionSpec(decision, code, "", start, end, group=group))

    def walk(
        self,
        node: ProvisionNode,
        parent_scope: Scope,
        parent_start,
        parent_end,
        parent_decision: str,
        parent_is_base: bool,
        grant_scope: Scope = ALL_RESEARCH,
        group: int = 0,
    ) -> None:
        """Flatten one provision. FHIR: a nested provision is an exception to its parent, so a
        permit inside a deny re-permits part of what the deny refused (its rows share the
        deny's ``group``), and a deny inside a permit refuses part of what it permitted.
        ``grant_scope`` is what the nearest enclosing permit (or a base permit) grants: a
        nested permit never grants beyond it."""
        errors: list[str] = []
        codings, named_policy = translate_policy_codes(
            node.codings, node.decision, node.path, errors, self.notes
        )
        purposes = read_purposes(codings, node.path, errors)
        self.errors.extend(errors)
        if errors:  # keep reading the nested provisions, to report all problems at once
            for child in node.children:
                self.walk(child, parent_scope, parent_start, parent_end, node.decision, False)
            return
        start, end = _intersect(node.period_start, node.period_end, parent_start, parent_end)
        own: Scope = tuple(
            (code, disease)
            for code in purposes.permissions
            for disease in (purposes.diseases if code == DS else [""])
        )
        if not purposes.names_duo and (purposes.other_codings or named_policy):
            scope: Scope = ()  # only codes that grant and deny nothing here (notes say why)
        elif not own and purposes.research_types:
            scope = ()  # research types alone grant or deny no primary purpose
        else:
            scope = own or parent_scope  # no purpose named: the enclosing provision's purposes
        if node.decision == "permit":
            self.permits += 1
            if own:
                scope = _meet(grant_scope, own)
                if parent_decision == "deny" and not parent_is_base:
                    scope = _meet(parent_scope, scope)  # an exception stays inside its deny
            elif parent_decision == "deny" and not parent_is_base:
                scope = _meet(grant_scope, parent_scope)
            for code in purposes.modifiers:
                if code not in (NCU, NPU, NPUNCU, NMDS, NPOA) and code not in self.modifiers:
                    self.modifiers.append(code)
            if node.constrained:
                self.unenforceable.append(node.path)
                self.notes.append(
                    f"{node.path}: a permit limited to {'; '.join(node.constrained)}. The hub "
                    "cannot enforce such a limit (it cannot see which people receive a visiting "
                    "algorithm's results, and a node runs on the participant's whole record, "
                    "not on single records, classes or labels), so this permit grants nothing "
                    "here"
                )
            else:
                self.emit(
                    "permit",
                    scope,
                    purposes.research_types,
                    start,
                    end,
                    non_commercial=bool({NCU, NPUNCU} & set(purposes.modifiers)),
                    not_for_profit=bool({NPU, NPUNCU} & set(purposes.modifiers)),
                    group=group,
                )
            if NMDS in purposes.modifiers:
                self.emit("deny", (), [MDS], start, end)
            if NPOA in purposes.modifiers:
                self.emit("deny", ((POA, ""),), [POPULATION, ANCESTRY], start, end)
            child_grant = scope if not node.constrained else ()
        else:
            if NRES in purposes.permissions:
                self.errors.append(f"{node.path}: no restriction (NRES) cannot be denied")
                return
            limiting = [c for c in purposes.modifiers if c not in RECORDED_MODIFIERS]
            if limiting:
                self.errors.append(
                    f"{node.path}: {', '.join(limiting)} limit a permit; on a deny they mean "
                    "nothing"
                )
                return
            if node.constrained:
                self.notes.append(
                    f"{node.path}: a deny limited to {'; '.join(node.constrained)} is applied "
                    "to all of the participant's data (the hub cannot withhold single records "
                    "or tell recipients apart), which refuses more, never less"
                )
            own_group = 0
            if any(child.decision == "permit" for child in node.children):
                self.groups += 1
                own_group = self.groups
            self.emit("deny", scope, purposes.research_types, start, end, group=own_group)
            child_grant = grant_scope
            group = own_group
        for child in node.children:
            self.walk(
                child,
                scope or parent_scope,
                start,
                end,
                node.decision,
                False,
                grant_scope=child_grant,
                group=group if node.decision == "deny" else 0,
            )


def flatten(
    *,
    base_decision: str,
    provisions: Sequence[ProvisionNode],
    base_start: dt.datetime | None = None,
    base_end: dt.datetime | None = None,
) -> tuple[tuple[ProvisionSpec, ...], tuple[str, ...], tuple[str, ...]]:
    """Rows, recorded modifiers and notes for a consent; ``ConsentRuleError`` when unreadable.

    ``base_decision`` is the consent's default (R5 ``decision``): a base permit permits all
    research use (GRU) in the consent period; top-level provisions are exceptions to it.
    """
    flat = _Flattener()
    if base_decision == "permit":
        flat.emit("permit", ALL_RESEARCH, (), base_start, base_end)
    for node in provisions:
        flat.walk(node, ALL_RESEARCH, base_start, base_end, base_decision, True)
    if (
        not flat.errors
        and base_decision != "permit"
        and flat.permits
        and len(flat.unenforceable) == flat.permits
    ):
        # Every permit was limited in a way the hub cannot enforce: accepting the consent
        # would say "imported" while it permits nothing. Refuse it, saying precisely why.
        flat.errors.extend(n for n in flat.notes if n.split(":", 1)[0] in flat.unenforceable)
        flat.errors.append(
            "none of the consent's permits can be applied at the hub, so it cannot put the "
            "participant in any cohort"
        )
    if flat.errors:
        raise ConsentRuleError(flat.errors)
    rows = tuple(dict.fromkeys(flat.rows))
    return rows, tuple(flat.modifiers), tuple(flat.notes)


def describe(row: ProvisionSpec) -> str:
    """A provision in words, for history pages and reports."""
    try:
        name = vocab.duo_term(row.code).display
    except KeyError:
        name = row.code
    if row.disease:
        try:
            name += f" — {vocab.mondo_label(row.disease)} ({row.disease})"
        except KeyError:
            name += f" — {row.disease}"
    return name


# --------------------------------------------------------------------------------------------
# A consent's summary: what the cohort query reads instead of its provision rows
# --------------------------------------------------------------------------------------------

#: One bit per code, in this order, never reordered (stored on ConsentRecord). DS is absent:
#: disease-specific rows matter only to DS purposes, which read the provision rows.
SUMMARY_CODES: tuple[str, ...] = (
    NRES,
    GRU,
    HMB,
    POA,
    MDS,
    POPULATION,
    ANCESTRY,
    AGE,
    GENDER,
    CONTROL,
    BIOMEDICAL,
    GENETIC,
    DRUG,
    DISEASE_CATEGORY,
)
_BIT = {code: 1 << index for index, code in enumerate(SUMMARY_CODES)}


def bits(codes: Iterable[str]) -> int:
    return sum(_BIT.get(code, 0) for code in set(codes))


def summarise(
    provisions: Iterable[ProvisionSpec],
    period_start: dt.datetime | None,
    period_end: dt.datetime | None,
) -> dict[str, object]:
    """The ``ConsentRecord`` summary columns of a consent's provision rows.

    A consent is *simple* when every row applies for exactly the consent's own period and
    none is an exception to an exception (group 0): then, for any purpose but a DS one, the
    consent's period plus these bit masks decide membership, and the cohort query reads one
    row per participant instead of probing provision rows. ``grants_*`` hold the permitted
    codes usable by a purpose that is (both) non-commercial and not-for-profit, only
    non-commercial, only not-for-profit, or neither (``any``); ``denies`` the denied codes.
    """
    rows = list(provisions)
    simple = all(
        row.group == 0 and (row.period_start, row.period_end) == (period_start, period_end)
        for row in rows
    )
    permits = [row for row in rows if row.decision == "permit"]
    return {
        "is_simple": simple,
        "grants_any": bits(
            r.code for r in permits if not r.is_non_commercial and not r.is_not_for_profit
        ),
        "grants_non_commercial": bits(r.code for r in permits if not r.is_not_for_profit),
        "grants_not_for_profit": bits(r.code for r in permits if not r.is_non_commercial),
        "grants_both": bits(r.code for r in permits),
        "denies": bits(r.code for r in rows if r.decision == "deny"),
    }
