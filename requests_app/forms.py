"""HTML forms. They check shape; the services check meaning and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from catalogue.models import Algorithm, Dataset
from consent import vocabulary
from consent.matcher import PRIMARY_PURPOSES, RESEARCH_TYPES
from requests_app.models import AccessRequest, AttachmentKind, VoteChoice


def _duo_choices(codes) -> list[tuple[str, str]]:
    choices = []
    for code in codes:
        try:
            term = vocabulary.duo_term(code)
            short = f"{term.shorthand}, " if term.shorthand else ""
            choices.append((code, f"{term.label} ({short}{code})"))
        except KeyError:
            choices.append((code, code))
    return choices


class NewRequestForm(forms.Form):
    title = forms.CharField(label=_("Title of your project"), max_length=300)


class MondoListField(forms.CharField):
    """MONDO ids, separated by commas or spaces; each must exist in the shipped ontology."""

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [part.strip().upper() for part in text.replace(",", " ").split() if part.strip()]

    def validate(self, value):
        unknown = [term for term in value if not vocabulary.is_mondo(term)]
        if unknown:
            raise forms.ValidationError(
                _("Unknown MONDO id: %(ids)s. Use ids like MONDO:0005015."),
                params={"ids": ", ".join(unknown)},
            )

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value


class ProjectForm(forms.ModelForm):
    purpose_code = forms.ChoiceField(
        label=_("Primary research purpose (DUO)"), required=False, choices=[("", "—")]
    )
    research_types = forms.MultipleChoiceField(
        label=_("Research types (DUO)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    purpose_diseases = MondoListField(
        label=_("Diseases studied (MONDO ids)"),
        required=False,
        help_text=_("Needed for disease-specific research, e.g. MONDO:0005148 (type 2 diabetes)."),
    )

    class Meta:
        model = AccessRequest
        fields = [
            "title",
            "lay_summary",
            "scientific_abstract",
            "ehds_category",
            "purpose_code",
            "research_types",
            "purpose_diseases",
            "is_commercial",
            "funding_source",
            "commercial_interests",
            "no_prohibited_use",
        ]
        help_texts = {
            "lay_summary": _("In plain language, for participants and the public register."),
            "no_prohibited_use": _(
                "EHDS Art. 54 forbids, among others, decisions detrimental "
                "to a person, insurance exclusion, advertising and developing "
                "harmful products."
            ),
            "funding_source": _(
                "Private: seen by the boards' chairs and members who declared no conflict."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose_code"].choices = [("", "—"), *_duo_choices(PRIMARY_PURPOSES)]
        self.fields["research_types"].choices = _duo_choices(RESEARCH_TYPES)


class PeopleForm(forms.ModelForm):
    class Meta:
        model = AccessRequest
        fields = ["pi_name", "pi_email", "pi_orcid"]


class DataForm(forms.Form):
    datasets = forms.ModelMultipleChoiceField(
        label=_("Datasets"),
        queryset=Dataset.objects.filter(is_published=True).select_related("owner", "node"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class SettingsForm(forms.ModelForm):
    algorithms = forms.ModelMultipleChoiceField(
        label=_("Visiting algorithms"),
        queryset=Algorithm.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = AccessRequest
        fields = [
            "algorithms",
            "gdpr_art6_basis",
            "gdpr_art9_basis",
            "ethics_reference",
            "ethics_committee",
            "ethics_expires_on",
            "dpia_done",
            "dpia_summary",
            "processing_outside_eea",
            "outside_eea_countries",
        ]
        widgets = {"ethics_expires_on": forms.DateInput(attrs={"type": "date"})}


class OutputsForm(forms.ModelForm):
    class Meta:
        model = AccessRequest
        fields = ["expected_outputs", "period_start", "period_end"]
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }


SECTION_FORMS = {
    "project": ProjectForm,
    "people": PeopleForm,
    "data": DataForm,
    "settings": SettingsForm,
    "outputs": OutputsForm,
}


class TeamInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email of the team member"))
    role = forms.CharField(label=_("Role in the project"), max_length=100, required=False)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AttachmentKind.choices)
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, PNG, JPEG, DOCX or plain text; at most 10 MiB.")
    )


class DeclareForm(forms.Form):
    has_conflict = forms.TypedChoiceField(
        label=_("Do you have a conflict of interest with this request?"),
        choices=[
            ("no", _("No, I have no conflict of interest")),
            ("yes", _("Yes, I have a conflict and recuse myself")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    statement = forms.CharField(
        label=_("Describe the conflict"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=VoteChoice.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you reject or request changes."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))
    is_internal = forms.BooleanField(label=_("Internal note for the boards only"), required=False)


class CloseRoundForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision (boards where the chair decides)"),
        choices=[("", _("As the votes decide")), *VoteChoice.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("Note to the requester"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecideForm(forms.Form):
    dataset_slug = forms.SlugField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[("granted", _("Grant access")), ("refused", _("Refuse access"))],
    )
    conditions = forms.CharField(
        label=_("Conditions (when granting)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(
        label=_("Reason (required when refusing)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
