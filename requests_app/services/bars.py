"""Bars: after a revoked permit, the holder may not ask for that dataset again until lifted."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from catalogue.models import Dataset
from catalogue.permissions import can_change_dataset
from lifes.errors import InvalidTransition, NotAllowed
from requests_app.errors import Code
from requests_app.models import AccessBar


def access_bar_set(*, actor: Any, user: Any, dataset: Dataset, reason: str) -> AccessBar:
    """Called by the permits app inside its revocation transaction."""
    with transaction.atomic():
        bar = AccessBar.objects.filter(user=user, dataset=dataset, lifted_at__isnull=True).first()
        if bar is None:
            bar = AccessBar.objects.create(
                user=user,
                dataset=dataset,
                reason=reason[:5000],
                created_at=timezone.now(),
                created_by=actor,
            )
            audit_record(
                actor=actor,
                action="access_bar.set",
                target=bar,
                payload={"user": user.email, "dataset": dataset.slug, "reason": reason},
            )
    return bar


def access_bar_lift(*, actor: Any, bar_id: int) -> AccessBar:
    with transaction.atomic():
        bar = (
            AccessBar.objects.select_for_update(of=("self",))
            .select_related("dataset", "user")
            .filter(pk=bar_id)
            .first()
        )
        if bar is None or not (can_change_dataset(actor, bar.dataset) or actor.is_staff):
            raise NotAllowed(_("Only the dataset's owner can lift a bar."))
        if bar.user_id == actor.pk:  # separation of duties: never one's own sanction
            raise NotAllowed(_("You cannot lift a bar on yourself."), code=Code.OWN_BAR)
        if bar.lifted_at is not None:
            raise InvalidTransition(_("This bar was already lifted."), code=Code.ALREADY_LIFTED)
        bar.lifted_at, bar.lifted_by = timezone.now(), actor
        bar.save(update_fields=["lifted_at", "lifted_by"])
        audit_record(
            actor=actor,
            action="access_bar.lift",
            target=bar,
            payload={"user": bar.user.email, "dataset": bar.dataset.slug},
        )
    return bar


def barred_datasets(user: Any, datasets: list[Dataset]) -> list[Dataset]:
    barred = set(
        AccessBar.objects.filter(
            user=user, dataset__in=datasets, lifted_at__isnull=True
        ).values_list("dataset_id", flat=True)
    )
    return [d for d in datasets if d.pk in barred]
