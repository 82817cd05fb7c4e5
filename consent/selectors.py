"""Reads of participant consent, scoped to the caller, and the public cohort API.

``cohort_for`` is for other apps (permits, requests): it reads no user and applies no visibility
because its caller has already decided that the cohort may be computed (a permit being issued,
a node that holds a permit asking before a run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from catalogue.models import Dataset
from consent.cohort import Cohort, CohortChanged, cohort_for, cohort_version, digest_of
from consent.errors import Code
from consent.models import ConsentProvision, ConsentRecord, ConsentSource, Participant
from consent.permissions import can_manage_consent, can_read_consent
from lifes.errors import NotAllowed, NotFound

__all__ = [
    "Cohort",
    "CohortChanged",
    "ConsentSummary",
    "cohort_for",
    "cohort_version",
    "consent_dataset_get",
    "consent_datasets_for",
    "dataset_consent_summary",
    "digest_of",
    "participant_get",
]


def consent_datasets_for(user: Any) -> QuerySet[Dataset]:
    """The datasets whose consent pages ``user`` may open (stewarded; all for staff/auditors)."""
    if user is None or not user.is_authenticated or getattr(user, "is_machine", False):
        return Dataset.objects.none()
    if user.is_staff or user.is_superuser or user.is_auditor:
        return Dataset.objects.select_related("owner").order_by("title")
    stewarded = get_objects_for_user(
        user, "catalogue.change_dataset", klass=Dataset, accept_global_perms=False
    )
    return (
        Dataset.objects.filter(pk__in=stewarded.values("pk"))
        .select_related("owner")
        .order_by("title")
    )


def consent_dataset_get(*, user: Any, slug: str, for_change: bool = False) -> Dataset:
    """The dataset, if ``user`` may read its consent; 404 alike for missing and not yours.

    ``for_change``: auditors (who may read) get ``NotAllowed`` instead of the dataset.
    """
    dataset = Dataset.objects.select_related("owner", "node").filter(slug=slug).first()
    if dataset is None or not can_read_consent(user, dataset):
        raise NotFound(_("No such dataset."), code=Code.NOT_FOUND)
    if for_change and not can_manage_consent(user, dataset):
        raise NotAllowed(
            _("Auditors can read consent records but not change them."), code=Code.PERMISSION_DENIED
        )
    return dataset


def participant_get(*, user: Any, dataset: Dataset, pseudonym: str) -> Participant:
    """A participant with their whole consent history (newest first) and its provisions."""
    if not can_read_consent(user, dataset):
        raise NotFound(_("No such dataset."), code=Code.NOT_FOUND)
    history = (
        ConsentRecord.objects.select_related("recorded_by")
        .prefetch_related(
            Prefetch(
                "provisions",
                queryset=ConsentProvision.objects.order_by("decision", "code", "disease"),
            )
        )
        .order_by("-recorded_at", "-pk")
    )
    participant = (
        Participant.objects.filter(dataset=dataset, pseudonym=pseudonym)
        .prefetch_related(Prefetch("consents", queryset=history))
        .first()
    )
    if participant is None:
        raise NotFound(
            _("No participant with this pseudonymous id in this dataset."), code=Code.NOT_FOUND
        )
    return participant


@dataclass(frozen=True)
class ConsentSummary:
    participants: int
    active: int
    withdrawn: int
    opted_out: int
    version: int


def dataset_consent_summary(dataset: Dataset) -> ConsentSummary:
    """Counts for the steward's overview (current consents; a few indexed aggregates)."""
    now = timezone.now()
    people = Participant.objects.filter(dataset=dataset).aggregate(
        total=Count("pk"), opted_out=Count("pk", filter=Q(opted_out_at__lte=now))
    )
    current = ConsentRecord.objects.filter(dataset=dataset, is_current=True).aggregate(
        active=Count("pk", filter=Q(status="active")),
        withdrawn=Count("pk", filter=Q(source=ConsentSource.WITHDRAWAL)),
    )
    return ConsentSummary(
        participants=people["total"],
        active=current["active"],
        withdrawn=current["withdrawn"],
        opted_out=people["opted_out"],
        version=cohort_version(dataset),
    )
