"""The automated consent and legal checks of an access request.

Each check is a small named pure function of ``RequestFacts``: no database, no clock, no I/O
(beyond the shipped DUO/MONDO vocabulary), so the request workflow can run them on submit, on
resubmission and when consent changes, store the outcomes, and get the same answer for the same
facts. ``run_checks(facts)`` runs them all in a fixed order. A check answers ``pass``, ``fail``
or ``needs_review`` (a person must decide), with an explanation in plain words and the details
it used.

Building the facts is the caller's job (``requests_app`` from an access request); the one helper
that reads the database, ``facts_cohort_counts``, fills in the consenting cohort sizes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent import duo, matcher
from consent.legal import (
    ART9_FOR_SECONDARY_USE,
    EEA_COUNTRIES,
    PUBLIC_BODY_CATEGORIES,
    EhdsCategory,
    GdprArt6Basis,
    GdprArt9Basis,
    ProhibitedUse,
)
from consent.matcher import Conditions, Purpose, dataset_conditions
from consent.reasons_i18n import errors_text, reasons_text

Status = Literal["pass", "fail", "needs_review"]
PASS: Status = "pass"  # noqa: S105 - a check status, not a password
FAIL: Status = "fail"
NEEDS_REVIEW: Status = "needs_review"
DEFAULT_MIN_COHORT = 10
PUBLIC_BODY = "public_body"  # accounts.models.OrganisationKind.PUBLIC_BODY


@dataclass(frozen=True)
class DatasetFacts:
    """What the checks need to know about one requested dataset."""

    slug: str
    conditions: Conditions
    contains_personal_data: bool = True
    min_cohort_size: int = DEFAULT_MIN_COHORT
    cohort_count: int | None = None  # None: not computed (the cohort check needs review)


@dataclass(frozen=True)
class RequestFacts:
    """Everything the checks reason over, taken from an access request and its requester.

    ``organisation_kind`` is an ``accounts.models.OrganisationKind`` value; ``ehds_category`` an
    ``EhdsCategory`` value (Art. 53(1) letter, "" if none given); ``declared_prohibited_uses``
    ``ProhibitedUse`` values; the GDPR bases ``GdprArt6Basis`` / ``GdprArt9Basis`` values ("" if
    none). Countries are ISO 3166-1 alpha-2 codes.
    """

    organisation_kind: str
    organisation_is_for_profit: bool
    organisation_country: str
    purpose: Purpose
    datasets: tuple[DatasetFacts, ...] = ()
    ehds_category: str = ""
    declared_prohibited_uses: tuple[str, ...] = ()
    gdpr_art6_basis: str = ""
    gdpr_art9_basis: str = ""
    ethics_reference: str = ""
    ethics_committee: str = ""
    ethics_expires_on: dt.date | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    processing_outside_eea: bool = False
    processing_countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    dataset: str | None
    status: Status
    explanation: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _day(day: dt.date) -> str:
    """A date as the reader's language writes it ("31 Dec 2028", "31 december 2028"); the
    details keep the ISO date."""
    return date_format(day, "DATE_FORMAT")


def _purpose_for(facts: RequestFacts) -> Purpose:
    """The purpose, with the organisation's for-profit status when the purpose does not say."""
    if facts.purpose.for_profit is None:
        return dataclasses.replace(facts.purpose, for_profit=facts.organisation_is_for_profit)
    return facts.purpose


# --------------------------------------------------------------------------------------------
# Per dataset
# --------------------------------------------------------------------------------------------


_VERDICTS: dict[str, Callable[[], str]] = {
    PASS: lambda: _("The purpose fits the dataset's conditions."),
    FAIL: lambda: _("The purpose does not fit the dataset's conditions."),
    NEEDS_REVIEW: lambda: _(
        "The matcher cannot tell whether the purpose fits the dataset's conditions; a reviewer"
        " must compare them."
    ),
}


