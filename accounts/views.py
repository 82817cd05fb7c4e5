"""Sign-in, two-factor, profile and API tokens (HTML). Writes go through accounts.services."""

from __future__ import annotations

import base64
import io
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.qr import write_qrcode_image
from django_ratelimit.core import is_ratelimited

from accounts.forms import EmailAuthenticationForm, OneTimeCodeForm, ProfileForm, TokenScopeForm
from accounts.selectors import (
    has_authenticator,
    primary_organisation,
    recovery_codes_left,
    requires_two_factor,
    tokens_of,
)
from accounts.services import (
    api_token_create,
    api_token_revoke,
    api_tokens_revoke_after_password_change,
    profile_update,
    recovery_codes_issue,
    totp_device_confirm,
    totp_device_start,
    two_factor_match,
)
from lifes.errors import DomainError


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """At most ``PASSWORD_RESET_RATE`` reset mails per client address and per email address
    asked for, so the form can be used neither to flood someone's inbox nor to probe at speed."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        rate = settings.PASSWORD_RESET_RATE
        email = request.POST.get("email", "").strip().lower()
        limited = is_ratelimited(
            request, group="password_reset_ip", key="ip", rate=rate, increment=True
        )
        limited |= is_ratelimited(
            request,
            group="password_reset_email",
            key=lambda _group, _request: email,
            rate=rate,
            increment=True,
        )
        if limited:
            form = self.get_form()
            form.is_valid()
            form.add_error(
                None,
                _("Too many password reset requests; wait an hour and try again."),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        api_tokens_revoke_after_password_change(user=form.user)
        return response


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in: a code from the authenticator app or a recovery code."""
    user = request.user
    if not has_authenticator(user):
        return redirect(f"{reverse('accounts:two_factor_setup')}?{request.GET.urlencode()}")
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor_match(user=user, code=form.cleaned_data["code"])
        if device is None:
            form.add_error("code", _("That code is not right, or was used already."))
        else:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                messages.warning(
                    request,
                    _("You used a recovery code; %(count)s are left.")
                    % {"count": recovery_codes_left(user)},
                )
            return HttpResponseRedirect(_next_url(request))
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


def _may_set_up(request: HttpRequest) -> bool:
    """Replacing an authenticator needs the old one first: a password alone is not enough."""
    return request.user.is_verified() or not has_authenticator(request.user)


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    if not _may_set_up(request):
        return redirect(f"{reverse('accounts:two_factor_verify')}?{request.GET.urlencode()}")
    device = totp_device_start(actor=request.user)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = totp_device_confirm(
                actor=request.user, device_id=device.pk, code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            otp_login(request, device)
            recovery = recovery_codes_issue(actor=request.user)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": recovery.codes, "next": _next_url(request)},
            )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "secret": _base32(device),
            "next": _next_url(request),
            "is_required": requires_two_factor(request.user),
        },
        status=400 if request.method == "POST" else 200,
    )


def _base32(device) -> str:
    """The secret as authenticator apps accept it typed in (RFC 4648 base32, no padding)."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


@login_required
def two_factor_qr(request: HttpRequest) -> HttpResponse:
    """The QR code of the authenticator being set up, as an SVG image."""
    if not _may_set_up(request):
        return HttpResponse(status=404)
    device = totp_device_start(actor=request.user)
    out = io.BytesIO()
    write_qrcode_image(device.config_url, out)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def recovery_codes_renew(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified():
        verify, profile_url = reverse("accounts:two_factor_verify"), reverse("accounts:profile")
        return redirect(f"{verify}?{urlencode({'next': profile_url})}")
    recovery = recovery_codes_issue(actor=request.user)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": recovery.codes, "next": reverse("accounts:profile")},
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                profile_update(
                    actor=user,
                    full_name=form.cleaned_data["full_name"],
                    orcid=form.cleaned_data["orcid"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Your profile was saved."))
                return redirect("accounts:profile")
    else:
        form = ProfileForm(initial={"full_name": user.full_name, "orcid": user.orcid})
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "organisation": primary_organisation(user),
            "memberships": user.memberships.select_related("organisation"),
            "tokens": tokens_of(user),
            "token_form": TokenScopeForm(),
            "has_authenticator": has_authenticator(user),
            "two_factor_required": requires_two_factor(user),
            "recovery_codes_left": recovery_codes_left(user),
            "token_ttl_days": settings.API_TOKEN_TTL_DAYS,
        },
    )


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenScopeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the token a name of at most 100 characters and a scope."))
        return redirect("accounts:profile")
    issued = api_token_create(
        actor=request.user,
        user=request.user,
        name=form.cleaned_data["name"],
        scope=form.cleaned_data["scope"],
    )
    # Post/redirect/get: reloading the page that shows the key must not create another token.
    # The key waits in the session for that one GET, which removes it.
    request.session[NEW_TOKEN_SESSION_KEY] = issued.key
    return redirect("accounts:token_created")


NEW_TOKEN_SESSION_KEY = "accounts.new_token"  # noqa: S105 (a session key name, not a secret)


@login_required
@require_GET
def token_created(request: HttpRequest) -> HttpResponse:
    """Shows a new key once; a reload finds it gone and says so."""
    key = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    if key is None:
        messages.info(
            request, _("A token is shown only once. Revoke it and create another if it is lost.")
        )
        return redirect("accounts:profile")
    response = render(request, "accounts/token_created.html", {"key": key})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        api_token_revoke(actor=request.user, token_id=token_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The token was revoked; scripts using it stop working now."))
    return redirect("accounts:profile")
