"""Sign-in, profile and API tokens (HTML). Writes go through accounts.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import EmailAuthenticationForm, ProfileForm, TokenForm
from accounts.selectors import primary_organisation, tokens_of
from accounts.services import api_token_create, api_token_revoke, profile_update
from lifes.errors import DomainError


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True


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
            "token_form": TokenForm(),
        },
    )


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the token a name of at most 100 characters."))
        return redirect("accounts:profile")
    issued = api_token_create(actor=request.user, user=request.user, name=form.cleaned_data["name"])
    return render(request, "accounts/token_created.html", {"issued": issued})


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