def check_duo_compatibility(facts: RequestFacts) -> list[CheckOutcome]:
    """The matcher's decision for the purpose against each dataset's DUO conditions."""
    purpose = _purpose_for(facts)
    outcomes = []
    for dataset in facts.datasets:
        try:
            result = matcher.match(purpose, dataset.conditions)
        except matcher.MatcherInputError as exc:
            outcomes.append(
                CheckOutcome(
                    "duo_compatibility",
                    dataset.slug,
                    NEEDS_REVIEW,
                    _(
                        "The purpose or the dataset's conditions could not be read, so a reviewer "
                        "must compare them: %(problems)s"
                    )
                    % {"problems": errors_text(exc.errors)},
                    {"errors": exc.errors},
                )
            )
            continue
        status = {matcher.COMPATIBLE: PASS, matcher.INCOMPATIBLE: FAIL}.get(
            result.decision, NEEDS_REVIEW
        )
        # The matcher (pure, Django-free) gives its reasons as ``Reason``s: said here in the
        # active language. The details keep the English ``reasons`` as before and the reasons'
        # templates and parameters, so a stored result can be read in any language later.
        explanation = " ".join(reasons_text(result.reasons)) or _VERDICTS[status]()
        details = {
            **result.to_dict(),
            "reason_messages": [reason.as_json() for reason in result.reasons],
        }
        outcomes.append(
            CheckOutcome("duo_compatibility", dataset.slug, status, explanation, details)
        )
    return outcomes


def check_cohort_size(facts: RequestFacts) -> list[CheckOutcome]:
    """Enough participants consent to the purpose (at least the dataset's minimum, default 10)."""
    outcomes = []
    for dataset in facts.datasets:
        minimum = dataset.min_cohort_size or DEFAULT_MIN_COHORT
        details = {"cohort_count": dataset.cohort_count, "min_cohort_size": minimum}
        if not dataset.contains_personal_data:
            outcomes.append(
                CheckOutcome(
                    "cohort_size",
                    dataset.slug,
                    PASS,
                    _("The dataset holds no personal data, so no participant consent is needed."),
                    details,
                )
            )
        elif dataset.cohort_count is None:
            outcomes.append(
                CheckOutcome(
                    "cohort_size",
                    dataset.slug,
                    NEEDS_REVIEW,
                    _(
                        "The number of participants whose consent covers this purpose could not be "
                        "computed; a reviewer must check it."
                    ),
                    details,
                )
            )
        elif dataset.cohort_count < minimum:
            outcomes.append(
                CheckOutcome(
                    "cohort_size",
                    dataset.slug,
                    FAIL,
                    _(
                        "Only %(count)d participants consent to this purpose; the dataset needs at "
                        "least %(minimum)d."
                    )
                    % {"count": dataset.cohort_count, "minimum": minimum},
                    details,
                )
            )
        else:
            outcomes.append(
                CheckOutcome(
                    "cohort_size",
                    dataset.slug,
                    PASS,
                    _(
                        "%(count)d participants consent to this purpose (the minimum is "
                        "%(minimum)d)."
                    )
                    % {"count": dataset.cohort_count, "minimum": minimum},
                    details,
                )
            )
    return outcomes


def check_organisation(facts: RequestFacts) -> list[CheckOutcome]:
    """The requester's organisation may use each dataset (NPU/NPUNCU, NCU, IS)."""
    outcomes = []
    for dataset in facts.datasets:
        codes = set(dataset.conditions.codes)
        details = {
            "is_for_profit": facts.organisation_is_for_profit,
            "kind": facts.organisation_kind,
        }
        failures, reviews = [], []
        if codes & {matcher.NPU, matcher.NPUNCU} and facts.organisation_is_for_profit:
            failures.append(
                _(
                    "the dataset is for not-for-profit organisations only (NPU), and "
                    "the requesting organisation is for-profit"
                )
            )
        if codes & {matcher.NCU, matcher.NPUNCU} and facts.purpose.commercial:
            failures.append(
                _(
                    "the dataset is for non-commercial use only (NCU), and the "
                    "proposed use is commercial"
                )
            )
        if matcher.IS in codes:
            institutions = dataset.conditions.values.get(matcher.IS)
            if isinstance(institutions, list | tuple):
                institutions = ", ".join(str(i) for i in institutions)
            reviews.append(
                _(
                    "the dataset is limited to approved institutions (IS)%(which)s; a "
                    "reviewer must check the requesting organisation"
                )
                % {"which": f" ({institutions})" if institutions else ""}
            )
        if failures:
            status, text = FAIL, "; ".join(failures)
        elif reviews:
            status, text = NEEDS_REVIEW, "; ".join(reviews)
        else:
            status, text = (
                PASS,
                _(
                    "Nothing in the dataset's conditions limits which "
                    "organisations may use it for this purpose."
                ),
            )
        outcomes.append(
            CheckOutcome(
                "organisation",
                dataset.slug,
                status,
                text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."),
                details,
            )
        )
    return outcomes


