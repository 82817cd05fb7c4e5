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

# The DUO codes and groups have one home; these are the names the rules below read.
from consent.duo import (
    AGE,
    ANCESTRY,
    CC,
    COL,
    CONTROL,
    DS,
    DUTY_CODES,
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
    POA,
    POPULATION,
    PRIMARY_PURPOSES,
    PS,
    PUB,
    RESEARCH_TYPES,
    RS,
    RTN,
    TS,
    US,
)
from consent.duo import REVIEW_CODES as _REVIEW_CODES
from consent.duo import VALUE_CODES as _VALUE_CODES

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
    "Reason",
    "Term",
    "Terms",
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
    reasons: list[Reason]  # each is its English sentence (a ``str``)
    duties: list[str]

    def to_dict(self) -> dict[str, Any]:
        """Exactly the response body of ``POST /api/v1/consent/match``."""
        return {
            "decision": self.decision,
            # plain strings: the contract's English sentences, nothing of ``Reason`` attached
            "reasons": [str(reason) for reason in self.reasons],
            "duties": list(self.duties),
        }


# --------------------------------------------------------------------------------------------
# Reasons: English sentences that remember how they were made
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A DUO or MONDO term named in a reason (``label (SHORT, DUO:…)`` in English)."""

    curie: str


@dataclass(frozen=True, slots=True)
class Terms:
    """Several terms named in a reason, as one list ("A, B and C")."""

    curies: tuple[str, ...]


def _param_json(value: object) -> dict[str, Any]:
    if isinstance(value, Term):
        return {"term": value.curie}
    if isinstance(value, Terms):
        return {"terms": list(value.curies)}
    return {"value": value}


def _param_from_json(data: Mapping[str, Any]) -> object:
    if "term" in data:
        return Term(str(data["term"]))
    if "terms" in data:
        return Terms(tuple(str(c) for c in data["terms"]))
    return data.get("value")


def _english(value: object) -> str:
    if isinstance(value, Term):
        return _name(value.curie)
    if isinstance(value, Terms):
        return _names(value.curies)
    return str(value)


class Reason(str):
    """One finding or input error of the matcher.

    It *is* its English sentence (``str`` subclass), so every caller that joins, compares,
    stores or serialises reasons keeps working unchanged; it also keeps the ``template``
    (``%(name)s`` placeholders, the msgid a translation catalogue knows) and its ``params``
    (terms as ``Term``/``Terms``, anything else verbatim), so the hub can say it in the reader's
    language (``consent/reasons_i18n.py``) without this module importing Django: the node and
    the benchmarks use it alone.
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Reason:
        text = template % {key: _english(value) for key, value in params.items()}
        self = super().__new__(cls, text)
        self.template = template
        self.params = dict(params)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # str's own pickling would call ``Reason(text)`` and lose the template.
        return (_reason, (self.template, self.params))

    def as_json(self) -> dict[str, Any]:
        """The template and parameters, JSON-shaped (stored with a check's details)."""
        return {
            "template": self.template,
            "params": {key: _param_json(value) for key, value in self.params.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reason:
        """The reason ``as_json`` stored (its English text re-made from the vocabulary)."""
        params = {key: _param_from_json(value) for key, value in data["params"].items()}
        return cls(str(data["template"]), **params)


def _reason(template: str, params: dict[str, Any]) -> Reason:
    return Reason(template, **params)


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
        _add(errors, path, Reason("must be a list of CURIE strings"))
        return []
    out: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        else:
            _add(
                errors,
                path,
                Reason(
                    "item %(index)s must be a string, got %(type)s",
                    index=index,
                    type=type(item).__name__,
                ),
            )
    return out


def _check_duo_code(code: str, path: str, errors: dict[str, list[str]]) -> str | None:
    """Kind of a DUO code, or ``None`` after recording why it is not usable."""
    if not isinstance(code, str) or not code.startswith("DUO:") or not _CURIE.match(code):
        _add(
            errors,
            path,
            Reason("%(code)s is not a DUO code (expected DUO:NNNNNNN)", code=repr(code)),
        )
        return None
    if not vocab.is_duo(code):
        _add(
            errors,
            path,
            Reason("%(code)s is not a known DUO term (DUO release v2021-02-23)", code=code),
        )
        return None
    term = vocab.duo_term(code)
    if term.obsolete:
        _add(
            errors,
            path,
            Reason("%(code)s (%(label)s) is obsolete in DUO", code=code, label=term.label),
        )
        return None
    if term.kind == "category":
        _add(
            errors,
            path,
            Reason("%(term)s is a category; use one of its specific terms", term=Term(code)),
        )
        return None
    return term.kind


def _not_mondo(disease: object) -> Reason:
    return Reason(
        "%(disease)s is not a MONDO CURIE (expected MONDO:NNNNNNN)", disease=repr(disease)
    )


def _check_diseases(diseases: Iterable[str], path: str, errors: dict[str, list[str]]) -> None:
    for disease in diseases:
        if not isinstance(disease, str) or not disease.startswith("MONDO:"):
            _add(errors, path, _not_mondo(disease))
        elif not _CURIE.match(disease):
            _add(errors, path, _not_mondo(disease))
        elif not vocab.is_mondo(disease):
            _add(errors, path, Reason("%(disease)s is not a known MONDO term", disease=disease))


def _ds_needs_disease() -> Reason:
    return Reason("required with %(ds)s: name at least one MONDO disease", ds=Term(DS))


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
            _add(
                errors,
                path,
                Reason("%(code)s describes a dataset, not a research purpose", code=Term(code)),
            )
        elif kind == "modifier":
            _add(
                errors,
                path,
                Reason(
                    "%(code)s is a data use modifier; it belongs in conditions.codes, not in a "
                    "purpose",
                    code=Term(code),
                ),
            )
        elif code not in RESEARCH_TYPES:
            _add(errors, path, Reason("%(code)s cannot be used in a purpose", code=Term(code)))
    if len(primaries) > 1:
        _add(
            errors,
            path,
            Reason(
                "more than one primary purpose: %(codes)s; choose one",
                codes=Terms(tuple(primaries)),
            ),
        )
    dpath = f"{prefix}.diseases"
    _check_diseases(purpose.diseases, dpath, errors)
    if DS in primaries and not purpose.diseases:
        _add(errors, dpath, _ds_needs_disease())
    for name, flag in (("commercial", purpose.commercial), ("for_profit", purpose.for_profit)):
        if flag is not None and not isinstance(flag, bool):
            _add(errors, f"{prefix}.{name}", Reason("must be true, false or null"))
    return errors


def _check_value(code: str, value: object, path: str, errors: dict[str, list[str]]) -> object:
    """Validate and normalise the value a modifier carries (DUO term comments say which)."""
    if code == TS:  # DUO TS: "coupled with an integer value indicating the number of months"
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            _add(
                errors,
                path,
                Reason("time limit on use (TS) needs a positive whole number of months"),
            )
        return value
    if code == MOR:  # DUO MOR: "coupled with a date specified as ISO8601"
        if isinstance(value, str) and _ISO_DATE.match(value):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        _add(
            errors,
            path,
            Reason("publication moratorium (MOR) needs an ISO 8601 date (YYYY-MM-DD)"),
        )
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
    _add(errors, path, Reason("must be a non-empty string or a non-empty list of strings"))
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
            _add(
                errors,
                path,
                Reason("%(code)s is a research type; it belongs in purpose.codes", code=Term(code)),
            )
        elif kind not in (None, "modifier"):
            _add(
                errors,
                path,
                Reason("%(code)s cannot be used in data use conditions", code=Term(code)),
            )
    if len(permissions) > 1:
        # GA4GH consent codes: "Each resource should fall into only one primary category".
        _add(
            errors,
            path,
            Reason("more than one data use permission: %(codes)s", codes=Terms(tuple(permissions))),
        )
    dpath = f"{prefix}.diseases"
    _check_diseases(conditions.diseases, dpath, errors)
    if DS in permissions and not conditions.diseases:
        _add(errors, dpath, _ds_needs_disease())
    if conditions.diseases and DS not in permissions:
        # Diseases without DS would look like a restriction the matcher then ignores.
        _add(errors, dpath, Reason("disease terms apply only with %(ds)s", ds=Term(DS)))
    for code, required in _VALUE_CODES.items():
        if required and code in conditions.codes and code not in conditions.values:
            _add(
                errors, f"{prefix}.values.{code}", Reason("required with %(code)s", code=Term(code))
            )
    for code, value in conditions.values.items():
        vpath = f"{prefix}.values.{code}"
        if not isinstance(code, str) or code not in _VALUE_CODES:
            _add(errors, vpath, Reason("only GS, TS, MOR, US, IS, PS and RS carry a value"))
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
        _add(errors, path, Reason("must be an object"))
        return {}
    for key in data:
        if key not in keys:
            # A typo ("for_proft") must not silently widen what a purpose may do.
            _add(
                errors,
                f"{path}.{key}",
                Reason("unknown field; expected one of %(keys)s", keys=", ".join(sorted(keys))),
            )
    if "codes" not in data:
        _add(errors, f"{path}.codes", Reason("this field is required"))
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
            _add(errors, f"{prefix}.{name}", Reason("must be true, false or null"))
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
        _add(
            errors,
            f"{prefix}.values",
            Reason("must be an object mapping DUO codes to values"),
        )
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
        raise MatcherInputError(
            {"non_field_errors": [Reason("the request body must be a JSON object")]}
        )
    for key in data:
        if key not in ("purpose", "conditions"):
            _add(errors, key, Reason("unknown field; expected purpose and conditions"))
    parsed: list[Any] = []
    for key, parse in (("purpose", parse_purpose), ("conditions", parse_conditions)):
        if key not in data:
            _add(errors, key, Reason("this field is required"))
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
        self.reasons: list[Reason] = []
        self.incompatible = False
        self.review = False

    def ok(self, template: str, /, **params: Any) -> None:
        self.reasons.append(Reason(template, **params))

    def refuse(self, template: str, /, **params: Any) -> None:
        self.incompatible = True
        self.ok(template, **params)

    def ask(self, template: str, /, **params: Any) -> None:
        self.review = True
        self.ok(template, **params)

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
    consented = Terms(conditions.diseases)
    all_covered = True
    for disease in purpose.diseases:
        ancestors = vocab.mondo_ancestors(disease)
        covering = [d for d in conditions.diseases if d in ancestors]
        if covering:
            if disease in covering:
                found.ok(
                    "The proposed research on %(disease)s is on a disease the dataset is "
                    "consented for under %(ds)s.",
                    disease=Term(disease),
                    ds=Term(DS),
                )
            else:
                found.ok(
                    "The proposed research on %(disease)s falls within %(covering)s, a disease "
                    "the dataset is consented for under %(ds)s.",
                    disease=Term(disease),
                    covering=Terms(tuple(covering)),
                    ds=Term(DS),
                )
            continue
        all_covered = False
        narrower = [d for d in conditions.diseases if disease in vocab.mondo_ancestors(d)]
        if narrower:
            found.refuse(
                "The proposed research on %(disease)s is not covered by the dataset's %(ds)s "
                "consent for %(consented)s; %(narrower)s is narrower, and consent for a narrower "
                "disease does not cover research on a broader one.",
                disease=Term(disease),
                ds=Term(DS),
                consented=consented,
                narrower=Terms(tuple(narrower)),
            )
        else:
            found.refuse(
                "The proposed research on %(disease)s is not covered by the dataset's %(ds)s "
                "consent for %(consented)s.",
                disease=Term(disease),
                ds=Term(DS),
                consented=consented,
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
        types = [c for c in purpose.codes if c in RESEARCH_TYPES]
        if types and permission is not None:
            # A purpose of research types alone (e.g. methods development, DUO:0000031) asks
            # for no primary purpose, so no permission excludes it: DUOS ``matchHMB`` and
            # ``matchDiseases`` short-circuit when the purpose sets no GRU/HMB/disease, and
            # ``testNMDS_positive_case_1`` approves methods research alone on a GRU dataset.
            # What the research types themselves may be refused for (NMDS, NPOA, ancestry
            # under HMB) is decided in ``_match_research_types``.
            found.ok(
                "The purpose names only research types (%(types)s) and no primary purpose; the "
                "dataset's %(permission)s does not exclude them.",
                types=Terms(tuple(types)),
                permission=Term(permission),
            )
            return
        # DUOS abstains when a research purpose is not one it can categorise; so do we.
        found.ask(
            "The purpose names no primary purpose (GRU, HMB, DS or POA), so the matcher "
            "cannot place it within the dataset's permission; a reviewer must decide."
        )
    if permission is None or primary is None:
        return
    if permission == NRES:
        # DUO NRES: "there is no restriction on use".
        found.ok(
            "The dataset has %(nres)s, which allows the proposed %(primary)s.",
            nres=Term(NRES),
            primary=Term(primary),
        )
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
            found.ok(
                "The proposed %(primary)s matches the dataset's permission.", primary=Term(primary)
            )
        else:
            found.ok(
                "The dataset allows %(permission)s, which includes the proposed %(primary)s.",
                permission=Term(permission),
                primary=Term(primary),
            )
        return
    if permission == POA:
        # DUO POA: use "limited to the study of population origins or ancestry" (DUOS HMB_F3).
        found.refuse(
            "The dataset allows only %(poa)s; the proposed %(primary)s is not limited to "
            "population origins or ancestry research.",
            poa=Term(POA),
            primary=Term(primary),
        )
        return
    if primary == POA:
        # DUO HMB "does not include the study of population origins or ancestry" (DUOS POA_F1).
        found.refuse(
            "The dataset's %(permission)s does not include the study of population origins or "
            "ancestry; the proposed %(poa)s is outside it.",
            permission=Term(permission),
            poa=Term(POA),
        )
        return
    # Here the purpose is broader than the permission: GRU on HMB/DS, or HMB on DS (DUOS HMB_F1,
    # HMB_F2). A DS dataset needs a DS purpose naming covered diseases.
    if permission == DS:
        found.refuse(
            "The proposed %(primary)s is broader than the dataset's %(permission)s; ask for "
            "%(ds)s naming the diseases instead.",
            primary=Term(primary),
            permission=Term(permission),
            ds=Term(DS),
        )
    else:
        found.refuse(
            "The proposed %(primary)s is broader than the dataset's %(permission)s.",
            primary=Term(primary),
            permission=Term(permission),
        )


def _disease_match(purpose: Purpose, conditions: Conditions) -> bool:
    """Whether methods development stays inside a disease-specific purpose (for NMDS).

    DUOS ``matchNMDS``: with NMDS, methods research is allowed when "DS-X match"es, and
    ``matchDiseases`` counts a DS purpose as matching a GRU or HMB dataset outright. So a DS
    purpose with diseases bounds the methods work: on a DS dataset every purpose disease must
    be covered; on GRU, HMB or NRES the permission already covers the disease.
    """
    if purpose.primary != DS or not purpose.diseases:
        return False
    if conditions.permission == DS:
        return not _uncovered(purpose.diseases, conditions.diseases)
    return conditions.permission in (NRES, GRU, HMB)


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
                    "The proposed %(mds)s is allowed: the dataset does not carry the modifier "
                    "%(nmds)s.",
                    mds=Term(MDS),
                    nmds=Term(NMDS),
                )
            elif _disease_match(purpose, conditions):
                # DUOS (v2 table): with NMDS, methods research is allowed when the DS-X diseases
                # match; NMDS forbids it only "outside the bounds of the other restrictions".
                found.ok(
                    "The proposed %(mds)s stays within the purpose's %(ds)s on %(diseases)s, "
                    "which the dataset's consent covers; %(nmds)s forbids only methods work "
                    "outside those bounds.",
                    mds=Term(MDS),
                    ds=Term(DS),
                    diseases=Terms(purpose.diseases),
                    nmds=Term(NMDS),
                )
            else:
                # DUO NMDS: "use does not allow methods development research".
                if permission == DS and purpose.primary == DS:
                    template = (
                        "The dataset carries %(nmds)s: %(mds)s is not allowed outside the "
                        "consented diseases."
                    )
                else:
                    template = (
                        "The dataset carries %(nmds)s: %(mds)s is not allowed unless a disease "
                        "specific purpose bounds it."
                    )
                found.refuse(template, nmds=Term(NMDS), mds=Term(MDS))
        elif code in (POPULATION, ANCESTRY) and NPOA in codes:
            # DUO NPOA: "use for purposes of population, origin, or ancestry research is
            # prohibited".
            found.refuse(
                "The dataset carries %(npoa)s; the purpose includes %(code)s.",
                npoa=Term(NPOA),
                code=Term(code),
            )
        elif code == ANCESTRY and permission in (HMB, DS):
            # DUO HMB: "does not include the study of population origins or ancestry" (and DS is
            # a subclass of HMB). DUOS HMB_F3 / POA_F1.
            found.refuse(
                "The dataset allows only %(permission)s, which does not include %(ancestry)s.",
                permission=Term(permission),
                ancestry=Term(ANCESTRY),
            )
        elif code in (CONTROL, POPULATION, AGE, GENDER) and permission in (HMB, DS):
            # The hub's rule (DUOS abstains; DUO does not forbid them): research control,
            # population, age category and gender category research are ways of doing
            # health research, so HMB and DS allow them. HMB excludes only "the study of
            # population origins or ancestry" (POA, DUO:0000033), refused above; a DS dataset
            # still limits the diseases, which the primary purpose check decides.
            found.ok(
                "The proposed %(code)s is allowed under the dataset's %(permission)s: DUO "
                "restricts it only as population origins or ancestry research, which it is not.",
                code=Term(code),
                permission=Term(permission),
            )
        elif code == GENETIC and GSO in codes:
            found.ok(
                "The proposed %(genetic)s meets the dataset's %(gso)s condition.",
                genetic=Term(GENETIC),
                gso=Term(GSO),
            )
    if GSO in codes and GENETIC not in wanted:
        # DUO GSO: genotype research alone or with phenotype, "but not phenotype research
        # exclusively"; only a purpose naming genetic research (DUO:0000038) shows that.
        found.ask(
            "The dataset carries %(gso)s; the purpose does not name %(genetic)s, so a reviewer "
            "must confirm the study includes genotype research.",
            gso=Term(GSO),
            genetic=Term(GENETIC),
        )


def _match_profit(purpose: Purpose, conditions: Conditions, found: _Findings) -> None:
    """NPU, NCU and NPUNCU against the purpose's ``for_profit`` and ``commercial`` flags.

    Two different limits, checked apart:

    - NPU (DUO:0000045, "use of the data is limited to not-for-profit organizations") limits
      *who* uses the data: it is checked against ``purpose.for_profit`` only, so a
      not-for-profit organisation's commercial use passes it;
    - NCU (DUO:0000046, "limited to not-for-profit use"; label "non-commercial use only")
      limits *what* the use is: it is checked against ``purpose.commercial`` only, so a
      for-profit company's non-commercial research passes it;
    - NPUNCU (DUO:0000018) is both, and checks both flags.

    A flag the purpose leaves ``None`` makes the matching check ``needs_review``. (DUOS folds
    both into one ``commercialUse`` flag, ``testCommercial_negative``; DUO keeps them apart,
    and so does the hub.)
    """
    codes = set(conditions.codes)
    # (code, the flag's value, its reason when true, when unknown, when false)
    checks: list[tuple[str, bool | None, str, str, str]] = []
    if NPU in codes or NPUNCU in codes:
        checks.append(
            (
                NPU if NPU in codes else NPUNCU,
                purpose.for_profit,
                "The dataset carries %(code)s, but the requesting organisation is for-profit.",
                "The dataset carries %(code)s, and the purpose does not say whether it is "
                "for-profit (purpose.for_profit).",
                "The dataset carries %(code)s, and the requesting organisation is not-for-profit.",
            )
        )
    if NCU in codes or NPUNCU in codes:
        checks.append(
            (
                NCU if NCU in codes else NPUNCU,
                purpose.commercial,
                "The dataset carries %(code)s, but the proposed use is commercial.",
                "The dataset carries %(code)s, and the purpose does not say whether it is "
                "commercial (purpose.commercial).",
                "The dataset carries %(code)s, and the proposed use is not commercial.",
            )
        )
    for code, value, yes, unknown, no in checks:
        if value is True:
            found.refuse(yes, code=Term(code))
        elif value is None:
            found.ask(unknown, code=Term(code))
        else:
            found.ok(no, code=Term(code))


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
        # The value is the dataset's own words (a region, names): shown as given.
        shown = f" ({_value_text(value)})" if value is not None else ""
        template = {
            # DUO GS: "use is limited to within a specific geographic region"; the hub cannot
            # see where a visiting algorithm's results are processed or who will hold them.
            GS: "The dataset carries %(code)s: use is limited to a geographic region%(value)s; "
            "the hub cannot verify where the data will be processed.",
            US: "The dataset carries %(code)s: use is limited to approved users%(value)s; a "
            "reviewer must check the requester and team.",
            IS: "The dataset carries %(code)s: use is limited to approved institutions%(value)s; "
            "a reviewer must check the requesting institution.",
            PS: "The dataset carries %(code)s: use is limited to an approved project%(value)s; a "
            "reviewer must check this is it.",
            RS: "The dataset carries %(code)s: use is limited to studies of a certain research "
            "type%(value)s; a reviewer must check the purpose is of that type.",
        }[code]
        found.ask(template, code=Term(code), value=shown)
    if CC in codes:
        # DUO CC: "use is allowed for clinical use and care" widens, never narrows, research use.
        found.ok("The dataset also allows %(cc)s; that does not limit research use.", cc=Term(CC))
    for code in duties:
        if code == TS:
            found.ok(
                "Duty %(code)s: use is approved for %(months)s months.",
                code=Term(code),
                months=values.get(TS),
            )
        elif code == MOR:
            found.ok(
                "Duty %(code)s: results may not be published before %(date)s.",
                code=Term(code),
                date=values.get(MOR),
            )
        else:
            template = {
                IRB: "Duty %(code)s: the requester must provide documentation of local ethics "
                "(IRB/ERB) approval.",
                PUB: "Duty %(code)s: the requester must make results available to the "
                "scientific community.",
                COL: "Duty %(code)s: the requester must collaborate with the primary study "
                "investigator(s).",
                RTN: "Duty %(code)s: the requester must return derived or enriched data to the "
                "resource.",
            }[code]
            found.ok(template, code=Term(code))
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
        found.refuse(
            "The dataset carries %(npoa)s; the purpose is %(poa)s.", npoa=Term(NPOA), poa=Term(POA)
        )
    _match_research_types(purpose, conditions, found)
    _match_profit(purpose, conditions, found)
    duties = _match_modifiers(conditions, found)
    return MatchResult(decision=found.decision, reasons=found.reasons, duties=duties)


def dataset_conditions(dataset: Any) -> Conditions:
    """A catalogue dataset's data-use conditions as the matcher reads them: the one place
    that turns a ``Dataset`` (``duo_codes``, ``duo_diseases``, ``duo_values``) into
    ``Conditions``."""
    return Conditions(
        codes=tuple(dataset.duo_codes or ()),
        diseases=tuple(dataset.duo_diseases or ()),
        values=dict(dataset.duo_values or {}),
    )
