"""Deciders must have passed their second factor before their session reaches anything.

django-otp's ``OTPMiddleware`` says whether this session was verified by a device; this one acts
on it for the people ``requires_two_factor`` names. Every page and API call they make by
session is covered (not a list of decider views that a new view could miss): pages redirect to
the second-factor step (or to its setup, the first time), API calls get 403 JSON. A request
that carries an API token is left to token authentication: tokens are minted only by a verified
session.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.selectors import second_factor_state


def _open_paths() -> tuple[str, ...]:
    """What an unverified decider may still reach: signing in and out, the second-factor pages,
    password reset, language switch, static files and health."""
    return (
        reverse("accounts:login"),
        reverse("accounts:logout"),
        reverse("accounts:two_factor_verify"),
        reverse("accounts:two_factor_setup"),
        reverse("accounts:two_factor_qr"),
        reverse("accounts:password_reset"),
        "/" + settings.STATIC_URL.lstrip("/"),
        "/i18n/",
        reverse("healthz"),
    )


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._open: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        # Required by role, or turned on by the person: either way it is asked every time.
        has_device, required = second_factor_state(user)  # one query for both
        if not (has_device or required):
            return None
        if self._open is None:
            self._open = _open_paths()
        if request.path.startswith(self._open):
            return None
        if request.path.startswith("/api/"):
            if "HTTP_AUTHORIZATION" in request.META:
                return None
            return JsonResponse(
                {
                    "detail": "Your role needs two-factor sign-in: confirm it in the browser "
                    "first, or use an API token.",
                    "code": "two_factor_required",
                },
                status=403,
            )
        step = "accounts:two_factor_verify" if has_device else "accounts:two_factor_setup"
        return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
