from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from catalogue.models import Node


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=Organisation.objects.filter(datasets__isnull=False).distinct(),
        required=False,
        empty_label=_("Any owner"),
    )
    node = forms.ModelChoiceField(
        label=_("Node"), queryset=Node.objects.all(), required=False, empty_label=_("Any node")
    )
    duo = forms.RegexField(
        label=_("DUO code"),
        regex=r"^DUO:\d{7}$",
        required=False,
        error_messages={"invalid": _("A DUO code looks like DUO:0000007.")},
    )
    personal = forms.TypedChoiceField(
        label=_("Personal data"),
        required=False,
        empty_value=None,
        choices=[
            ("", _("Either")),
            ("yes", _("Contains personal data")),
            ("no", _("No personal data")),
        ],
        coerce=lambda value: value == "yes",
    )