# --------------------------------------------------------------------------------------------
# Per request
# --------------------------------------------------------------------------------------------


def check_ehds_purpose(facts: RequestFacts) -> list[CheckOutcome]:
    """An EHDS Art. 53(1) purpose is given and allowed for this kind of requester (Art. 53(2))."""
    category = facts.ehds_category
    details = {"ehds_category": category, "organisation_kind": facts.organisation_kind}
    if category not in EhdsCategory.values:
        return [
            CheckOutcome(
                "ehds_purpose",
                None,
                FAIL,
                _("No EHDS Art. 53(1) purpose (a–f) is given for the secondary use."),
                details,
            )
        ]
    label = _label(EhdsCategory, category)
    if category in PUBLIC_BODY_CATEGORIES and facts.organisation_kind != PUBLIC_BODY:
        return [
            CheckOutcome(
                "ehds_purpose",
                None,
                FAIL,
                _(
                    "EHDS purpose %(label)s is reserved for public sector bodies (Art. 53(2)); the "
                    "requesting organisation is not one."
                )
                % {"label": label},
                details,
            )
        ]
    return [
        CheckOutcome(
            "ehds_purpose",
            None,
            PASS,
            _("EHDS purpose %(label)s is allowed for this requester.") % {"label": label},
            details,
        )
    ]


def check_ehds_prohibited_uses(facts: RequestFacts) -> list[CheckOutcome]:
    """No use prohibited by EHDS Art. 54 is declared."""
    declared = [use for use in facts.declared_prohibited_uses if use]
    details = {"declared_prohibited_uses": list(declared)}
    if declared:
        names = "; ".join(_label(ProhibitedUse, use) for use in declared)
        return [
            CheckOutcome(
                "ehds_prohibited_uses",
                None,
                FAIL,
                _("The request declares uses that EHDS Art. 54 prohibits: %(uses)s.")
                % {"uses": names},
                details,
            )
        ]
    return [
        CheckOutcome(
            "ehds_prohibited_uses",
            None,
            PASS,
            _("No use prohibited by EHDS Art. 54 is declared."),
            details,
        )
    ]


def check_gdpr_legal_basis(facts: RequestFacts) -> list[CheckOutcome]:
    """Health data (special category) needs a GDPR Art. 6(1) basis and an Art. 9(2) exception."""
    personal = [d.slug for d in facts.datasets if d.contains_personal_data]
    art6, art9 = facts.gdpr_art6_basis, facts.gdpr_art9_basis
    details = {"art6": art6, "art9": art9, "datasets_with_personal_data": personal}
    if not personal:
        return [
            CheckOutcome(
                "gdpr_legal_basis",
                None,
                PASS,
                _("None of the datasets holds personal data."),
                details,
            )
        ]
    missing = []
    if art6 not in GdprArt6Basis.values:
        missing.append(_("a lawful basis under GDPR Art. 6(1)"))
    if art9 not in GdprArt9Basis.values:
        missing.append(_("an exception under GDPR Art. 9(2) for health data"))
    if missing:
        return [
            CheckOutcome(
                "gdpr_legal_basis",
                None,
                FAIL,
                _(
                    "The datasets hold health data, a special category of personal "
                    "data; the request does not give %(missing)s."
                )
                % {"missing": _(" or ").join(missing)},
                details,
            )
        ]
    if art6 == GdprArt6Basis.LEGITIMATE_INTERESTS and facts.organisation_kind == PUBLIC_BODY:
        return [
            CheckOutcome(
                "gdpr_legal_basis",
                None,
                FAIL,
                _(
                    "Legitimate interests (Art. 6(1)(f)) cannot be the basis for "
                    "processing by a public authority in the performance of its "
                    "tasks."
                ),
                details,
            )
        ]
    basis = _("%(art6)s with %(art9)s") % {
        "art6": _label(GdprArt6Basis, art6),
        "art9": _label(GdprArt9Basis, art9),
    }
    if art9 not in ART9_FOR_SECONDARY_USE:
        return [
            CheckOutcome(
                "gdpr_legal_basis",
                None,
                NEEDS_REVIEW,
                _(
                    "The legal basis is %(basis)s; that Art. 9(2) exception is "
                    "unusual for research use, so a reviewer must confirm it "
                    "applies."
                )
                % {"basis": basis},
                details,
            )
        ]
    return [
        CheckOutcome(
            "gdpr_legal_basis",
            None,
            PASS,
            _("The legal basis is %(basis)s.") % {"basis": basis},
            details,
        )
    ]


