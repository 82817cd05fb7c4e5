"""The data-use matcher: does a research purpose fall within a dataset's DUO conditions?

``match(purpose, conditions)`` is a pure function (no I/O beyond the shipped vocabulary, no
Django, no clock) so that the API, the request workflow, the cohort computation and the
benchmarks all get the same answer for the same input. It answers ``compatible``,
``incompatible`` or ``needs_review``, lists every finding in plain words (terms named by label,
shorthand and code) and returns the DUO duties the requester takes on (IRB, PUB, COL, RTN, MOR,
TS).

Sources for the rules (cited next to each rule below):

- DUO release v2021-02-23 (EBISPOT/DUO): the class hierarchy (DS ⊂ HMB ⊂ GRU, POA beside them
  under "data use permission") and the term definitions and comments;
- the DUOS matching rules of the Broad Institute's consent-ontology service ("Matching
  Algorithm" document, version 2 table, and the ``DataUseMatchCasesV4`` rules), which
  implement DUO for data access committees.

Where DUO is silent the matcher says ``needs_review``: it never guesses in the requester's
favour. Precedence: any incompatible finding makes the result incompatible; otherwise any
finding that needs a human makes it ``needs_review``; otherwise it is compatible.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from consent import vocabulary as vocab

__all__ = [
    "COMPATIBLE",
    "DUTY_CODES",
    "INCOMPATIBLE",
    "NEEDS_REVIEW",
    "PRIMARY_PURPOSES",
    "RESEARCH_TYPES",
    "Conditions",
    "MatchResult",
    "MatcherInputError",
    "Purpose",
    "match",
    "parse_conditions",
    "parse_purpose",
    "parse_request",
    "validate",
]

Decision = Literal["compatible", "incompatible", "needs_review"]
COMPATIBLE: Decision = "compatible"
INCOMPATIBLE: Decision = "incompatible"
NEEDS_REVIEW: Decision = "needs_review"

# --- DUO codes (checked against duo.csv / duo.owl, release v2021-02-23) ---------------------
NRES = "DUO:0000004"  # no restriction
GRU = "DUO:0000042"  # general research use
HMB = "DUO:0000006"  # health or medical or biomedical research (subClassOf GRU)
DS = "DUO:0000007"  # disease specific research (subClassOf HMB)
POA = "DUO:0000011"  # population origins or ancestry research only (NOT under GRU in the OWL)

RS = "DUO:0000012"  # research specific restrictions
NMDS = "DUO:0000015"  # no general methods research
GSO = "DUO:0000016"  # genetic studies only
NPUNCU = "DUO:0000018"  # not for profit, non commercial use only
PUB = "DUO:0000019"  # publication required
COL = "DUO:0000020"  # collaboration required
IRB = "DUO:0000021"  # ethics approval required
GS = "DUO:0000022"  # geographical restriction
MOR = "DUO:0000024"  # publication moratorium (value: ISO 8601 date)
TS = "DUO:0000025"  # time limit on use (value: months)
US = "DUO:0000026"  # user specific restriction
PS = "DUO:0000027"  # project specific restriction
IS = "DUO:0000028"  # institution specific restriction
RTN = "DUO:0000029"  # return to database or resource
CC = "DUO:0000043"  # clinical care use
NPOA = "DUO:0000044"  # population origins or ancestry research prohibited
NPU = "DUO:0000045"  # not for profit organisation use only
NCU = "DUO:0000046"  # non-commercial use only

MDS = "DUO:0000031"  # method development
POPULATION = "DUO:0000032"  # population research
ANCESTRY = "DUO:0000033"  # ancestry research
AGE = "DUO:0000034"  # age category research
GENDER = "DUO:0000035"  # gender category research
CONTROL = "DUO:0000036"  # research control
BIOMEDICAL = "DUO:0000037"  # biomedical research
GENETIC = "DUO:0000038"  # genetic research
DRUG = "DUO:0000039"  # drug development research
DISEASE_CATEGORY = "DUO:0000040"  # disease category research

#: The primary purposes a request may name (at most one). NRES describes data, not research.
PRIMARY_PURPOSES: frozenset[str] = frozenset({GRU, HMB, DS, POA})
#: Research-type terms a purpose may add (CONTRACTS.md lists 31-36; 37-40 are accepted too,
#: and DUO:0000038 "genetic research" is what satisfies GSO).
RESEARCH_TYPES: frozenset[str] = frozenset(
    {MDS, POPULATION, ANCESTRY, AGE, GENDER, CONTROL, BIOMEDICAL, GENETIC, DRUG, DISEASE_CATEGORY}
)
#: Modifiers that are obligations of the requester rather than limits on the purpose.
DUTY_CODES: frozenset[str] = frozenset({IRB, PUB, COL, RTN, MOR, TS})
#: Modifiers that only a person can evaluate: who, where, which project, which research type.
_REVIEW_CODES: frozenset[str] = frozenset({RS, GS, US, IS, PS})
#: Modifiers that carry a value in ``conditions.values`` (and whether the value is required).
_VALUE_CODES: dict[str, bool] = {
    TS: True,
    MOR: True,
    GS: False,
    US: False,
    IS: False,
    PS: False,
    RS: False,
}

_CURIE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*:[A-Za-z0-9_]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MatcherInputError(ValueError):
    """Malformed matcher input; ``errors`` maps a field path to what is wrong with it.

    Paths are the JSON paths of CONTRACTS.md, e.g. ``purpose.codes``, ``purpose.diseases``,
    ``conditions.values.DUO:0000022``, so the API can return them as DRF-style field errors.
    """

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        summary = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())
        super().__init__(summary or "invalid matcher input")


@dataclass(frozen=True, slots=True)
class Purpose:
    """A request's research purpose, coded in DUO.

    ``commercial`` / ``for_profit`` are ``None`` when the requester did not say: that is enough
    for datasets without NPU/NCU, and makes datasets that carry them answer ``needs_review``.
    """

    codes: tuple[str, ...] = ()
    diseases: tuple[str, ...] = ()
    commercial: bool | None = None
    for_profit: bool | None = None

    def __post_init__(self) -> None:
        # Accept lists (JSON, JSONField) but keep the object immutable and hashable.
        object.__setattr__(self, "codes", tuple(dict.fromkeys(self.codes)))
        object.__setattr__(self, "diseases", tuple(dict.fromkeys(self.diseases)))

    @property
    def primary(self) -> str | None:
        """The primary purpose (GRU, HMB, DS or POA), or ``None``."""
        return next((c for c in self.codes if c in PRIMARY_PURPOSES), None)


@dataclass(frozen=True, slots=True)
class Conditions:
    """A dataset's data-use conditions: one DUO permission, modifiers, DS diseases, values."""

    codes: tuple[str, ...] = ()
    diseases: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A value declares its modifier: CONTRACTS.md's own example gives GS a value in
        # ``values`` without listing DUO:0000022 in ``codes``. Ignoring such a value would
        # silently drop a restriction, so the modifier is taken as present.
        implied = (k for k in self.values if isinstance(k, str) and k in _VALUE_CODES)
        object.__setattr__(self, "codes", tuple(dict.fromkeys((*self.codes, *implied))))
        object.__setattr__(self, "diseases", tuple(dict.fromkeys(self.diseases)))
        object.__setattr__(self, "values", dict(self.values))

    @property
    def permission(self) -> str | None:
        """The dataset's data use permission (NRES, GRU, HMB, DS or POA), or ``None``."""
        return next((c for c in self.codes if _kind(c) == "permission"), None)

    def __hash__(self) -> int:
        # ``values`` is a dict (JSON-shaped, may hold lists): hash a canonical text of it.
        return hash((self.codes, self.diseases, repr(sorted(self.values.items(), key=str))))


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matcher's answer for one purpose and one dataset."""

    decision: Decision
    reasons: list[str]
    duties: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Exactly the response body of ``POST /api/v1/consent/match``."""
        return {
            "decision": self.decision,
            "reasons": list(self.reasons),
            "duties": list(self.duties),
        }


# --------------------------------------------------------------------------------------------
# Input: parsing and validation
# --------------------------------------------------------------------------------------------


def _kind(curie: str) -> str | None:
    """DUO branch of ``curie`` (permission, modifier, research_type, ...), ``None`` if unknown."""
    try:
        return vocab.duo_term(curie).kind
    except KeyError:
        return None


def _name(curie: str) -> str:
    """``label (SHORT, DUO:...)`` for DUO, ``label (MONDO:...)`` for MONDO, else the CURIE."""
    try:
        if curie.startswith("MONDO:"):
            return f"{vocab.mondo_label(curie)} ({curie})"
        return vocab.duo_term(curie).display
    except KeyError:
        return curie


def _names(curies: Iterable[str]) -> str:
    items = [_name(c) for c in curies]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _add(errors: dict[str, list[str]], path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _string_list(value: object, path: str, errors: dict[str, list[str]]) -> list[str]:
    """``value`` as a list of strings, or record why not (and return what is usable)."""
    if not isinstance(value, list | tuple):
        _add(errors, path, "must be a list of CURIE strings")
        return []
    out: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        else:
            _add(errors, path, f"item {index} must be a string, got {type(item).__name__}")
    return out


def _check_duo_code(code: str, path: str, errors: dict[str, list[str]]) -> str | None:
    """Kind of a DUO code, or ``None`` after recording why it is not usable."""
    if not isinstance(code, str) or not code.startswith("DUO:") or not _CURIE.match(code):
        _add(errors, path, f"{code!r} is not a DUO code (expected DUO:NNNNNNN)")
        return None
    if not vocab.is_duo(code):
        _add(errors, path, f"{code} is not a known DUO term (DUO release v2021-02-23)")
        return None
    term = vocab.duo_term(code)
    if term.obsolete:
        _add(errors, path, f"{code} ({term.label}) is obsolete in DUO")
        return None
    if term.kind == "category":
        _add(errors, path, f"{term.display} is a category; use one of its specific terms")
        return None
    return term.kind


def _check_diseases(diseases: Iterable[str], path: str, errors: dict[str, list[str]]) -> None:
    for disease in diseases:
        if not isinstance(disease, str) or not disease.startswith("MONDO:"):
            _add(errors, path, f"{disease!r} is not a MONDO CURIE (expected MONDO:NNNNNNN)")
        elif not _CURIE.match(disease):
            _add(errors, path, f"{disease!r} is not a MONDO CURIE (expected MONDO:NNNNNNN)")
        elif not vocab.is_mondo(disease):
            _add(errors, path, f"{disease} is not a known MONDO term")


def _purpose_errors(purpose: Purpose, prefix: str = "purpose") -> dict[str, list[str]]:
    """Semantic checks of a purpose (codes exist and sit in the right place, DS has diseases)."""
    errors: dict[str, list[str]] = {}
    path = f"{prefix}.codes"
    primaries: list[str] = []
    for code in purpose.codes:
        kind = _check_duo_code(code, path, errors)
        if kind is None:
            continue
        if code in PRIMARY_PURPOSES:
            primaries.append(code)
        elif code == NRES:
            _add(errors, path, f"{_name(code)} describes a dataset, not a research purpose")
        elif kind == "modifier":
            _add(
                errors,
                path,
                f"{_name(code)} is a data use modifier; it belongs in "
                "conditions.codes, not in a purpose",
            )
        elif code not in RESEARCH_TYPES:
            _add(errors, path, f"{_name(code)} cannot be used in a purpose")
    if len(primaries) > 1:
        _add(errors, path, f"more than one primary purpose: {_names(primaries)}; choose one")
    dpath = f"{prefix}.diseases"
    _check_diseases(purpose.diseases, dpath, errors)
    if DS in primaries and not purpose.diseases:
        _add(errors, dpath, f"required with {_name(DS)}: name at least one MONDO disease")
    for name, flag in (("commercial", purpose.commercial), ("for_profit", purpose.for_profit)):
        if flag is not None and not isinstance(flag, bool):
            _add(errors, f"{prefix}.{name}", "must be true, false or null")
    return errors


def _check_value(code: str, value: object, path: str, errors: dict[str, list[str]]) -> object:
    """Validate and normalise the value a modifier carries (DUO term comments say which)."""
    if code == TS:  # DUO TS: "coupled with an integer value indicating the number of months"
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            _add(errors, path, "time limit on use (TS) needs a positive whole number of months")
        return value
    if code == MOR:  # DUO MOR: "coupled with a date specified as ISO8601"
        if isinstance(value, str) and _ISO_DATE.match(value):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        _add(errors, path, "publication moratorium (MOR) needs an ISO 8601 date (YYYY-MM-DD)")
        return value
    # GS region(s), US/IS/PS approved users/institutions/projects, RS research type(s).
    if isinstance(value, str) and value.strip():
        return value.strip()
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, str) and v.strip() for v in value)
    ):
        return tuple(v.strip() for v in value)
    _add(errors, path, "must be a non-empty string or a non-empty list of strings")
    return value


def _conditions_errors(conditions: Conditions, prefix: str = "conditions") -> dict[str, list[str]]:
    """Semantic checks of a dataset's conditions."""
    errors: dict[str, list[str]] = {}
    path = f"{prefix}.codes"
    permissions: list[str] = []
    for code in conditions.codes:
        kind = _check_duo_code(code, path, errors)
        if kind == "permission":
            permissions.append(code)
        elif kind == "research_type":
            _add(errors, path, f"{_name(code)} is a research type; it belongs in purpose.codes")
        elif kind not in (None, "modifier"):
            _add(errors, path, f"{_name(code)} cannot be used in data use conditions")
    if len(permissions) > 1:
        # GA4GH consent codes: "Each resource should fall into only one primary category".
        _add(errors, path, f"more than one data use permission: {_names(permissions)}")
    dpath = f"{prefix}.diseases"
    _check_diseases(conditions.diseases, dpath, errors)
    if DS in permissions and not conditions.diseases:
        _add(errors, dpath, f"required with {_name(DS)}: name at least one MONDO disease")
    if conditions.diseases and DS not in permissions:
        # Diseases without DS would look like a restriction the matcher then ignores.
        _add(errors, dpath, f"disease terms apply only with {_name(DS)}")
    for code, required in _VALUE_CODES.items():
        if required and code in conditions.codes and code not in conditions.values:
            _add(errors, f"{prefix}.values.{code}", f"required with {_name(code)}")
    for code, value in conditions.values.items():
        vpath = f"{prefix}.values.{code}"
        if not isinstance(code, str) or code not in _VALUE_CODES:
            _add(errors, vpath, "only GS, TS, MOR, US, IS, PS and RS carry a value")
        else:
            _check_value(code, value, vpath, errors)
    return errors


