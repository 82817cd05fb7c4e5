"""What the base layout needs to draw the navigation for the signed-in person's roles."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from audit.selectors import can_read_log


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    return {
        "oidc_enabled": settings.OIDC_ENABLED,
        "oidc_provider_name": settings.OIDC_PROVIDER_NAME,
        "nav_is_auditor": bool(user and can_read_log(user)),
    }