def check_ethics_approval(facts: RequestFacts) -> list[CheckOutcome]:
    """Ethics approval is present and valid for the whole requested period.

    Required when any dataset holds personal data or carries the IRB modifier (DUO:0000021).
    """
    needed = [
        d.slug for d in facts.datasets if d.contains_personal_data or duo.IRB in d.conditions.codes
    ]
    details = {
        "reference": facts.ethics_reference,
        "committee": facts.ethics_committee,
        "expires_on": facts.ethics_expires_on.isoformat() if facts.ethics_expires_on else None,
        "period_end": facts.period_end.isoformat() if facts.period_end else None,
        "required_by": needed,
    }
    if not needed:
        return [
            CheckOutcome(
                "ethics_approval",
                None,
                PASS,
                _("No requested dataset requires ethics approval."),
                details,
            )
        ]
    missing = [
        name
        for name, value in (
            (_("reference"), facts.ethics_reference.strip()),
            (_("committee"), facts.ethics_committee.strip()),
            (_("expiry date"), facts.ethics_expires_on),
        )
        if not value
    ]
    if missing:
        return [
            CheckOutcome(
                "ethics_approval",
                None,
                FAIL,
                _("Ethics approval is required, and its %(missing)s is not given.")
                % {"missing": ", ".join(missing)},
                details,
            )
        ]
    expires = facts.ethics_expires_on
    if facts.period_start and expires < facts.period_start:
        return [
            CheckOutcome(
                "ethics_approval",
                None,
                FAIL,
                _("The ethics approval expires on %(expires)s, before the requested period starts.")
                % {"expires": _day(expires)},
                details,
            )
        ]
    if facts.period_end is None:
        return [
            CheckOutcome(
                "ethics_approval",
                None,
                NEEDS_REVIEW,
                _(
                    "The request gives no end date, so nobody can tell whether the "
                    "ethics approval (valid until %(expires)s) covers the whole "
                    "period."
                )
                % {"expires": _day(expires)},
                details,
            )
        ]
    if expires < facts.period_end:
        return [
            CheckOutcome(
                "ethics_approval",
                None,
                FAIL,
                _(
                    "The ethics approval expires on %(expires)s, before the requested "
                    "period ends on %(end)s."
                )
                % {"expires": _day(expires), "end": _day(facts.period_end)},
                details,
            )
        ]
    return [
        CheckOutcome(
            "ethics_approval",
            None,
            PASS,
            _(
                "Ethics approval %(reference)s by %(committee)s is valid until "
                "%(expires)s, for the whole requested period."
            )
            % {
                "reference": facts.ethics_reference,
                "committee": facts.ethics_committee,
                "expires": _day(expires),
            },
            details,
        )
    ]


def check_processing_location(facts: RequestFacts) -> list[CheckOutcome]:
    """Processing or a requester outside the EEA is flagged for review (GDPR Chapter V)."""
    countries = sorted({c.upper() for c in facts.processing_countries if c})
    outside = [c for c in countries if c not in EEA_COUNTRIES]
    organisation_outside = (facts.organisation_country or "").upper() not in EEA_COUNTRIES
    details = {
        "processing_outside_eea": facts.processing_outside_eea,
        "countries": countries,
        "outside_eea": outside,
        "organisation_country": facts.organisation_country,
    }
    reasons = []
    if facts.processing_outside_eea or outside:
        where = ", ".join(outside) if outside else _("a country not named")
        reasons.append(
            _("results will be processed outside the European Economic Area (%(where)s)")
            % {"where": where}
        )
    if organisation_outside:
        reasons.append(
            _("the requesting organisation is established outside the EEA (%(country)s)")
            % {"country": facts.organisation_country or "?"}
        )
    if reasons:
        text = "; ".join(reasons)
        return [
            CheckOutcome(
                "processing_location",
                None,
                NEEDS_REVIEW,
                text[:1].upper()
                + text[1:]
                + _(
                    ". A reviewer must confirm a transfer safeguard (adequacy "
                    "decision or appropriate safeguards, GDPR Art. 45–46)."
                ),
                details,
            )
        ]
    return [
        CheckOutcome(
            "processing_location",
            None,
            PASS,
            _("All processing stays within the European Economic Area."),
            details,
        )
    ]


