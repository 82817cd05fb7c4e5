"""Reads of permits, always scoped to who is asking (a person, a node, or the public)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.paginator import InvalidPage
from django.db.models import CharField, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent, AuditTreeHead
from audit.selectors import event_log_entry
from catalogue.models import Dataset, Node
from consent.cohort import Cohort, CohortChanged, cohort_materialised, cohort_stored_tag
from consent.matcher import MatcherInputError, Purpose
from lifes.conditional import etag_of
from lifes.errors import DomainError, NotFound
from lifes.pagination import BoundedPaginator
from permits.errors import Code
from permits.models import (
    ISSUE_EVENT,
    ExecutionReceipt,
    Permit,
    PermitAlgorithm,
    PermitDataset,
    PermitReport,
    PermitStatus,
    RunOutput,
)
from requests_app.models import AccessRequest
from requests_app.selectors import request_pks_visible_to
from requests_app.visibility import run_results_visible


def _with_parts(permits: QuerySet[Permit]) -> QuerySet[Permit]:
    return permits.select_related("request", "holder_organisation", "supersedes").prefetch_related(
        Prefetch(
            "permit_datasets",
            queryset=PermitDataset.objects.select_related("dataset").order_by("dataset__slug"),
        ),
        Prefetch("permit_algorithms", queryset=PermitAlgorithm.objects.order_by("name")),
    )


def permits_visible_to(user: Any) -> QuerySet[Permit]:
    """A permit is seen by whoever sees its request (requester, team, boards, owners via their
    object grants), and by auditors and staff."""
    requests = request_pks_visible_to(user)
    permits = (
        Permit.objects.all() if requests is None else Permit.objects.filter(request__in=requests)
    )
    return _with_parts(permits)


def permit_get(*, user: Any, number: str) -> Permit:
    """404 alike for "does not exist" and "not yours"."""
    permit = permits_visible_to(user).select_related("holder").filter(number=number).first()
    if permit is None:
        raise NotFound(_("No such permit."))
    return permit


def permits_of_request(*, user: Any, request: AccessRequest) -> QuerySet[Permit]:
    return permits_visible_to(user).filter(request=request).order_by("-issued_at", "-pk")


def receipts_of(permits: list[Permit] | QuerySet[Permit]) -> QuerySet[ExecutionReceipt]:
    return (
        ExecutionReceipt.objects.filter(permit__in=permits)
        .select_related("permit", "node")
        .order_by("-received_at", "-pk")
    )


def register_list(*, query: str = "") -> QuerySet[Permit]:
    """The public register (EHDS Art. 58): every permit ever issued, newest first."""
    permits = _with_parts(Permit.objects.all()).order_by("-issued_at", "-pk")
    if query:
        permits = permits.filter(
            Q(number__icontains=query)
            | Q(holder_organisation__name__icontains=query)
            | Q(datasets__slug__icontains=query)
            | Q(datasets__title__icontains=query)
        ).distinct()
    return permits


def register_entry_get(*, number: str) -> Permit:
    """One public register entry; 404 when there is no such permit."""
    permit = (
        register_list()
        .prefetch_related("permit_algorithms", "permit_datasets__dataset__hdab")
        .filter(number=number)
        .first()
    )
    if permit is None:
        raise NotFound(_("No such permit."))
    return permit


def permit_purpose(permit: Permit) -> Purpose:
    """The purpose the permit was issued for, as the consent engine reads it."""
    return Purpose(
        codes=tuple(permit.purpose_codes),
        diseases=tuple(permit.purpose_diseases),
        commercial=permit.is_commercial,
        for_profit=permit.is_for_profit,
    )


# --- what a node reads -------------------------------------------------------------------------


def log_entry_of(target: Any, action: str) -> dict[str, Any] | None:
    """The audit log entry (leaf index, inclusion proof, signed tree head) of the event
    ``action`` about ``target`` (a permit's ``permit.issue``, a receipt's ``receipt.record``),
    with its canonical bytes: the node it concerns may read it."""
    event = (
        AuditEvent.objects.filter(
            object_type=target._meta.label_lower, object_id=str(target.pk), action=action
        )
        .order_by("id")
        .first()
    )
    return None if event is None else event_log_entry(event, with_data=True)


def node_permits_unparted(node: Node) -> QuerySet[Permit]:
    """The permits addressed to ``node`` that it may use now (active, inside their window), in
    the order the node's list gives them, without their datasets and algorithms."""
    now = timezone.now()
    return Permit.objects.filter(
        status=PermitStatus.ACTIVE,
        valid_from__lte=now,
        valid_until__gt=now,
        # A semi-join, not a join + DISTINCT: DISTINCT over every selected column sorted
        # all 25,000 live permits on disk (350 ms at size) before the page's LIMIT.
        pk__in=PermitDataset.objects.filter(node_identifier=node.identifier).values("permit"),
    ).order_by("valid_until", "pk")


