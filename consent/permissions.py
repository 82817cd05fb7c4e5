"""The one place that decides who may read and change participant consent of a dataset.

Stewards (guardian ``catalogue.change_dataset`` on the dataset) and hub staff manage consent;
auditors read it; nobody else learns that it exists (selectors answer 404).
"""

from __future__ import annotations

from typing import Any

from catalogue.models import Dataset
from catalogue.permissions import can_change_dataset


def can_manage_consent(user: Any, dataset: Dataset) -> bool:
    if user is None or not user.is_authenticated or getattr(user, "is_machine", False):
        return False
    return bool(user.is_staff) or can_change_dataset(user, dataset)


def can_read_consent(user: Any, dataset: Dataset) -> bool:
    if user is None or not user.is_authenticated or getattr(user, "is_machine", False):
        return False
    return can_manage_consent(user, dataset) or bool(user.is_auditor or user.is_superuser)
