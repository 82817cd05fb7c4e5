"""The cohort: the participants of a dataset whose consent covers a research purpose.

Computed in the database as one query (EXISTS / NOT EXISTS over indexed provision rows), never
by looping over participants in Python, so it stays fast at a million participants per dataset.
The rules (which permit covers which purpose, which deny excludes it) are ``consent.rules``; the
DUO semantics are the matcher's. A participant is in the cohort at time *t* when:

- they have not opted out (EHDS Art. 71) at or before *t*;
- the consent that applied at *t* (the current one, or for a past *t* the one recorded before
  *t* and not yet superseded) is ``active`` and its period covers *t*;
- for every disease of a DS purpose (or once, for other purposes) a permit provision whose period
  covers *t* covers the purpose;
- no deny provision whose period covers *t* excludes it (deny overrides permit).

The digest is exactly ``"sha256:" + sha256("\\n".join(sorted(ids)).encode()).hexdigest()``, so a
node recomputes it from the ids it fetched. On PostgreSQL it is computed in SQL (``string_agg``
ordered ``COLLATE "C"``, which is code point order for UTF-8 like Python's ``sorted``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from catalogue.models import Dataset
from consent import vocabulary as vocab
from consent.matcher import Conditions, MatcherInputError, Purpose, validate
from consent.models import (
    ConsentProvision,
    ConsentRecord,
    ConsentStatus,
    DatasetConsentState,
    Decision,
    Participant,
)
from consent.rules import DENIALS_EXCLUDING, DS, PERMITS_COVERING, POA, POA_RESEARCH_TYPES

_VERSION_ATTEMPTS = 5


class CohortChanged(RuntimeError):
    """Consent changed between computing a cohort and reading its ids: compute it again."""


def digest_of(ids: Iterable[str]) -> str:
    """The cohort digest of CONTRACTS.md, from the pseudonymous ids (any order)."""
    return "sha256:" + hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


@dataclass(frozen=True)
class Cohort:
    """A computed cohort. ``ids()`` fetches the sorted pseudonymous ids when asked."""

    dataset_id: int
    purpose: Purpose
    at: dt.datetime
    count: int
    digest: str
    version: int
    _queryset: QuerySet = field(repr=False, compare=False)

    def ids(self) -> list[str]:
        """The sorted ids of this cohort (as of ``at``); ``CohortChanged`` if they moved since."""
        ids = sorted(self._queryset.values_list("pseudonym", flat=True).iterator(chunk_size=20000))
        if digest_of(ids) != self.digest:
            raise CohortChanged("consent changed since this cohort was computed")
        return ids


def check_purpose(purpose: Purpose) -> None:
    """A cohort needs a valid purpose with a primary code (GRU, HMB, DS or POA)."""
    errors = {
        path: messages
        for path, messages in validate(purpose, Conditions()).items()
        if path.startswith("purpose")
    }
    if not errors and purpose.primary is None:
        errors = {"purpose.codes": ["a cohort needs a primary purpose (GRU, HMB, DS or POA)"]}
    if errors:
        raise MatcherInputError(errors)


def _period(at: dt.datetime) -> Q:
    return (Q(period_start__isnull=True) | Q(period_start__lte=at)) & (
        Q(period_end__isnull=True) | Q(period_end__gt=at)
    )


def _overlapping_denied_diseases(dataset: Dataset, diseases: Iterable[str]) -> list[str]:
    """DS-denied diseases of this dataset that overlap a purpose disease (either direction).

    Ancestors of the purpose diseases come from MONDO; narrower denied diseases are found among
    the few distinct ones the dataset's consents actually deny (one index-only query).
    """
    diseases = list(diseases)
    overlapping: set[str] = set()
    for disease in diseases:
        overlapping |= vocab.mondo_ancestors(disease)
    denied = (
        ConsentProvision.objects.filter(dataset=dataset, decision=Decision.DENY, code=DS)
        .values_list("disease", flat=True)
        .distinct()
        .order_by()
    )
    for candidate in denied:
        if candidate in overlapping:
            continue
        try:
            ancestors = vocab.mondo_ancestors(candidate)
        except KeyError:
            overlapping.add(candidate)  # a term newer MONDO dropped: fail closed
            continue
        if any(disease in ancestors for disease in diseases):
            overlapping.add(candidate)
    return sorted(overlapping)


def cohort_queryset(
    *,
    dataset: Dataset,
    purpose: Purpose,
    at: dt.datetime | None = None,
) -> QuerySet[Participant]:
    """The participants in the cohort, as one query. ``at=None`` means now (current consents)."""
    return _cohort_queryset(dataset, purpose, at or timezone.now(), current_only=at is None)


def _cohort_queryset(
    dataset: Dataset, purpose: Purpose, now: dt.datetime, *, current_only: bool
) -> QuerySet[Participant]:
    """``current_only``: read the current consents (the fast path, a partial index) rather than
    the consent recorded before ``now`` and not superseded by then (history)."""
    check_purpose(purpose)
    primary = purpose.primary
    research_types = [c for c in purpose.codes if c != primary]

    provisions = ConsentProvision.objects.filter(consent=OuterRef("pk"), dataset=dataset)
    permits = provisions.filter(_period(now), decision=Decision.PERMIT)
    if purpose.commercial is not False:
        permits = permits.filter(is_non_commercial=False)
    if purpose.for_profit is not False:
        permits = permits.filter(is_not_for_profit=False)
    if primary == DS:
        permit_tests = [
            Exists(
                permits.filter(
                    Q(code__in=PERMITS_COVERING[DS])
                    | Q(code=DS, disease__in=sorted(vocab.mondo_ancestors(d)))
                )
            )
            for d in purpose.diseases
        ]
    else:
        permit_tests = [Exists(permits.filter(code__in=PERMITS_COVERING[primary]))]

    excluded = Q(code__in=sorted(DENIALS_EXCLUDING[primary] | set(research_types)))
    if POA_RESEARCH_TYPES & set(research_types):
        excluded |= Q(code=POA)
    if primary == DS:
        excluded |= Q(code=DS, disease__in=_overlapping_denied_diseases(dataset, purpose.diseases))
    denied = Exists(provisions.filter(_period(now), excluded, decision=Decision.DENY))

    consents = ConsentRecord.objects.filter(
        participant=OuterRef("pk"), dataset=dataset, status=ConsentStatus.ACTIVE
    ).filter(_period(now))
    if current_only:
        consents = consents.filter(is_current=True)
    else:
        consents = consents.filter(
            Q(superseded_at__isnull=True) | Q(superseded_at__gt=now), recorded_at__lte=now
        )
    consents = consents.filter(*permit_tests).filter(~denied)
    return (
        Participant.objects.filter(dataset=dataset)
        .filter(Q(opted_out_at__isnull=True) | Q(opted_out_at__gt=now))
        .filter(Exists(consents))
        .order_by()
    )


def _count_and_digest(queryset: QuerySet[Participant]) -> tuple[int, str]:
    if connection.vendor == "postgresql":
        sql, params = queryset.values_list("pseudonym").query.sql_with_params()
        # The inner SQL is the ORM's own query, executed with its own params.
        aggregate = (
            "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg(c.pseudonym, "  # noqa: S608
            "E'\\n' ORDER BY c.pseudonym COLLATE \"C\"), ''), 'UTF8')), 'hex') "
            f"FROM ({sql}) AS c"
        )
        with connection.cursor() as cursor:
            cursor.execute(aggregate, params)
            count, hexdigest = cursor.fetchone()
        return count, "sha256:" + hexdigest
    ids = list(queryset.values_list("pseudonym", flat=True).iterator(chunk_size=20000))
    return len(ids), digest_of(ids)


def cohort_version(dataset: Dataset | int) -> int:
    dataset_id = dataset if isinstance(dataset, int) else dataset.pk
    state = DatasetConsentState.objects.filter(pk=dataset_id).values_list("version", flat=True)
    return next(iter(state), 0)


def cohort_for(*, dataset: Dataset, purpose: Purpose, at: dt.datetime | None = None) -> Cohort:
    """The cohort of ``dataset`` for ``purpose`` now (or at ``at``), with its version.

    The version is read before and after the query; if a consent change committed in between,
    the cohort is computed again, so count, digest and version always belong together.
    ``MatcherInputError`` when the purpose is not usable (no primary purpose, unknown code).
    """
    check_purpose(purpose)
    for _attempt in range(_VERSION_ATTEMPTS):
        before = cohort_version(dataset)
        now = at or timezone.now()
        queryset = _cohort_queryset(dataset, purpose, now, current_only=at is None)
        count, digest = _count_and_digest(queryset)
        if cohort_version(dataset) == before:
            break
    else:
        raise CohortChanged("consent keeps changing; try again")
    return Cohort(
        dataset_id=dataset.pk,
        purpose=purpose,
        at=now,
        count=count,
        digest=digest,
        version=before,
        _queryset=_cohort_queryset(dataset, purpose, now, current_only=False),
    )
