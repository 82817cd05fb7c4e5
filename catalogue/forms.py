from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from catalogue.models import Node
from consent.duo_i18n import duo_filter_choices


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
    # A choice list, not free text: a typed "DS" or garbage used to be ignored silently.
    duo = forms.ChoiceField(
        label=_("Data-use condition"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "%(value)s is not a data-use condition the catalogue knows; choose one from the"
                " list."
            )
        },
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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # In the reader's language, so built per form, not at import.
        self.fields["duo"].choices = [("", _("Any condition")), *duo_filter_choices()]
