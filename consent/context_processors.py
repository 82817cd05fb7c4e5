"""The navigation's "Consent" link: shown to the people consent/views.dataset_list admits."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from consent.selectors import consent_datasets_for


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    # Lazy: the query runs only when a template draws the navigation (not for API responses).
    return {"nav_has_consent": SimpleLazyObject(lambda: consent_datasets_for(user).exists())}
