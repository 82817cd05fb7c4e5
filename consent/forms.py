"""Forms of the stewards' consent pages. They check shape; the services check meaning."""

from __future__ import annotations

import json
import re

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from consent.models import PSEUDONYM_RE

_SPLIT = re.compile(r"[\s,;|]+")


class ConsentImportForm(forms.Form):
    file = forms.FileField(
        label=_("Consent file"),
        help_text=_(
            "A FHIR R4 or R5 Consent, or a Bundle of them (JSON), or a CSV file with "
            "the documented columns. Everything in it is imported, or nothing."
        ),
    )
    type = forms.ChoiceField(
        label=_("File type"),
        initial="auto",
        choices=[
            ("auto", _("Detect from the content")),
            ("fhir-r4", _("FHIR R4")),
            ("fhir-r5", _("FHIR R5")),
            ("csv", _("CSV")),
        ],
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CONSENT_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file is larger than %(limit)s bytes; split it or use the "
                    "consent_import command for bigger files."
                )
                % {"limit": limit}
            )
        return upload


class ParticipantFindForm(forms.Form):
    pseudonym = forms.RegexField(
        label=_("Pseudonymous id"),
        regex=PSEUDONYM_RE,
        max_length=128,
        error_messages={
            "invalid": _(
                "A pseudonymous id is 1–128 letters, digits, dots, colons, hyphens or underscores."
            )
        },
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example how the withdrawal reached you. No names."),
    )
    confirm = forms.BooleanField(
        label=_("I confirm that this participant has withdrawn their consent."),
        error_messages={"required": _("Tick the box to confirm the withdrawal.")},
    )


class OptOutForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I confirm that this participant has registered a national opt-out from "
            "secondary use of their health data."
        ),
        error_messages={"required": _("Tick the box to confirm the opt-out.")},
    )


class ConditionsForm(forms.Form):
    codes = forms.CharField(
        label=_("DUO codes"),
        max_length=1000,
        help_text=_(
            "One data use permission (e.g. DUO:0000006 for health/medical/biomedical "
            "research) and any modifiers, separated by spaces."
        ),
    )
    diseases = forms.CharField(
        label=_("Diseases (MONDO)"),
        max_length=2000,
        required=False,
        help_text=_(
            "Required with disease specific research (DUO:0000007): MONDO ids separated by spaces."
        ),
    )
    values = forms.CharField(
        label=_("Modifier values (JSON)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('For example {"DUO:0000022": "EU", "DUO:0000025": 36}.'),
    )

    def clean_codes(self) -> list[str]:
        return [c for c in _SPLIT.split(self.cleaned_data["codes"]) if c]

    def clean_diseases(self) -> list[str]:
        return [d for d in _SPLIT.split(self.cleaned_data["diseases"]) if d]

    def clean_values(self) -> dict:
        text = self.cleaned_data["values"].strip()
        if not text:
            return {}
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON.")) from exc
        if not isinstance(values, dict):
            raise forms.ValidationError(_("Give a JSON object mapping DUO codes to values."))
        return values