def node_permits(node: Node) -> QuerySet[Permit]:
    """``node_permits_unparted`` with the parts the node's list shows."""
    return _with_parts(node_permits_unparted(node))


def _cohort_key(permit: Permit) -> str:
    return f"permit:{permit.number}"


def _opt_out_cutoff(permit: Permit) -> dt.datetime:
    """An EHDS opt-out applies to permits issued after it: the permit's issue time is the
    cutoff. Permit times are whole seconds and the cohort at issue was computed within that
    second, so an opt-out recorded in it counts (fail closed)."""
    return permit.issued_at.replace(microsecond=999999)


def cohort_etag(digest: str, version: int) -> str:
    """The cohort's ``ETag``: its digest and its version, everything the body depends on
    besides the permit and dataset named in the URL (the ids and count follow the digest)."""
    return f'"{digest}.v{version}"'


def node_cohort_etag(*, node: Node, number: str, dataset_id: str) -> str | None:
    """The ``ETag`` of ``node_cohort``'s answer, in two small queries, when it is cheap to
    know: the permit is usable now and gives this node the dataset (one query), and the
    stored cohort is still the one ``node_cohort`` would serve (``cohort_stored_tag``: one
    query, no ids read). ``None`` whenever either is not so: a refusal, a first fetch, a
    consent change or a consent period boundary; then the caller asks ``node_cohort``, which
    says why or computes the cohort again, so a changed cohort never gets the old tag."""
    entry = (
        PermitDataset.objects.select_related("permit")
        .filter(
            permit__number=number,
            dataset__slug=dataset_id,
            node_identifier=node.identifier,
            dataset__node_id=node.pk,
        )
        .first()
    )
    if entry is None or not entry.permit.is_usable:
        return None
    permit = entry.permit
    try:
        stored = cohort_stored_tag(
            dataset_id=entry.dataset_id,
            purpose=permit_purpose(permit),
            key=_cohort_key(permit),
            opt_out_cutoff=_opt_out_cutoff(permit),
        )
    except MatcherInputError:
        return None
    return cohort_etag(*stored) if stored is not None else None


def node_cohort(*, node: Node, number: str, dataset_id: str) -> tuple[Permit, Cohort, list[str]]:
    """The current cohort of one dataset of a permit, for the node that holds it.

    404 unless the permit is active now, names this node, and the dataset is in it and held by
    this node (the code says which, so an operator can tell a revoked permit from a typo).
    """
    permit = Permit.objects.filter(number=number).first()
    entry = (
        PermitDataset.objects.select_related("dataset__node")
        .filter(permit=permit, dataset__slug=dataset_id)
        .first()
        if permit
        else None
    )
    is_addressed = (
        permit is not None
        and permit.permit_datasets.filter(node_identifier=node.identifier).exists()
    )
    if not is_addressed:
        raise NotFound(_("No such permit for this node."), code=Code.NOT_FOUND)
    if (
        entry is None
        or entry.node_identifier != node.identifier
        or entry.dataset.node_id != node.pk
    ):
        raise NotFound(
            _("This permit gives this node no such dataset."), code=Code.DATASET_NOT_IN_PERMIT
        )
    if not permit.is_usable:
        raise NotFound(
            _("This permit is not active now (%(status)s).") % {"status": permit.effective_status},
            code=Code.PERMIT_NOT_ACTIVE,
        )
    dataset: Dataset = entry.dataset
    purpose = permit_purpose(permit)
    for _attempt in range(3):
        try:
            # Computed once per permit and consent version, then served (consent.cohort).
            # A withdrawal changes the current consent, so it applies to every later run.
            cohort, ids = cohort_materialised(
                dataset=dataset,
                purpose=purpose,
                key=_cohort_key(permit),
                opt_out_cutoff=_opt_out_cutoff(permit),
            )
            return permit, cohort, ids
        except CohortChanged:
            continue
        except MatcherInputError as exc:
            raise DomainError(
                _("The permit's purpose cannot select a cohort: %(why)s") % {"why": exc},
                code=Code.PURPOSE_UNUSABLE,
            ) from exc
    raise CohortBusy(_("Consent in this dataset keeps changing; try again shortly."))