CHECKS: tuple[Callable[[RequestFacts], list[CheckOutcome]], ...] = (
    check_duo_compatibility,
    check_cohort_size,
    check_organisation,
    check_ehds_purpose,
    check_ehds_prohibited_uses,
    check_gdpr_legal_basis,
    check_ethics_approval,
    check_processing_location,
)


def run_checks(facts: RequestFacts) -> list[CheckOutcome]:
    """Every check, in a fixed order (per-dataset ones in the order of ``facts.datasets``)."""
    outcomes: list[CheckOutcome] = []
    for check in CHECKS:
        outcomes.extend(check(facts))
    return outcomes


def overall_status(outcomes: Iterable[CheckOutcome]) -> Status:
    """``fail`` if any check fails, else ``needs_review`` if any needs review, else ``pass``."""
    statuses = {outcome.status for outcome in outcomes}
    if FAIL in statuses:
        return FAIL
    return NEEDS_REVIEW if NEEDS_REVIEW in statuses else PASS


# --------------------------------------------------------------------------------------------
# Building facts (reads the database)
# --------------------------------------------------------------------------------------------


def facts_cohort_counts(
    purpose: Purpose, datasets: Iterable[Any], *, at: dt.datetime | None = None
) -> dict[str, int | None]:
    """Consenting cohort size per dataset slug (``None`` when it cannot be computed).

    ``datasets`` are ``catalogue.models.Dataset`` rows. A purpose without a primary purpose
    (or otherwise unusable for a cohort) gives ``None``, which the cohort check sends to review.
    """
    from consent.cohort import cohort_for

    counts: dict[str, int | None] = {}
    for dataset in datasets:
        try:
            counts[dataset.slug] = cohort_for(dataset=dataset, purpose=purpose, at=at).count
        except matcher.MatcherInputError:
            counts[dataset.slug] = None
    return counts


def dataset_facts(
    purpose: Purpose, datasets: Iterable[Any], *, at: dt.datetime | None = None
) -> tuple[DatasetFacts, ...]:
    """``DatasetFacts`` for ``catalogue.models.Dataset`` rows, with their cohort counts."""
    datasets = list(datasets)
    counts = facts_cohort_counts(purpose, datasets, at=at)
    return tuple(
        DatasetFacts(
            slug=d.slug,
            conditions=dataset_conditions(d),
            contains_personal_data=d.contains_personal_data,
            min_cohort_size=d.min_cohort_size or DEFAULT_MIN_COHORT,
            cohort_count=counts[d.slug],
        )
        for d in datasets
    )


#: What people read as each check's name and outcome (CheckResult stores the codes).
CHECK_TITLES: dict[str, Any] = {
    "duo_compatibility": gettext_lazy("Data-use conditions (DUO)"),
    "cohort_size": gettext_lazy("Consenting participants"),
    "organisation": gettext_lazy("Requesting organisation"),
    "ehds_purpose": gettext_lazy("EHDS purpose"),
    "ehds_prohibited_uses": gettext_lazy("EHDS prohibited uses"),
    "gdpr_legal_basis": gettext_lazy("GDPR legal basis"),
    "ethics_approval": gettext_lazy("Ethics approval"),
    "processing_location": gettext_lazy("Where the data are processed"),
}
STATUS_LABELS: dict[str, Any] = {
    PASS: gettext_lazy("Passed"),
    FAIL: gettext_lazy("Failed"),
    NEEDS_REVIEW: gettext_lazy("Needs review"),
}
