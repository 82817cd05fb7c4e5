"""Thin Celery tasks around consent services.

``consent_import_file_task`` imports a stored file off the request cycle (large uploads, files
dropped by an integration). Safe to run twice: an import of consents already recorded changes
nothing (identical consents are recognised by their content digest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import shared_task

import outbox
from accounts.models import User
from catalogue.models import Dataset
from consent.models import DatasetConsentState
from consent.services import ConsentImportRefused, consent_import
from consent.signals import consent_changed, dataset_conditions_changed


@shared_task(acks_late=True)
def consent_import_file_task(
    *, dataset_id: int, path: str, fmt: str = "auto", actor_id: int | None = None
) -> dict[str, Any]:
    """Import the file at ``path`` into the dataset; return the report (stored or refused)."""
    dataset = Dataset.objects.get(pk=dataset_id)
    actor = User.objects.get(pk=actor_id) if actor_id is not None else None
    try:
        report = consent_import(
            actor=actor,
            dataset=dataset,
            content=Path(path).read_bytes(),
            fmt=fmt,
            filename=Path(path).name,
        )
    except ConsentImportRefused as exc:
        return exc.report.as_json()
    return report.as_json()


@outbox.effect("consent.changed")
def consent_changed_send(*, dataset_id: int, version: int) -> None:
    """Tell the other apps after the commit. ``send`` (not ``send_robust``): a receiver that
    fails leaves the outbox row unacknowledged, so it runs again; receivers are idempotent."""
    consent_changed.send(sender=DatasetConsentState, dataset_id=dataset_id, version=version)


@outbox.effect("consent.conditions_changed")
def dataset_conditions_changed_send(*, dataset_id: int) -> None:
    dataset_conditions_changed.send(sender=Dataset, dataset_id=dataset_id)