def validate(purpose: Purpose, conditions: Conditions) -> dict[str, list[str]]:
    """All input errors of a purpose/conditions pair, keyed by field path (empty when valid)."""
    return {**_purpose_errors(purpose), **_conditions_errors(conditions)}


_PURPOSE_KEYS = frozenset({"codes", "diseases", "commercial", "for_profit"})
_CONDITIONS_KEYS = frozenset({"codes", "diseases", "values"})


def _object(data: object, path: str, keys: frozenset[str], errors: dict[str, list[str]]) -> dict:
    if not isinstance(data, dict):
        _add(errors, path, "must be an object")
        return {}
    for key in data:
        if key not in keys:
            # A typo ("for_proft") must not silently widen what a purpose may do.
            _add(
                errors, f"{path}.{key}", f"unknown field; expected one of {', '.join(sorted(keys))}"
            )
    if "codes" not in data:
        _add(errors, f"{path}.codes", "this field is required")
    return data


def _optional_list(obj: dict, key: str, prefix: str, errors: dict[str, list[str]]) -> list[str]:
    """An optional list field: absent or null is empty; anything else must be a list."""
    value = obj.get(key)
    return [] if value is None else _string_list(value, f"{prefix}.{key}", errors)


def parse_purpose(data: object, prefix: str = "purpose") -> Purpose:
    """Build a validated ``Purpose`` from its JSON form; raise ``MatcherInputError``."""
    errors: dict[str, list[str]] = {}
    obj = _object(data, prefix, _PURPOSE_KEYS, errors)
    codes = _string_list(obj.get("codes", []), f"{prefix}.codes", errors)
    diseases = _optional_list(obj, "diseases", prefix, errors)
    flags: dict[str, bool | None] = {}
    for name in ("commercial", "for_profit"):
        value = obj.get(name)
        if value is not None and not isinstance(value, bool):
            _add(errors, f"{prefix}.{name}", "must be true, false or null")
            value = None
        flags[name] = value
    purpose = Purpose(codes=tuple(codes), diseases=tuple(diseases), **flags)
    for path, messages in _purpose_errors(purpose, prefix).items():
        for message in messages:
            _add(errors, path, message)
    if errors:
        raise MatcherInputError(errors)
    return purpose