class CohortBusy(DomainError):
    status_code = 503
    default_code = "cohort_changing"


# --- results (EHDS Art. 61) ----------------------------------------------------------------------


@dataclass(frozen=True)
class PermitResults:
    """What the permit page shows of results: the publications (everyone who sees the permit),
    the due date and whether it has passed, the significant findings (the holder's side and
    staff only), and whether this person may record them."""

    publications: list[Any]
    findings: list[Any]
    due_on: Any
    is_overdue: bool
    can_record: bool
    can_read_findings: bool


def permit_results(*, user: Any, permit: Permit, roles: set[Any]) -> PermitResults:
    from permits.services.results import results_due_on, results_overdue
    from permits.workflow import PermitRole

    is_holder = PermitRole.HOLDER in roles
    can_read_findings = is_holder or bool(getattr(user, "is_staff", False))
    return PermitResults(
        publications=list(permit.publications.order_by("published_on", "pk")),
        findings=list(permit.findings.order_by("reported_at", "pk")) if can_read_findings else [],
        due_on=results_due_on(permit),
        is_overdue=results_overdue(permit),
        can_record=is_holder,
        can_read_findings=can_read_findings,
    )


def permits_results_overdue() -> list[Permit]:
    """Staff: ended permits whose results are past due with no publication recorded (the
    first 500 by end date)."""
    from permits.services.results import results_due_on

    ended = Permit.objects.exclude(status=PermitStatus.SUPERSEDED).filter(
        Q(valid_until__lte=timezone.now())
        | Q(status__in=[PermitStatus.REVOKED, PermitStatus.CLOSED])
    )
    ended = ended.exclude(publications__isnull=False).select_related(
        "holder_organisation", "request"
    )
    today = timezone.localdate()
    return [p for p in ended.order_by("valid_until", "pk")[:500] if results_due_on(p) < today]


# --- what a node's conditional polls depend on (ETags) -----------------------------------------


#: What can change of a permit on a node's list (the rest is fixed at issue).
_NODE_PAGE_FIELDS = (
    "pk",
    "status",
    "status_changed_at",
    "token_sha256",
    "valid_from",
    "valid_until",
)


def node_permits_etag(node: Node, query: str, *, page: Any, per_page: int) -> str | None:
    """The weak ``ETag`` of one page (``page``, ``per_page``; ``query``: the query string) of
    the node's permit list, from what that page's body is made of and without building it: the
    capped count and whether there is more (as ``lifes.pagination`` counts them), the page's
    permits with everything of them that can change (status, token digest, window) and whether
    their issue event is under a signed tree head yet (``log`` is null until then). Two
    queries, bounded by the page and the count cap, not by how many permits the node has.

    Weak (RFC 9110 8.8.1): a newer signed head changes the inclusion proofs a fresh answer
    would carry, not what they prove. A node holding a page whose proofs are against an older
    signed head still holds a valid proof of each permit's issue, so a head signed for others'
    events (every few seconds on a busy hub) does not make every poll download the list again.
    ``None`` for a page that does not exist (the list answers 404 and no tag)."""
    # Whether a signed head covers the permit's issue event, read with the page's rows.
    head = AuditTreeHead.objects.order_by("-tree_size").values("tree_size")[:1]
    issued = AuditEvent.objects.filter(
        object_type=Permit._meta.label_lower,
        object_id=Cast(OuterRef("pk"), CharField()),
        action=ISSUE_EVENT,
        seq__lte=Subquery(head),
    )
    rows = (
        node_permits_unparted(node)
        .annotate(logged=Exists(issued))
        .values_list(*_NODE_PAGE_FIELDS, "logged")
    )
    paginator = BoundedPaginator(rows, per_page)
    try:
        shown = paginator.page(page)
    except InvalidPage:
        return None
    return etag_of(
        "node-permits",
        node.identifier,
        query,
        paginator.count,
        paginator.count_exact,
        list(shown),
        shown.has_more,
        weak=True,
    )


def revocations_etag(token: str) -> str:
    """The revocation list's tag is its signed token's digest: every change to the list (a
    revocation, suspension, re-signing) is a new token, so a node never keeps an old list."""
    return etag_of("revocations", hashlib.sha256(token.encode("ascii")).hexdigest())


# --- run results -------------------------------------------------------------------------------


