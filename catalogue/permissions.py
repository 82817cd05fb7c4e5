"""The one place that decides who may change a catalogue object (django-guardian grants)."""

from __future__ import annotations

from typing import Any

from accounts.selectors import is_person
from catalogue.models import Dataset


def can_change_dataset(user: Any, dataset: Dataset) -> bool:
    if not is_person(user):
        return False
    return user.is_superuser or user.has_perm("catalogue.change_dataset", dataset)