def parse_conditions(data: object, prefix: str = "conditions") -> Conditions:
    """Build validated ``Conditions`` from their JSON form; raise ``MatcherInputError``.

    Also meant for the catalogue, to validate a dataset's stored conditions when saved.
    """
    errors: dict[str, list[str]] = {}
    obj = _object(data, prefix, _CONDITIONS_KEYS, errors)
    codes = _string_list(obj.get("codes", []), f"{prefix}.codes", errors)
    diseases = _optional_list(obj, "diseases", prefix, errors)
    values = obj.get("values")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        _add(errors, f"{prefix}.values", "must be an object mapping DUO codes to values")
        values = {}
    conditions = Conditions(codes=tuple(codes), diseases=tuple(diseases), values=values)
    for path, messages in _conditions_errors(conditions, prefix).items():
        for message in messages:
            _add(errors, path, message)
    if errors:
        raise MatcherInputError(errors)
    normalised = {
        code: _check_value(code, value, "", {}) for code, value in conditions.values.items()
    }
    return Conditions(codes=conditions.codes, diseases=conditions.diseases, values=normalised)


def parse_request(data: object) -> tuple[Purpose, Conditions]:
    """Validate the request body of ``POST /api/v1/consent/match`` (CONTRACTS.md).

    Every problem is reported at once, keyed by field path, in one ``MatcherInputError``.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        raise MatcherInputError({"non_field_errors": ["the request body must be a JSON object"]})
    for key in data:
        if key not in ("purpose", "conditions"):
            _add(errors, key, "unknown field; expected purpose and conditions")
    parsed: list[Any] = []
    for key, parse in (("purpose", parse_purpose), ("conditions", parse_conditions)):
        if key not in data:
            _add(errors, key, "this field is required")
            continue
        try:
            parsed.append(parse(data[key]))
        except MatcherInputError as exc:
            for path, messages in exc.errors.items():
                errors.setdefault(path, []).extend(messages)
    if errors:
        raise MatcherInputError(errors)
    return parsed[0], parsed[1]


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


class _Findings:
    """Collects reasons with the verdict each implies; the worst verdict wins."""

    __slots__ = ("incompatible", "reasons", "review")

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.incompatible = False
        self.review = False

    def ok(self, reason: str) -> None:
        self.reasons.append(reason[:1].upper() + reason[1:])

    def refuse(self, reason: str) -> None:
        self.incompatible = True
        self.ok(reason)

    def ask(self, reason: str) -> None:
        self.review = True
        self.ok(reason)

    @property
    def decision(self) -> Decision:
        if self.incompatible:
            return INCOMPATIBLE
        return NEEDS_REVIEW if self.review else COMPATIBLE


def _uncovered(purpose_diseases: Iterable[str], dataset_diseases: tuple[str, ...]) -> list[str]:
    """Purpose diseases that no dataset disease covers (dataset term equal or ancestor)."""
    return [d for d in purpose_diseases if vocab.mondo_ancestors(d).isdisjoint(dataset_diseases)]


def _match_diseases(purpose: Purpose, conditions: Conditions, found: _Findings) -> bool:
    """DS against DS: every purpose disease must be covered by some dataset disease.

    DUO DS: use is allowed "provided it is related to the specified disease". DUOS
    (matchDiseases): "We want all purpose disease IDs to be a subclass of any dataset disease
    ID", i.e. the dataset term is the purpose term or one of its MONDO ancestors. A broader
    purpose disease is not covered by a narrower consented one.
    """
    consented = _names(conditions.diseases)
    all_covered = True
    for disease in purpose.diseases:
        ancestors = vocab.mondo_ancestors(disease)
        covering = [d for d in conditions.diseases if d in ancestors]
        if covering:
            if disease in covering:
                found.ok(
                    f"The proposed research on {_name(disease)} is on a disease the dataset is "
                    f"consented for under {_name(DS)}."
                )
            else:
                found.ok(
                    f"The proposed research on {_name(disease)} falls within "
                    f"{_names(covering)}, a disease the dataset is consented for under "
                    f"{_name(DS)}."
                )
            continue
        all_covered = False
        narrower = [d for d in conditions.diseases if disease in vocab.mondo_ancestors(d)]
        why = (
            f"; {_names(narrower)} is narrower, and consent for a narrower disease does not "
            f"cover research on a broader one"
            if narrower
            else ""
        )
        found.refuse(
            f"The proposed research on {_name(disease)} is not covered by the "
            f"dataset's {_name(DS)} consent for {consented}{why}."
        )
    return all_covered


def _match_primary(purpose: Purpose, conditions: Conditions, found: _Findings) -> None:
    """The purpose's primary purpose must lie within the dataset's data use permission."""
    primary = purpose.primary
    permission = conditions.permission
    if permission is None:
        found.ask(
            "The dataset's conditions name no data use permission (NRES, GRU, HMB, DS or "
            "POA), so the matcher cannot tell which research they allow."
        )
    if primary is None:
        # DUOS abstains when a research purpose is not one it can categorise; so do we.
        found.ask(
            "The purpose names no primary purpose (GRU, HMB, DS or POA), so the matcher "
            "cannot place it within the dataset's permission; a reviewer must decide."
        )
    if permission is None or primary is None:
        return
    if permission == NRES:
        # DUO NRES: "there is no restriction on use".
        found.ok(f"The dataset has {_name(NRES)}, which allows the proposed {_name(primary)}.")
        return
    if permission == DS and primary == DS:
        _match_diseases(purpose, conditions, found)
        return
    # DUO hierarchy DS ⊂ HMB ⊂ GRU: a purpose lies within a permission it is a subclass of.
    # POA is not under GRU in the OWL, but GRU's rdfs:comment says general research use
    # includes "the study of population origins or ancestry", and DUOS approves a POA purpose
    # on a GRU dataset (POA_APPROVE_GRU). HMB's definition "does not include the study of
    # population origins or ancestry", so a POA purpose is outside HMB and DS (DUOS POA_F1).
    if permission in vocab.duo_ancestors(primary) or (permission == GRU and primary == POA):
        if permission == primary:
            found.ok(f"The proposed {_name(primary)} matches the dataset's permission.")
        else:
            found.ok(
                f"The dataset allows {_name(permission)}, which includes the proposed "
                f"{_name(primary)}."
            )
        return
    if permission == POA:
        # DUO POA: use "limited to the study of population origins or ancestry" (DUOS HMB_F3).
        found.refuse(
            f"The dataset allows only {_name(POA)}; the proposed {_name(primary)} is "
            "not limited to population origins or ancestry research."
        )
        return
    if primary == POA:
        # DUO HMB "does not include the study of population origins or ancestry" (DUOS POA_F1).
        found.refuse(
            f"The dataset's {_name(permission)} does not include the study of "
            f"population origins or ancestry; the proposed {_name(POA)} is outside "
            "it."
        )
        return
    # Here the purpose is broader than the permission: GRU on HMB/DS, or HMB on DS (DUOS HMB_F1,
    # HMB_F2). A DS dataset needs a DS purpose naming covered diseases.
    hint = f"; ask for {_name(DS)} naming the diseases instead" if permission == DS else ""
    found.refuse(
        f"The proposed {_name(primary)} is broader than the dataset's {_name(permission)}{hint}."
    )


def _disease_match(purpose: Purpose, conditions: Conditions) -> bool:
    """Whether the purpose stays within the dataset's DS diseases (for NMDS)."""
    return (
        conditions.permission == DS
        and bool(purpose.diseases)
        and not _uncovered(purpose.diseases, conditions.diseases)
    )


