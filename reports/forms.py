"""Shape checks for asking a report; meaning (who may) is the service's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from reports.models import ReportKind

#: Which fields each kind of report uses; the page shows only those of the chosen kind
#: (static/js/report-form.js; without JavaScript every field shows, and ``clean`` checks).
FIELD_KINDS: dict[str, tuple[str, ...]] = {
    "subject": (ReportKind.DOSSIER, ReportKind.CERTIFICATE),
    "organisation": (ReportKind.PERIOD,),
    "period_start": (ReportKind.PERIOD,),
    "period_end": (ReportKind.PERIOD,),
}


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Report"), choices=ReportKind.choices)
    subject = forms.CharField(
        label=_("Request reference or permit number"), max_length=64, required=False
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        required=False,
        queryset=Organisation.objects.order_by("name"),
        empty_label=_("The whole hub"),
    )
    period_start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("Until (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self, *args: Any, period_organisations: list[int] | None = None, **kwargs: Any
    ) -> None:
        """``period_organisations``: the only organisations offered for a period report (a
        data holder's steward: their own, and not the whole hub); ``None`` offers every one."""
        super().__init__(*args, **kwargs)
        if period_organisations:
            field = self.fields["organisation"]
            field.queryset = field.queryset.filter(pk__in=period_organisations)
            field.empty_label = None
        for name, kinds in FIELD_KINDS.items():
            self.fields[name].widget.attrs["data-report-kinds"] = " ".join(kinds)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind in (ReportKind.DOSSIER, ReportKind.CERTIFICATE) and not data.get("subject"):
            self.add_error("subject", _("Name the request or the permit."))
        if kind == ReportKind.PERIOD:
            start, end = data.get("period_start"), data.get("period_end")
            if start is None:
                self.add_error("period_start", _("Give the start of the period."))
            if end is None:
                self.add_error("period_end", _("Give the end of the period."))
            if start and end and end < start:
                self.add_error("period_end", _("The end must not be before the start."))
        return data
