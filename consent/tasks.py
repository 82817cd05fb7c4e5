"""Thin Celery tasks around consent services.

``consent_import_file_task`` imports a stored file off the request cycle (large uploads, files
dropped by an integration). Safe to run twice: an import of consents already recorded changes
nothing (identical consents are recognised by their content digest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import shared_task

from accounts.models import User
from catalogue.models import Dataset
from consent.services import ConsentImportRefused, consent_import


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