def _match_research_types(purpose: Purpose, conditions: Conditions, found: _Findings) -> None:
    """Research-type terms in the purpose against the dataset's permission and modifiers."""
    codes = set(conditions.codes)
    permission = conditions.permission
    wanted = [c for c in purpose.codes if c in RESEARCH_TYPES]
    for code in wanted:
        if code == MDS:
            if NMDS not in codes:
                # DUOS MDS_APPROVE: "Methods research is permitted on controlled-access data so
                # long as it is not expressly prohibited".
                found.ok(
                    f"The proposed {_name(MDS)} is allowed: the dataset does not carry the "
                    f"modifier {_name(NMDS)}."
                )
            elif _disease_match(purpose, conditions):
                # DUOS (v2 table): with NMDS, methods research is allowed when the DS-X diseases
                # match; NMDS forbids it only "outside the bounds of the other restrictions".
                found.ok(
                    f"The proposed {_name(MDS)} stays within the dataset's consented "
                    f"diseases, which {_name(NMDS)} allows."
                )
            else:
                # DUO NMDS: "use does not allow methods development research".
                where = (
                    "outside the consented diseases"
                    if permission == DS
                    else "without a disease specific consent to stay within"
                )
                found.refuse(
                    f"The dataset carries {_name(NMDS)}: {_name(MDS)} is not allowed {where}."
                )
        elif code in (POPULATION, ANCESTRY) and NPOA in codes:
            # DUO NPOA: "use for purposes of population, origin, or ancestry research is
            # prohibited".
            found.refuse(f"The dataset carries {_name(NPOA)}; the purpose includes {_name(code)}.")
        elif code == ANCESTRY and permission in (HMB, DS):
            # DUO HMB: "does not include the study of population origins or ancestry" (and DS is
            # a subclass of HMB). DUOS HMB_F3 / POA_F1.
            found.refuse(
                f"The dataset allows only {_name(permission)}, which does not include "
                f"{_name(ANCESTRY)}."
            )
        elif code == GENETIC and GSO in codes:
            found.ok(f"The proposed {_name(GENETIC)} meets the dataset's {_name(GSO)} condition.")
    if GSO in codes and GENETIC not in wanted:
        # DUO GSO: genotype research alone or with phenotype, "but not phenotype research
        # exclusively"; only a purpose naming genetic research (DUO:0000038) shows that.
        found.ask(
            f"The dataset carries {_name(GSO)}; the purpose does not name "
            f"{_name(GENETIC)}, so a reviewer must confirm the study includes genotype "
            "research."
        )


