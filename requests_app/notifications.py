"""Who is told what, and when: each email is an outbox row of the change's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

import outbox
from requests_app.models import AccessRequest


def notify(
    *,
    template: str,
    request: AccessRequest,
    recipients: Iterable[str],
    context: dict[str, Any] | None = None,
    templates: str = "requests/email",
    key: str | None = None,
) -> None:
    """The one way the hub emails people: one outbox row per recipient (sent after commit).
    Rendering happens now, in the transaction, so the email states what was true at the time
    of the change. Other apps pass their own ``templates`` folder (``permits/email``)."""
    addresses = sorted({r.lower() for r in recipients if r})
    if not addresses:
        return
    ctx = {"request": request, "hub_url": settings.HUB_URL, **(context or {})}
    subject = render_to_string(f"{templates}/{template}_subject.txt", ctx).strip()
    body = render_to_string(f"{templates}/{template}.txt", ctx)
    for address in addresses:
        outbox.add(
            "mail.send",
            key=key or f"request:{request.pk}",
            subject=subject,
            body=body,
            recipients=[address],
        )


def team_addresses(request: AccessRequest) -> list[str]:
    return [request.requester.email, *request.team.values_list("email", flat=True)]


def board_addresses(board: Any, request: AccessRequest) -> list[str]:
    """The board's members, less those on the request's own team: they are recused."""
    from accounts.models import User
    from requests_app.visibility import team_user_filter

    return list(
        User.objects.filter(board_memberships__board=board)
        .exclude(team_user_filter(request))
        .values_list("email", flat=True)
    )


def chair_addresses(board: Any, request: AccessRequest) -> list[str]:
    """Chairs and secretaries who may read the deliberation (``visibility``): news of a vote
    never reaches a recused chair or one on the request's team."""
    from accounts.models import User
    from requests_app.models import BoardMembership
    from requests_app.visibility import addresses_seeing_deliberation

    chairs = User.objects.filter(
        board_memberships__in=BoardMembership.objects.filter(board=board).chairs()
    ).order_by("pk")
    return addresses_seeing_deliberation(request, chairs)


def owner_addresses(request: AccessRequest) -> list[str]:
    from accounts.models import User

    return list(
        User.objects.filter(stewarded_datasets__requested_in__request=request)
        .values_list("email", flat=True)
        .distinct()
    )
