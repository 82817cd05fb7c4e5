from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import TokenScope
from accounts.validators import normalise_orcid, validate_orcid


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].lower()


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    orcid = forms.CharField(
        label=_("ORCID iD"),
        max_length=40,
        required=False,
        help_text=_("Optional, e.g. 0000-0002-1825-0097."),
    )

    def clean_orcid(self) -> str:
        value = self.cleaned_data["orcid"].strip()
        if value:
            validate_orcid(value)
            value = normalise_orcid(value)
        return value


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. 'analysis notebook'."),
    )


class TokenScopeForm(TokenForm):
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        help_text=_("Read only: the token can read but never change anything."),
    )


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text=_(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
    )