def run_outputs_of(*, user: Any, permit: Permit) -> QuerySet[RunOutput] | None:
    """The run results of ``permit`` for ``user`` (who already sees the permit), newest first;
    ``None`` for those the visibility rule does not let read them (``run_results``)."""
    if not run_results_visible(user, permit.request):
        return None
    return (
        RunOutput.objects.filter(receipt__permit=permit)
        .select_related("receipt", "receipt__node")
        .order_by("-uploaded_at", "-pk")
    )


def run_output_get(*, user: Any, number: str, output_id: int) -> RunOutput:
    """One run result; 404 alike for "no such file", "not this permit" and "not yours"."""
    outputs = run_outputs_of(user=user, permit=permit_get(user=user, number=number))
    output = outputs.filter(pk=output_id).first() if outputs is not None else None
    if output is None:
        raise NotFound(_("No such run result."))
    return output


def request_page_prefetches(user: Any) -> list[Prefetch]:
    """The request's permits, with their datasets and last 20 receipts (a window per permit,
    not all of them), read with the request by ``requests_app.selectors.request_get_for_page``
    (registered in ``permits.apps``) for ``{% request_permits %}``. They are the permits of a
    request the viewer may see, which is the rule of ``permits_visible_to``: no second
    visibility query."""
    return [
        Prefetch(
            "permits",
            queryset=Permit.objects.select_related("holder_organisation", "supersedes").order_by(
                "-issued_at", "-pk"
            ),
        ),
        Prefetch(
            "permits__permit_datasets",
            queryset=PermitDataset.objects.select_related("dataset").order_by("dataset__slug"),
        ),
        Prefetch(
            "permits__receipts",
            queryset=ExecutionReceipt.objects.select_related("node").order_by(
                "-received_at", "-pk"
            )[:20],
            to_attr="recent_receipts",
        ),
    ]


def permits_for_request_page(*, user: Any, request: AccessRequest) -> QuerySet[Permit]:
    """The request's permits as the request page shows them: with their datasets, without the
    algorithms the page does not show (one query fewer on the busiest page)."""
    return (
        permits_of_request(user=user, request=request)
        .prefetch_related(None)
        .prefetch_related(
            Prefetch(
                "permit_datasets",
                queryset=PermitDataset.objects.select_related("dataset").order_by("dataset__slug"),
            )
        )
    )


def reports_of(permit: Permit) -> dict[str, Any]:
    """The reports the permit owes and those filed: what its page shows."""
    from permits.services.reports import report_next, report_schedule

    filed = {
        (r.kind, r.due_on): r
        for r in PermitReport.objects.filter(permit=permit).select_related("filed_by")
    }
    return {
        "schedule": [
            {"kind": d.kind, "due_on": d.due_on, "report": filed.get((d.kind, d.due_on))}
            for d in report_schedule(permit)
        ],
        "next": report_next(permit),
    }


def reports_overdue() -> QuerySet[PermitReport]:
    """Reports past their due date and not filed, oldest first (staff follow them up)."""
    return (
        PermitReport.objects.filter(filed_at__isnull=True, due_on__lt=timezone.localdate())
        .select_related("permit", "permit__holder", "permit__holder_organisation")
        .order_by("due_on", "pk")
    )


def permit_terms(permit: Permit) -> list[Any]:
    """The data-use terms (``catalogue.DataUseTerms``) a permit names: the versions its team
    accepted, once active; while it awaits acceptance, the current versions it waits for."""
    from catalogue.models import DataUseTerms
    from requests_app.selectors import terms_status

    if not permit.terms:
        return terms_status(permit.request).terms
    wanted = {(t["dataset"], t["version"]) for t in permit.terms}
    rows = DataUseTerms.objects.select_related("dataset").filter(
        dataset__slug__in={d for d, _v in wanted}
    )
    return sorted(
        (t for t in rows if (t.dataset.slug, t.version) in wanted), key=lambda t: t.dataset.slug
    )


def log_entries_of(targets: Any, action: str) -> dict[Any, dict[str, Any] | None]:
    """``log_entry_of`` for a page of targets (by pk) in three queries, not three per row."""
    from audit.selectors import event_log_entries

    targets = list(targets)
    if not targets:
        return {}
    label = targets[0]._meta.label_lower
    first: dict[str, AuditEvent] = {}
    events = AuditEvent.objects.filter(
        object_type=label, object_id__in=[str(t.pk) for t in targets], action=action
    ).order_by("id")
    for event in events:
        first.setdefault(event.object_id, event)
    entries = event_log_entries(first.values(), with_data=True)
    return {t.pk: (entries[first[str(t.pk)].id] if str(t.pk) in first else None) for t in targets}
