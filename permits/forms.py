"""Forms of the permit pages: they check shape; the services check meaning."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The holder and the audit log will read it."),
    )


class RegisterFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Title, lay summary, number, organisation or dataset."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[
            ("", _("Permits and refusals")),
            ("permit", _("Permits")),
            ("refusal", _("Refusals")),
        ],
    )
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        from permits.register import register_statuses

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *register_statuses()]


class ResultForm(forms.Form):
    """A publication of the permit's results (EHDS Art. 61)."""

    title = forms.CharField(label=_("Title of the publication"), max_length=500)
    doi = forms.CharField(
        label=_("DOI"), required=False, max_length=200, help_text=_("For example 10.1234/abcd.")
    )
    url = forms.CharField(
        label=_("Web address"),
        required=False,
        max_length=500,
        help_text=_("When the publication has no DOI."),
    )
    published_on = forms.DateField(
        label=_("Published on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class FindingForm(forms.Form):
    """A significant finding for the access body (EHDS Art. 61(3))."""

    statement = forms.CharField(
        label=_("Significant finding"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A short statement for the access body; it is not published."),
    )


class ReportForm(ReasonForm):
    """The ``file_report`` command's input: the report itself (the command's ``reason``)."""

    reason = forms.CharField(
        label=_("Your report"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done under the permit, and the results so far or at the end."),
    )
