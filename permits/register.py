"""Reads of the public register (EHDS Art. 57/58): every permit and every refusal, published a
set number of working days after the decision, with no personal data.

One list of two kinds of rows (``Permit`` and rejected ``AccessRequest``) ordered by the
decision time: the two querysets are narrowed alike (search, filters, publication cutoff, the
keyset cursor), united on ``(decided, kind, id)``, ordered and cut to a page in the database;
then the page's rows are loaded with their parts. The cursor is keyset, not offset, so a page
costs the same at row 10 and at row 100,000 and entries published meanwhile never shift it.

What is published is decided here and only here (``RegisterEntry``): the HTML pages and the
API render these objects, never the models, so no person's name, e-mail or ORCID iD (the
requester, the team, the principal investigator, whoever decided) can reach the register.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import vocabulary
from lifes.errors import InvalidInput, NotFound
from lifes_node.keys import b64url_decode, b64url_encode
from permits.errors import Code
from permits.models import LIVE_STATUSES, Permit, PermitDataset, PermitStatus, ResultPublication
from requests_app.models import (
    AccessRequest,
    OwnerDecision,
    RequestedDataset,
    RequestState,
    ReviewStage,
    StageState,
)

PERMIT, REFUSAL = "permit", "refusal"
KINDS = (PERMIT, REFUSAL)
#: The status a refusal carries on the register.
REFUSED = "refused"


def register_statuses() -> list[tuple[str, str]]:
    """The statuses an entry can have (the status filter's choices), derived from the model."""
    return [*PermitStatus.choices, (REFUSED, _("Refused"))]


# --- publication --------------------------------------------------------------------------------


def working_days_before(moment: dt.datetime, days: int) -> dt.datetime:
    """``moment`` less ``days`` working days (Monday to Friday; public holidays are not known to
    the hub, so they count as working days and publication is never later than the setting)."""
    cutoff = moment
    remaining = days
    while remaining > 0:
        cutoff -= dt.timedelta(days=1)
        if cutoff.weekday() < 5:
            remaining -= 1
    return cutoff


def publication_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Decisions taken at or before this moment are on the register."""
    return working_days_before(
        timezone.localtime(now or timezone.now()), settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS
    )


# --- what is published --------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterDataset:
    id: str
    title: str
    persistent_identifier: str


@dataclass(frozen=True)
class RegisterResult:
    title: str
    doi: str
    url: str
    link: str
    published_on: dt.date


@dataclass(frozen=True)
class RegisterEntry:
    """One published row. Everything here is public; nothing here names a person."""

    kind: str
    key: str  # the permit number or the request reference
    title: str
    lay_summary: str
    status: str
    status_label: str
    decided_at: dt.datetime
    holder_organisation: str
    holder_organisation_ror: str
    datasets: list[RegisterDataset]
    purpose_codes: list[str]
    purpose_diseases: list[str]
    is_commercial: bool
    purpose_words: list[str]
    justification: str = ""
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    results: list[RegisterResult] = field(default_factory=list)
    permit: Permit | None = None  # for the ODRL agreement of the entry page only

    @property
    def is_permit(self) -> bool:
        return self.kind == PERMIT

    @property
    def number(self) -> str:
        return self.key if self.is_permit else ""

    @property
    def reference(self) -> str:
        return "" if self.is_permit else self.key

    @property
    def issued_at(self) -> dt.datetime | None:
        return self.decided_at if self.is_permit else None


def purpose_in_words(codes: list[str], diseases: list[str], *, is_commercial: bool) -> list[str]:
    """The purpose as people read it: DUO labels (through the translation catalogue, so the
    Dutch UI shows Dutch labels where the catalogue has them) and MONDO labels, not codes."""
    words = []
    for code in codes:
        try:
            label = vocabulary.duo_term(code).label
        except KeyError:
            label = code
        words.append(_(label))
    for disease in diseases:
        try:
            words.append(vocabulary.mondo_label(disease))
        except KeyError:
            words.append(disease)
    if is_commercial:
        words.append(_("commercial"))
    return words


def _request_purpose(request: AccessRequest) -> tuple[list[str], list[str]]:
    codes = [c for c in [request.purpose_code, *(request.research_types or [])] if c]
    return codes, list(request.purpose_diseases or [])


def refusal_justification(request: AccessRequest) -> str:
    """The reasons as recorded: the note of the board that rejected the request, or each
    owner's reason for refusing their dataset (when every owner refused). Prefetched parts
    (``register_stages``, ``register_refused``) are used when present."""
    stages = getattr(request, "register_stages", None)
    if stages is None:
        stages = list(
            request.stages.filter(state=StageState.REJECTED)
            .select_related("board")
            .order_by("-round", "-order")
        )
    if stages:
        stage = stages[0]
        note = stage.decision_note.strip()
        return note or _("Rejected by %(board)s.") % {"board": stage.board.name}
    refused = getattr(request, "register_refused", None)
    if refused is None:
        refused = list(
            request.requested_datasets.filter(decision=OwnerDecision.REFUSED).select_related(
                "dataset"
            )
        )
    reasons = [f"{item.dataset.title}: {item.reason.strip()}" for item in refused if item.reason]
    return "\n".join(reasons)


def _permit_entry(permit: Permit) -> RegisterEntry:
    request = permit.request
    return RegisterEntry(
        kind=PERMIT,
        key=permit.number,
        title=request.title,
        lay_summary=request.lay_summary,
        status=permit.effective_status,
        status_label=str(permit.get_shown_status_display()),  # "not yet valid" for people
        decided_at=permit.issued_at,
        holder_organisation=permit.holder_organisation.name,
        holder_organisation_ror=permit.holder_organisation.ror_id,
        datasets=[
            RegisterDataset(
                id=entry.dataset.slug,
                title=entry.dataset.title,
                persistent_identifier=entry.dataset.persistent_identifier,
            )
            for entry in permit.permit_datasets.all()
        ],
        purpose_codes=list(permit.purpose_codes),
        purpose_diseases=list(permit.purpose_diseases),
        is_commercial=permit.is_commercial,
        purpose_words=purpose_in_words(
            permit.purpose_codes, permit.purpose_diseases, is_commercial=permit.is_commercial
        ),
        valid_from=permit.valid_from,
        valid_until=permit.valid_until,
        results=[
            RegisterResult(
                title=r.title, doi=r.doi, url=r.url, link=r.link, published_on=r.published_on
            )
            for r in permit.publications.all()
        ],
        permit=permit,
    )


def _refusal_entry(request: AccessRequest) -> RegisterEntry:
    codes, diseases = _request_purpose(request)
    return RegisterEntry(
        kind=REFUSAL,
        key=request.reference,
        title=request.title,
        lay_summary=request.lay_summary,
        status=REFUSED,
        status_label=_("Refused"),
        decided_at=request.decided_at,
        holder_organisation=request.organisation.name,
        holder_organisation_ror=request.organisation.ror_id,
        datasets=[
            RegisterDataset(
                id=item.dataset.slug,
                title=item.dataset.title,
                persistent_identifier=item.dataset.persistent_identifier,
            )
            for item in request.requested_datasets.all()
        ],
        purpose_codes=codes,
        purpose_diseases=diseases,
        is_commercial=request.is_commercial,
        purpose_words=purpose_in_words(codes, diseases, is_commercial=request.is_commercial),
        justification=refusal_justification(request),
    )


# --- the two querysets --------------------------------------------------------------------------


def _permits(*, cutoff: dt.datetime) -> QuerySet[Permit]:
    return Permit.objects.filter(issued_at__lte=cutoff)


def _refusals(*, cutoff: dt.datetime) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.filter(
        state=RequestState.REJECTED, decided_at__isnull=False, decided_at__lte=cutoff
    )


def _permit_status_q(status: str, now: dt.datetime) -> Q:
    """The stored status as the register shows it (``Permit.effective_status``)."""
    live_expired = Q(status__in=LIVE_STATUSES, valid_until__lte=now)
    if status == PermitStatus.EXPIRED:
        return Q(status=PermitStatus.EXPIRED) | live_expired
    if status in LIVE_STATUSES:
        return Q(status=status) & ~live_expired
    return Q(status=status)


def _search_permits(permits: QuerySet[Permit], query: str) -> QuerySet[Permit]:
    matching = Permit.objects.filter(
        Q(number__icontains=query)
        | Q(request__title__icontains=query)
        | Q(request__lay_summary__icontains=query)
        | Q(holder_organisation__name__icontains=query)
        | Q(datasets__slug__icontains=query)
        | Q(datasets__title__icontains=query)
    )
    return permits.filter(pk__in=matching.values("pk"))


def _search_refusals(requests: QuerySet[AccessRequest], query: str) -> QuerySet[AccessRequest]:
    matching = AccessRequest.objects.filter(
        Q(reference__icontains=query)
        | Q(title__icontains=query)
        | Q(lay_summary__icontains=query)
        | Q(organisation__name__icontains=query)
        | Q(datasets__slug__icontains=query)
        | Q(datasets__title__icontains=query)
    )
    return requests.filter(pk__in=matching.values("pk"))


# --- the cursor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """The last row of the previous page: rows come newest decision first, then permits before
    refusals, then by id descending."""

    decided: dt.datetime
    kind: str
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.decided.isoformat(), self.kind, self.id], separators=(",", ":"))
        return b64url_encode(raw.encode())

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            decided, kind, pk = json.loads(b64url_decode(text))
            moment = dt.datetime.fromisoformat(decided)
            if kind not in KINDS or not isinstance(pk, int) or moment.tzinfo is None:
                raise ValueError(kind)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                _("That page link is not valid; start from the first page."),
                code=Code.INVALID_CURSOR,
                errors={"cursor": [_("Not a valid cursor.")]},
            ) from exc
        return cls(decided=moment, kind=kind, id=pk)


def _after(cursor: Cursor | None, kind: str, decided: str) -> Q:
    """Rows of ``kind`` that come after ``cursor`` in the order (decided desc, kind, id desc)."""
    if cursor is None:
        return Q()
    if kind > cursor.kind:
        return Q(**{f"{decided}__lte": cursor.decided})
    if kind < cursor.kind:
        return Q(**{f"{decided}__lt": cursor.decided})
    return Q(**{f"{decided}__lt": cursor.decided}) | Q(
        **{decided: cursor.decided, "pk__lt": cursor.id}
    )


@dataclass(frozen=True)
class RegisterPage:
    entries: list[RegisterEntry]
    next_cursor: str | None


def register_page(
    *,
    query: str = "",
    kind: str = "",
    status: str = "",
    cursor: str = "",
    size: int | None = None,
    now: dt.datetime | None = None,
) -> RegisterPage:
    """One page of the public register, newest decision first."""
    now = now or timezone.now()
    size = size or settings.REGISTER_PAGE_SIZE
    after = Cursor.decode(cursor) if cursor else None
    cutoff = publication_cutoff(now)
    permits = _permits(cutoff=cutoff)
    refusals = _refusals(cutoff=cutoff)
    if query:
        permits, refusals = _search_permits(permits, query), _search_refusals(refusals, query)
    if status:
        permits = permits.filter(_permit_status_q(status, now)) if status != REFUSED else None
        refusals = refusals if status == REFUSED else None
    if kind == PERMIT:
        refusals = None
    elif kind == REFUSAL:
        permits = None
    # Each kind is read in the register's order, at most a page and one more row each (an
    # index range: permit_recent_first, request_refusals_recent), and the two are merged
    # here. A UNION ordered as a whole made the database sort every published refusal and
    # permit for each page (11,800 rows at the size of a national body).
    parts = []
    if permits is not None:
        parts.append(
            _page_keys(
                permits.filter(_after(after, PERMIT, "issued_at")), PERMIT, "issued_at", size
            )
        )
    if refusals is not None:
        parts.append(
            _page_keys(
                refusals.filter(_after(after, REFUSAL, "decided_at")), REFUSAL, "decided_at", size
            )
        )
    rank = {name: -position for position, name in enumerate(sorted(KINDS))}  # kind ascending
    merged = heapq.merge(*parts, key=lambda row: (row[0], rank[row[1]], row[2]), reverse=True)
    rows = list(itertools.islice(merged, size + 1))
    has_more = len(rows) > size
    rows = rows[:size]
    entries = _load(rows)
    next_cursor = None
    if has_more and rows:
        decided, kind_, pk = rows[-1]
        next_cursor = Cursor(decided=decided, kind=kind_, id=pk).encode()
    return RegisterPage(entries=entries, next_cursor=next_cursor)


def _page_keys(rows: QuerySet, kind: str, decided: str, size: int) -> list[tuple[Any, str, int]]:
    """(decided, kind, id) of the first ``size + 1`` rows of one kind in the register's order
    (newest decision first, then id descending)."""
    keys = rows.order_by(f"-{decided}", "-pk").values_list(decided, "pk")[: size + 1]
    return [(moment, kind, pk) for moment, pk in keys]


def _permits_with_parts(permits: QuerySet[Permit]) -> QuerySet[Permit]:
    return permits.select_related("request", "holder_organisation").prefetch_related(
        Prefetch(
            "permit_datasets",
            queryset=PermitDataset.objects.select_related("dataset").order_by("dataset__slug"),
        ),
        Prefetch("publications", queryset=ResultPublication.objects.order_by("published_on", "pk")),
    )


def _refusals_with_parts(requests: QuerySet[AccessRequest]) -> QuerySet[AccessRequest]:
    return requests.select_related("organisation").prefetch_related(
        Prefetch(
            "requested_datasets",
            queryset=RequestedDataset.objects.select_related("dataset").order_by("dataset__slug"),
        ),
        Prefetch(
            "stages",
            queryset=ReviewStage.objects.filter(state=StageState.REJECTED)
            .select_related("board")
            .order_by("-round", "-order"),
            to_attr="register_stages",
        ),
        Prefetch(
            "requested_datasets",
            queryset=RequestedDataset.objects.filter(decision=OwnerDecision.REFUSED)
            .select_related("dataset")
            .order_by("dataset__slug"),
            to_attr="register_refused",
        ),
    )


def _load(rows: list[tuple[Any, str, int]]) -> list[RegisterEntry]:
    permit_ids = [pk for _d, kind, pk in rows if kind == PERMIT]
    refusal_ids = [pk for _d, kind, pk in rows if kind == REFUSAL]
    permits = {p.pk: p for p in _permits_with_parts(Permit.objects.filter(pk__in=permit_ids))}
    refusals = {
        r.pk: r for r in _refusals_with_parts(AccessRequest.objects.filter(pk__in=refusal_ids))
    }
    return [
        _permit_entry(permits[pk]) if kind == PERMIT else _refusal_entry(refusals[pk])
        for _d, kind, pk in rows
    ]


def register_entry(*, key: str, now: dt.datetime | None = None) -> RegisterEntry:
    """One published entry by permit number or request reference; 404 alike for "no such
    entry" and "not published (yet)"."""
    cutoff = publication_cutoff(now)
    permit = _permits_with_parts(_permits(cutoff=cutoff).filter(number=key)).first()
    if permit is not None:
        return _permit_entry(permit)
    refusal = _refusals_with_parts(_refusals(cutoff=cutoff).filter(reference=key)).first()
    if refusal is not None:
        return _refusal_entry(refusal)
    raise NotFound(_("No such entry in the register."))
