"""The signed revocation list: built from the permits, cached as one row, served from the cache.

Nodes fail closed on a list past its ``exp`` or older than their allowed age, so the list is
re-signed on a schedule (beat), at once after every change (on commit), and by the endpoint
itself when the cached one is stale or past half its lifetime.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from permits import keys
from permits.models import LISTED_STATUSES, Permit, RevocationList
from permits.services.common import REVOCATIONS_TYP, timestamp

#: A listed permit stays on the list this long after its own expiry (nodes allow clock leeway;
#: after that they refuse the permit as expired anyway).
LISTING_GRACE = dt.timedelta(days=1)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def revocation_entries(now: dt.datetime) -> list[dict[str, Any]]:
    """``[{"jti", "revoked_at", "reason"}]``. The reason is the status (``revoked``,
    ``suspended``, ``superseded``), never the free text a steward wrote: the list is public."""
    permits = (
        Permit.objects.filter(status__in=LISTED_STATUSES, valid_until__gt=now - LISTING_GRACE)
        .order_by("status_changed_at", "pk")
        .values_list("jti", "status_changed_at", "status")
    )
    return [
        {"jti": str(jti), "revoked_at": _iso(changed_at or now), "reason": status}
        for jti, changed_at, status in permits
    ]


def revocation_list_publish() -> RevocationList:
    """Sign the current list and store it. The cached row is locked before the permits are read,
    so a slower, older run can never overwrite a newer list with a stale one."""
    keys.active_key()  # a first key is created under the chain lock: outside our row lock
    with transaction.atomic():
        if not RevocationList.objects.filter(pk=1).exists():
            try:
                with transaction.atomic():
                    RevocationList.objects.create(pk=1)
            except IntegrityError:
                pass  # created by a concurrent run; the lock below waits for it
        row = RevocationList.objects.select_for_update().get(pk=1)
        now = timezone.now().replace(microsecond=0)
        entries = revocation_entries(now)
        expires_at = now + dt.timedelta(seconds=settings.PERMIT_REVOCATION_LIST_TTL)
        row.token = keys.sign_jws(
            {
                "iss": settings.HUB_URL,
                "iat": timestamp(now),
                "exp": timestamp(expires_at),
                "revoked": entries,
            },
            typ=REVOCATIONS_TYP,
        )
        row.issued_at, row.expires_at = now, expires_at
        row.entries, row.is_stale = len(entries), False
        row.save()
    return row


def revocation_list_current() -> RevocationList:
    """The list to serve: the cached one unless it is stale, missing, or past half its life."""
    row = RevocationList.objects.filter(pk=1).first()
    half_life = dt.timedelta(seconds=settings.PERMIT_REVOCATION_LIST_TTL / 2)
    if (
        row is None
        or row.is_stale
        or not row.token
        or row.issued_at is None
        or row.issued_at <= timezone.now() - half_life
    ):
        row = revocation_list_publish()
    return row
