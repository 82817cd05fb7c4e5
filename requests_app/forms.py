"""HTML forms. They check shape; the services check meaning and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalogue.models import Algorithm, Dataset
from consent import vocabulary
from requests_app.after_models import APPEAL_OUTCOMES, AmendmentKind
from requests_app.application_form import ApplicationForm, Question, answer_of
from requests_app.models import (
    OWNER_DECISIONS,
    AccessRequest,
    AttachmentKind,
    DataForm,
    QuestionType,
    VoteChoice,
)


class NewRequestForm(forms.Form):
    title = forms.CharField(label=_("Title of your project"), max_length=300)
    # From the dataset page's "Request access" (?dataset=<slug>): chosen in the data section.
    dataset = forms.SlugField(required=False, widget=forms.HiddenInput)

    def clean_dataset(self) -> Dataset | None:
        slug = self.cleaned_data.get("dataset") or ""
        if not slug:
            return None
        dataset = Dataset.objects.filter(slug=slug, is_published=True).first()
        if dataset is None:
            raise forms.ValidationError(_("No such dataset in the catalogue."))
        return dataset

    def chosen_dataset(self) -> Dataset | None:
        """The published dataset the form carries (for the page to name it), or None."""
        slug = self.data.get("dataset") if self.is_bound else self.initial.get("dataset")
        if not slug or not isinstance(slug, str):
            return None
        return Dataset.objects.filter(slug=slug, is_published=True).first()


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


class DateRangeField(forms.MultiValueField):
    """A start and an end date, kept as {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}."""

    def __init__(self, **kwargs):
        fields = (forms.DateField(required=False), forms.DateField(required=False))
        widget = forms.MultiWidget(
            widgets=[
                forms.DateInput(attrs={"type": "date"}),
                forms.DateInput(attrs={"type": "date"}),
            ]
        )
        super().__init__(fields=fields, widget=widget, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        return {"start": data_list[0], "end": data_list[1]}


class TableRowsField(forms.CharField):
    """Rows of a table, one per line, cells separated by "|" (works without JavaScript)."""

    def __init__(self, *, columns: tuple[str, ...], **kwargs):
        self.columns = columns
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [
            [cell.strip() for cell in line.split("|")] for line in text.splitlines() if line.strip()
        ]

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        width = len(self.columns)
        if any(len(row) != width for row in value):
            raise forms.ValidationError(
                _("Give %(count)d cells per line, separated by |: %(columns)s.")
                % {"count": width, "columns": " | ".join(self.columns)}
            )

    def run_validators(self, value):
        return None  # the length limit is on the whole table; the service checks it

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(" | ".join(str(c) for c in row) for row in value)
        return value


def _field_for(question: Question) -> forms.Field | None:
    """The form field of one question (never ``required``: drafts save as you go; submission
    checks completeness against the template)."""
    common = {"label": question.label, "required": False, "help_text": question.help}
    kind = question.type
    limit = {"max_length": question.max_length} if question.max_length else {}
    if kind == QuestionType.TEXT:
        return forms.CharField(**common, **limit)
    if kind == QuestionType.LONG_TEXT:
        return forms.CharField(**common, **limit, widget=forms.Textarea)
    if kind == QuestionType.EMAIL:
        return forms.EmailField(**common, **limit)
    if kind == QuestionType.ORCID:
        return forms.CharField(**common, max_length=40)  # https://orcid.org/… is normalised
    if kind in (QuestionType.CHOICE, QuestionType.DUO_PURPOSE):
        return forms.ChoiceField(**common, choices=[("", "—"), *question.choice_list()])
    if kind == QuestionType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            **common, choices=question.choice_list(), widget=forms.CheckboxSelectMultiple
        )
    if kind == QuestionType.DATE:
        return forms.DateField(**common, widget=forms.DateInput(attrs={"type": "date"}))
    if kind == QuestionType.DATE_RANGE:
        return DateRangeField(**common)
    if kind == QuestionType.YES_NO:
        return forms.BooleanField(**common)
    if kind == QuestionType.NUMBER:
        return forms.DecimalField(**common)
    if kind == QuestionType.MONDO_DISEASES:
        return MondoListField(**common)
    if kind == QuestionType.TABLE_ROWS:
        return TableRowsField(**common, columns=question.columns)
    if kind == QuestionType.DATASETS:
        return forms.ModelMultipleChoiceField(
            **common,
            queryset=Dataset.objects.filter(is_published=True).select_related("owner", "node"),
            widget=forms.CheckboxSelectMultiple,
        )
    if kind == QuestionType.ALGORITHMS:
        return forms.ModelMultipleChoiceField(
            **common, queryset=Algorithm.objects.all(), widget=forms.CheckboxSelectMultiple
        )
    return None  # team and attachments have their own forms on the page


def _initial(question: Question, value: Any) -> Any:
    if question.type == QuestionType.DATE_RANGE and isinstance(value, dict):
        return [value.get("start"), value.get("end")]
    return value


def section_form(
    form: ApplicationForm, section_key: str, request: AccessRequest | None, data: Any = None
) -> forms.Form:
    """The wizard's form for one section of the request's application form (``request``
    None: empty, as the admin's preview shows it)."""
    section = form.section(section_key)
    fields: dict[str, forms.Field] = {}
    initial: dict[str, Any] = {}
    for question in section.questions if section else ():
        field = _field_for(question)
        if field is None:
            continue
        field.question = question  # the template renders conditions and privacy from it
        fields[question.key] = field
        if request is None:
            continue
        if question.type == QuestionType.DATASETS:
            initial[question.key] = list(request.datasets.all())
        elif question.type == QuestionType.ALGORITHMS:
            initial[question.key] = list(request.algorithms.all())
        else:
            initial[question.key] = _initial(question, answer_of(request, question))
    form_class = type("SectionForm", (forms.Form,), dict(fields))
    return form_class(data, initial=initial)


class TeamInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email of the team member"))
    role = forms.CharField(label=_("Role in the project"), max_length=100, required=False)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AttachmentKind.choices)
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, PNG, JPEG, DOCX or plain text; at most 10 MiB.")
    )
    # Set by a "Replace" form: the file this upload takes the place of.
    replaces = forms.IntegerField(required=False, widget=forms.HiddenInput)


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
        label=_("Describe the conflict"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=VoteChoice.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you reject or request changes."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_internal = forms.BooleanField(label=_("Internal note for the boards only"), required=False)

    def __init__(self, *args, can_write_internal: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_write_internal:
            del self.fields["is_internal"]


class CloseRoundForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision (boards where the chair decides)"),
        choices=[("", _("As the votes decide")), *VoteChoice.choices],
        required=False,
    )

    def clean_decision(self) -> str | None:
        return self.cleaned_data["decision"] or None  # none chosen: the votes decide

    note = forms.CharField(
        label=_("Note to the requester"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecideForm(forms.Form):
    dataset_slug = forms.SlugField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=OWNER_DECISIONS,
    )
    conditions = forms.CharField(
        label=_("Conditions (when granting)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    reason = forms.CharField(
        label=_("Reason (required when refusing)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def needs_confirmation(self) -> bool:
        """A grant is confirmed by the form itself; a refusal ends the request for the dataset."""
        return self.cleaned_data.get("decision") != "granted"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MissingItemsForm(forms.Form):
    """The completeness check's "incomplete": what is missing, one item a line."""

    missing_items = forms.CharField(
        label=_("What is missing (one item a line)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )

    def clean_missing_items(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["missing_items"].splitlines() if line.strip()
        ]


class ExtendClockForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the extension"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    months = forms.IntegerField(label=_("Extend by (months)"), min_value=1, required=False)

    def clean_months(self) -> int | None:
        return self.cleaned_data.get("months") or None


class EmailListField(forms.CharField):
    """Email addresses, one per line (or separated by commas)."""

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]

    def validate(self, value):
        super().validate(value)
        for email in value:
            forms.EmailField().clean(email)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value


class AmendForm(forms.Form):
    """The ``amend`` action's form: what changes and why (Art. 68 amendment or renewal)."""

    kind = forms.ChoiceField(
        label=_("What do you ask for?"),
        choices=AmendmentKind.choices,
        widget=forms.RadioSelect,
        initial=AmendmentKind.AMENDMENT,
    )
    changes = forms.CharField(
        label=_("What changes"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("In a few sentences: the longer period, the people or algorithms added."),
    )
    reason = forms.CharField(
        label=_("Why the change is needed"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    new_period_end = forms.DateField(
        label=_("New end of the period (renewal only)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    team = EmailListField(
        label=_("Team members to add (email addresses, one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    algorithms = forms.ModelMultipleChoiceField(
        label=_("Algorithms to add"),
        queryset=Algorithm.objects.order_by("name", "version"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class AppealForm(forms.Form):
    reasons = forms.CharField(
        label=_("Reasons of your appeal"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why the refusal should be reconsidered."),
    )


class AppealDecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome of the appeal"), choices=APPEAL_OUTCOMES, widget=forms.RadioSelect
    )
    reasons = forms.CharField(
        label=_("Reasons of the outcome"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class InvitationForm(forms.Form):
    """Create the account an invitation is for (the address is the invitation's)."""

    full_name = forms.CharField(label=_("Your name"), max_length=200)
    password = forms.CharField(
        label=_("Choose a password"), widget=forms.PasswordInput, strip=False, max_length=128
    )


class MinimisationForm(forms.Form):
    """What of one dataset is needed (EHDS Art. 66); the service checks the meaning."""

    variables = forms.MultipleChoiceField(
        label=_("Variables you need"), required=False, widget=forms.CheckboxSelectMultiple
    )
    subset = forms.CharField(
        label=_("Or describe the subset you need"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    population = forms.CharField(
        label=_("Population"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    data_from = forms.DateField(
        label=_("Data from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    data_until = forms.DateField(
        label=_("Data until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    data_form = forms.ChoiceField(
        label=_("Form of the data"),
        choices=[("", "—"), *DataForm.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    pseudonymisation_reason = forms.CharField(
        label=_("Why anonymised data will not do"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, minimisation: Any = None, **kwargs: Any) -> None:
        answers = getattr(minimisation, "answers", None)
        if minimisation is not None and answers is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                f: getattr(answers, f)
                for f in (
                    "variables",
                    "subset",
                    "population",
                    "data_from",
                    "data_until",
                    "data_form",
                    "pseudonymisation_reason",
                )
            }
        super().__init__(*args, **kwargs)
        # Any name is accepted here; the service refuses names not in the dictionary.
        names = (
            [(v.name, f"{v.label} ({v.name})") for v in minimisation.dictionary]
            if minimisation is not None
            else [(n, n) for n in (self.data.getlist("variables") if self.data else [])]
        )
        self.fields["variables"].choices = names
        if minimisation is not None:  # one form per dataset on a page: ids stay unique
            self.auto_id = f"id_{minimisation.item.dataset.slug}_%s"
