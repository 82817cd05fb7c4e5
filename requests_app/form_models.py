"""Application forms as data: versioned templates of sections and typed questions.

The Five Safes form is the default template (data migration 0003); each data custodian
(organisation) may attach its own template to its datasets. A template is immutable once a
submission used it: editing it then makes a new version (``services.form_templates``).
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from catalogue.models import Dataset


class QuestionType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    CHOICE = "choice", _("Choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    DATE = "date", _("Date")
    DATE_RANGE = "date_range", _("Date range")
    YES_NO = "yes_no", _("Yes/no")
    NUMBER = "number", _("Number")
    EMAIL = "email", _("E-mail address")
    ORCID = "orcid", _("ORCID iD")
    ATTACHMENT = "attachment", _("Attachment")
    DUO_PURPOSE = "duo_purpose", _("DUO purpose")
    MONDO_DISEASES = "mondo_diseases", _("MONDO diseases")
    DATASETS = "datasets", _("Datasets")
    ALGORITHMS = "algorithms", _("Algorithms")
    TEAM = "team", _("Team")
    TABLE_ROWS = "table_rows", _("Table rows")


class FormTemplate(models.Model):
    key = models.SlugField(_("key"), max_length=60, help_text=_("Shared by all its versions."))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=200)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="form_templates",
        verbose_name=_("data custodian"),
        help_text=_("Empty for the default form every request answers."),
    )
    is_default = models.BooleanField(_("default form"), default=False)
    datasets = models.ManyToManyField(
        Dataset,
        blank=True,
        related_name="form_templates",
        verbose_name=_("datasets"),
        help_text=_("Requests for these datasets answer this form as well."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="form_template_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class FormSection(models.Model):
    template = models.ForeignKey(FormTemplate, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(
        _("key"),
        max_length=60,
        help_text=_("Sections with the same key in several templates are shown as one."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_nl = models.CharField(_("title (Dutch)"), max_length=200, blank=True)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    intro_nl = models.TextField(_("introduction (Dutch)"), blank=True)

    class Meta:
        ordering = ["template", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="form_section_once")
        ]

    def __str__(self) -> str:
        return f"{self.template}: {self.title_en}"


class FormQuestion(models.Model):
    template = models.ForeignKey(FormTemplate, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(FormSection, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(
        _("key"),
        max_length=60,
        help_text=_(
            "The answer's name in the API. Keys of the request's own columns (title, "
            "lay_summary, …) store there; any other key is stored with the request's extra "
            "answers. The same key in two templates is asked once."
        ),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    type = models.CharField(_("type"), max_length=20, choices=QuestionType.choices)
    label_en = models.CharField(_("question (English)"), max_length=300)
    label_nl = models.CharField(_("question (Dutch)"), max_length=300, blank=True)
    help_en = models.TextField(_("help (English)"), blank=True)
    help_nl = models.TextField(_("help (Dutch)"), blank=True)
    required = models.BooleanField(_("required"), default=False)
    required_when = models.JSONField(
        _("required when"),
        null=True,
        blank=True,
        help_text=_(
            'E.g. {"question": "purpose_code", "equals": "DUO:0000007"} or {"personal_data": true}.'
        ),
    )
    show_when = models.JSONField(
        _("show when"),
        null=True,
        blank=True,
        help_text=_(
            'E.g. {"question": "is_commercial", "equals": true}. Hidden: not asked, '
            "not required, not kept."
        ),
    )
    required_message_en = models.CharField(
        _("message when missing (English)"), max_length=300, blank=True
    )
    required_message_nl = models.CharField(
        _("message when missing (Dutch)"), max_length=300, blank=True
    )
    is_private = models.BooleanField(
        _("private"),
        default=False,
        help_text=_(
            "Seen only by the requester's team and board members who declared no conflict."
        ),
    )
    max_length = models.PositiveIntegerField(
        _("maximum length"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('[["value", "English label", "Dutch label"], …]'),
    )
    choices_from = models.CharField(
        _("choices from a vocabulary"),
        max_length=30,
        blank=True,
        help_text=_("ehds_category, gdpr_art6, gdpr_art9, duo_purpose or duo_research_types"),
    )
    columns = models.JSONField(
        _("table columns"), default=list, blank=True, help_text=_('["Name", "Role", …]')
    )
    attachment_kind = models.CharField(_("attachment kind"), max_length=16, blank=True)
    rules = models.JSONField(
        _("rules"),
        default=dict,
        blank=True,
        help_text=_('{"must_be": true} or {"after": "period_start"}'),
    )

    class Meta:
        ordering = ["template", "section__order", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="form_question_once")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.type})"
