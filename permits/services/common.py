"""What several permit services share: claims, the stale mark on the revocation list, emails."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

import outbox
from permits.models import Permit, RevocationList
from requests_app.notifications import notify, team_addresses

PERMIT_TYP = "lifes-permit+jwt"
REVOCATIONS_TYP = "lifes-revocations+jwt"


def timestamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def holder_subject(permit: Permit) -> str:
    """``sub`` of permits and visas: ``user:<pk>``. Stable for the life of the account and not
    personal data in itself, so a token passed around nodes does not spread an email address."""
    return f"user:{permit.holder_id}"


def permit_claims(permit: Permit) -> dict[str, Any]:
    """The claims of CONTRACTS.md ("Permits"), from the stored snapshot. ``permit.holder``,
    ``permit.supersedes`` and ``permit.conditions`` add to the contract; nothing is left out."""
    entries = list(permit.permit_datasets.select_related("dataset").order_by("dataset__slug"))
    organisation = permit.holder_organisation
    claims: dict[str, Any] = {
        "iss": settings.HUB_URL,
        "sub": holder_subject(permit),
        "aud": sorted({entry.node_identifier for entry in entries}),
        "jti": str(permit.jti),
        "iat": timestamp(permit.issued_at),
        "nbf": timestamp(permit.valid_from),
        "exp": timestamp(permit.valid_until),
        "permit": {
            "number": permit.number,
            "request": permit.request.reference,
            "holder": {"organisation": organisation.name, "ror": organisation.ror_id or None},
            "purpose": {
                "codes": list(permit.purpose_codes),
                "diseases": list(permit.purpose_diseases),
                "commercial": permit.is_commercial,
            },
            "datasets": [
                {
                    "id": e.dataset.slug,
                    "node": e.node_identifier,
                    "cohort_version": e.cohort_version,
                }
                for e in entries
            ],
            "algorithms": [
                {"name": a.name, "version": a.version, "digest": a.digest}
                for a in permit.permit_algorithms.order_by("name", "version")
            ],
            "outputs": {
                "aggregate_only": permit.is_aggregate_only,
                "min_cell_count": permit.min_cell_count,
            },
            "conditions": permit.conditions,
            "supersedes": permit.supersedes.number if permit.supersedes_id else None,
        },
    }
    if permit.terms:  # added (optional, last): the data-use terms every team member accepted
        claims["permit"]["terms"] = list(permit.terms)
    return claims


def revocations_changed() -> None:
    """Call inside the transaction of a change that alters the revocation list.

    The stale mark commits with the change, so even if the regeneration task queued below is
    not delivered yet, the endpoint sees the mark and signs a fresh list before serving it.
    """
    RevocationList.objects.filter(pk=1).update(is_stale=True)
    outbox.add("permits.revocation_list_publish", key="revocation-list")


def notify_team(permit: Permit, *, template: str, context: dict[str, Any] | None = None) -> None:
    """Email the requester and team, through the hub's one ``notify``."""
    notify(
        template=template,
        templates="permits/email",
        request=permit.request,
        recipients=team_addresses(permit.request),
        context={"permit": permit, **(context or {})},
        key=f"permit:{permit.pk}",
    )