def _match_profit(purpose: Purpose, conditions: Conditions, found: _Findings) -> None:
    """NPU, NCU and NPUNCU against the purpose's commercial and for-profit flags.

    DUO NPU: "limited to not-for-profit organizations"; NCU: "limited to not-for-profit use"
    ("data can be used by commercial organisations for research purposes, but not commercial
    purposes"); NPUNCU: both. DUOS: a commercial purpose or entity matches only datasets where
    NPU and NCU are both false.
    """
    codes = set(conditions.codes)
    checks: list[tuple[str, str, bool | None, str, str]] = []
    if NPU in codes or NPUNCU in codes:
        checks.append(
            (
                NPU if NPU in codes else NPUNCU,
                "for_profit",
                purpose.for_profit,
                "the requesting organisation is for-profit",
                "the requesting organisation is not-for-profit",
            )
        )
    if NCU in codes or NPUNCU in codes:
        checks.append(
            (
                NCU if NCU in codes else NPUNCU,
                "commercial",
                purpose.commercial,
                "the proposed use is commercial",
                "the proposed use is not commercial",
            )
        )
    for code, flag, value, yes, no in checks:
        if value is True:
            found.refuse(f"The dataset carries {_name(code)}, but {yes}.")
        elif value is None:
            found.ask(
                f"The dataset carries {_name(code)}, and the purpose does not say whether "
                f"it is {flag.replace('_', '-')} (purpose.{flag})."
            )
        else:
            found.ok(f"The dataset carries {_name(code)}, and {no}.")


