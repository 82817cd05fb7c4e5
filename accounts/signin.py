"""Hooks that django-axes calls (named in settings)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in attempt is about, as the login form sees it: emails are
    case-insensitive here, so ``Chair@…`` and ``chair@…`` count against the same account."""
    value = (credentials or {}).get("username") or request.POST.get("username") or ""
    return str(value).strip().lower()


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in attempt came from, for the lock on addresses.

    With ``TRUSTED_PROXY_COUNT`` = N trusted reverse proxies in front of the hub, each appends the
    address it received from to ``X-Forwarded-For``, so the client is the N-th address from the
    right of ``X-Forwarded-For`` + ``REMOTE_ADDR``; anything further left was written by the
    client and is not trusted. (Werkzeug's ProxyFix reads it the same way; django-ipware counts
    proxies differently and would take a client-written entry, so it is not used.)
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in forwarded if part] + [remote or ""]
    return chain[-(count + 1)] if len(chain) > count else remote


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The page a locked-out sign-in gets: what happened, for how long, and what to do (429)."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(
        request,
        "accounts/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )
