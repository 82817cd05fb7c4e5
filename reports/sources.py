"""What the reports read from the permits app, in one small place.

The permits app is younger than this one and still growing; reading it only through these
functions keeps the dossier and the certificate working (and easy to fix) while its API settles.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from lifes.errors import NotFound
from requests_app.models import AccessRequest

#: Names the permits app may give a register entry page, newest convention first.
_REGISTER_ENTRY_NAMES = (
    "permits:register_entry",
    "permits:register_detail",
    "permits:public_detail",
)


def permit_get(*, user: Any, number: str) -> Any:
    """The permit ``number`` if ``user`` may see it (whoever sees its request); 404 otherwise."""
    from permits.selectors import permit_get as _permit_get

    return _permit_get(user=user, number=number)


def permit_by_number(number: str) -> Any:
    from permits.models import Permit

    permit = (
        Permit.objects.select_related("request", "holder", "holder_organisation")
        .filter(number=number)
        .first()
    )
    if permit is None:
        raise NotFound("No such permit.")
    return permit


def permits_of_request(request: AccessRequest) -> list[Any]:
    from permits.models import Permit

    return list(
        Permit.objects.filter(request=request)
        .select_related("holder_organisation")
        .prefetch_related("permit_datasets__dataset", "permit_algorithms")
        .order_by("issued_at", "pk")
    )


def receipts_of(permits: list[Any]) -> list[Any]:
    from permits.models import ExecutionReceipt

    return list(
        ExecutionReceipt.objects.filter(permit__in=permits)
        .select_related("permit", "node")
        .order_by("received_at", "pk")
    )


def permit_model() -> Any:
    from permits.models import Permit

    return Permit


def receipt_model() -> Any:
    from permits.models import ExecutionReceipt

    return ExecutionReceipt


def token_fingerprint(permit: Any) -> str:
    """SHA-256 of the compact token, as the permit stores it (empty before signing)."""
    return getattr(permit, "token_sha256", "") or ""


def register_url(permit: Any) -> str:
    """The absolute URL of the permit's public register entry (EHDS Art. 58).

    Uses the permits app's entry page once it has one; until then the register searched for
    this number, which the contract (``GET /register/``) already promises.
    """
    for name in _REGISTER_ENTRY_NAMES:
        try:
            return settings.HUB_URL + reverse(name, args=[permit.number])
        except NoReverseMatch:
            continue
    return f"{settings.HUB_URL}/register/?{urlencode({'q': permit.number})}"
