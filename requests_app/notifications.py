"""Who is told what, and when: emails are queued to Celery only after the change committed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from requests_app.models import AccessRequest


def notify(
    *,
    template: str,
    request: AccessRequest,
    recipients: Iterable[str],
    context: dict[str, Any] | None = None,
) -> None:
    """Queue one email per recipient after commit. Rendering happens now, in the transaction,
    so the email states what was true at the time of the change."""
    from requests_app.tasks import send_email_task

    addresses = sorted({r.lower() for r in recipients if r})
    if not addresses:
        return
    ctx = {"request": request, "hub_url": settings.HUB_URL, **(context or {})}
    subject = render_to_string(f"requests/email/{template}_subject.txt", ctx).strip()
    body = render_to_string(f"requests/email/{template}.txt", ctx)
    for address in addresses:
        transaction.on_commit(
            lambda address=address: send_email_task.delay(subject, body, [address])
        )


def team_addresses(request: AccessRequest) -> list[str]:
    return [request.requester.email, *request.team.values_list("email", flat=True)]


def board_addresses(board: Any) -> list[str]:
    return list(board.memberships.values_list("user__email", flat=True))


def chair_addresses(board: Any) -> list[str]:
    return list(
        board.memberships.filter(role__in=["chair", "secretary"]).values_list(
            "user__email", flat=True
        )
    )


def owner_addresses(request: AccessRequest) -> list[str]:
    from accounts.models import User

    return list(
        User.objects.filter(stewarded_datasets__requested_in__request=request)
        .values_list("email", flat=True)
        .distinct()
    )