def _value_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _match_modifiers(conditions: Conditions, found: _Findings) -> list[str]:
    """Modifiers the hub cannot evaluate (needs_review) and duties (returned)."""
    codes = conditions.codes
    values = conditions.values
    duties = sorted(c for c in codes if c in DUTY_CODES)
    for code in sorted(c for c in codes if c in _REVIEW_CODES):
        value = values.get(code)
        shown = f" ({_value_text(value)})" if value is not None else ""
        what = {
            # DUO GS: "use is limited to within a specific geographic region"; the hub cannot
            # see where a visiting algorithm's results are processed or who will hold them.
            GS: f"use is limited to a geographic region{shown}; the hub cannot verify where the "
            "data will be processed",
            US: f"use is limited to approved users{shown}; a reviewer must check the requester "
            "and team",
            IS: f"use is limited to approved institutions{shown}; a reviewer must check the "
            "requesting institution",
            PS: f"use is limited to an approved project{shown}; a reviewer must check this is it",
            RS: f"use is limited to studies of a certain research type{shown}; a reviewer must "
            "check the purpose is of that type",
        }[code]
        found.ask(f"The dataset carries {_name(code)}: {what}.")
    if CC in codes:
        # DUO CC: "use is allowed for clinical use and care" widens, never narrows, research use.
        found.ok(f"The dataset also allows {_name(CC)}; that does not limit research use.")
    for code in duties:
        if code == TS:
            detail = f": use is approved for {values.get(TS)} months"
        elif code == MOR:
            detail = f": results may not be published before {values.get(MOR)}"
        else:
            detail = {
                IRB: ": the requester must provide documentation of local ethics (IRB/ERB) "
                "approval",
                PUB: ": the requester must make results available to the scientific community",
                COL: ": the requester must collaborate with the primary study investigator(s)",
                RTN: ": the requester must return derived or enriched data to the resource",
            }[code]
        found.ok(f"Duty {_name(code)}{detail}.")
    return duties


def match(purpose: Purpose, conditions: Conditions) -> MatchResult:
    """Decide whether ``purpose`` may use data held under ``conditions``.

    Pure and deterministic. Raises ``MatcherInputError`` when the input is invalid (the same
    checks as ``parse_request``), so callers building ``Purpose``/``Conditions`` from stored
    data cannot slip an unknown code past the rules. Duties are returned whatever the decision:
    they are what any permit for this dataset would carry.
    """
    errors = validate(purpose, conditions)
    if errors:
        raise MatcherInputError(errors)
    found = _Findings()
    _match_primary(purpose, conditions, found)
    if NPOA in conditions.codes and purpose.primary == POA:
        # DUO NPOA prohibits "population, origin, or ancestry research".
        found.refuse(f"The dataset carries {_name(NPOA)}; the purpose is {_name(POA)}.")
    _match_research_types(purpose, conditions, found)
    _match_profit(purpose, conditions, found)
    duties = _match_modifiers(conditions, found)
    return MatchResult(decision=found.decision, reasons=found.reasons, duties=duties)
