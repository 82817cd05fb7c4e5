"""Reads of permits, always scoped to who is asking (a person, a node, or the public)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from catalogue.models import Dataset, Node
from consent.cohort import Cohort, CohortChanged, cohort_for
from consent.matcher import MatcherInputError, Purpose
from lifes.errors import DomainError, NotFound
from permits.models import (
    ExecutionReceipt,
    Permit,
    PermitAlgorithm,
    PermitDataset,
    PermitStatus,
)
from requests_app.models import AccessRequest
from requests_app.selectors import requests_visible_to


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
    return _with_parts(Permit.objects.filter(request__in=requests_visible_to(user)))


def permit_get(*, user: Any, number: str) -> Permit:
    """404 alike for "does not exist" and "not yours"."""
    permit = permits_visible_to(user).select_related("holder").filter(number=number).first()
    if permit is None:
        raise NotFound("No such permit.")
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


def permit_purpose(permit: Permit) -> Purpose:
    """The purpose the permit was issued for, as the consent engine reads it."""
    return Purpose(
        codes=tuple(permit.purpose_codes),
        diseases=tuple(permit.purpose_diseases),
        commercial=permit.is_commercial,
        for_profit=permit.is_for_profit,
    )


# --- what a node reads -------------------------------------------------------------------------


def node_permits(node: Node) -> QuerySet[Permit]:
    """The permits addressed to ``node`` that it may use now (active, inside their window)."""
    now = timezone.now()
    return (
        _with_parts(
            Permit.objects.filter(
                status=PermitStatus.ACTIVE,
                valid_from__lte=now,
                valid_until__gt=now,
                permit_datasets__node_identifier=node.identifier,
            )
        )
        .distinct()
        .order_by("valid_until", "pk")
    )


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
        raise NotFound("No such permit for this node.", code="not_found")
    if (
        entry is None
        or entry.node_identifier != node.identifier
        or entry.dataset.node_id != node.pk
    ):
        raise NotFound("This permit gives this node no such dataset.", code="dataset_not_in_permit")
    if not permit.is_usable:
        raise NotFound(
            f"This permit is not active now ({permit.effective_status}).", code="permit_not_active"
        )
    dataset: Dataset = entry.dataset
    purpose = permit_purpose(permit)
    for _attempt in range(3):
        try:
            cohort = cohort_for(dataset=dataset, purpose=purpose)
            return permit, cohort, cohort.ids()
        except CohortChanged:
            continue
        except MatcherInputError as exc:
            raise DomainError(
                f"The permit's purpose cannot select a cohort: {exc}", code="purpose_unusable"
            ) from exc
    raise CohortBusy("Consent in this dataset keeps changing; try again shortly.")


class CohortBusy(DomainError):
    status_code = 503
    default_code = "cohort_changing"
