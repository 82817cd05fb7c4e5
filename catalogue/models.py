"""What can be asked for: datasets at nodes, and the algorithms that may visit them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

DIGEST_RE = r"^sha256:[0-9a-f]{64}$"
validate_digest = RegexValidator(
    DIGEST_RE, _("Give the artifact digest as sha256: followed by 64 lowercase hex digits.")
)
validate_duo_curie = RegexValidator(r"^DUO:\d{7}$", _("A DUO code looks like DUO:0000007."))
validate_mondo_curie = RegexValidator(r"^MONDO:\d{7}$", _("A MONDO id looks like MONDO:0005015."))


class NodeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MAINTENANCE = "maintenance", _("In maintenance")
    RETIRED = "retired", _("Retired")


class Node(models.Model):
    """A data station. It signs in as its machine user (``identity``) with an API token."""

    identifier = models.SlugField(
        _("node id"),
        max_length=64,
        unique=True,
        help_text=_("Stable id used as the permit audience."),
    )
    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="nodes")
    base_url = models.URLField(_("base URL"), blank=True)
    status = models.CharField(max_length=16, choices=NodeStatus.choices, default=NodeStatus.ACTIVE)
    identity = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="node",
        limit_choices_to={"is_machine": True},
    )
    public_key_jwk = models.JSONField(
        default=dict, blank=True, help_text=_("The node's Ed25519 public key (JWK) for receipts.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_themes() -> list[str]:
    return ["HEAL"]


class Dataset(models.Model):
    slug = models.SlugField(_("dataset id"), max_length=100, unique=True)
    persistent_identifier = models.CharField(
        _("persistent identifier"),
        max_length=255,
        unique=True,
        help_text=_("A DOI, handle or other resolvable identifier."),
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"))
    keywords = models.CharField(
        _("keywords"), max_length=500, blank=True, help_text=_("Comma-separated.")
    )
    owner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="datasets",
        verbose_name=_("owner organisation"),
    )
    stewards = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="stewarded_datasets",
        blank=True,
        verbose_name=_("stewards"),
    )
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="datasets")
    contains_personal_data = models.BooleanField(_("contains personal data"), default=True)
    contact_email = models.EmailField(_("contact"))
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    duo_codes = models.JSONField(_("DUO codes"), default=list, blank=True)
    duo_diseases = models.JSONField(_("disease terms (MONDO)"), default=list, blank=True)
    duo_values = models.JSONField(_("modifier values"), default=dict, blank=True)
    min_cohort_size = models.PositiveIntegerField(
        _("minimum cohort size"), default=10, validators=[MinValueValidator(1)]
    )
    participant_count = models.PositiveIntegerField(_("participants (approx.)"), default=0)
    is_published = models.BooleanField(_("published"), default=True)
    # What a HealthDCAT-AP harvester needs besides the above (catalogue/dcat.py says how each
    # one is exported). Codes, not IRIs, where the vocabulary is closed (catalogue/vocab.py).
    licence_url = models.URLField(
        _("licence IRI"), blank=True, help_text=_("The licence or data-use agreement, as a URL.")
    )
    licence_types = models.JSONField(_("licence types (ADMS codes)"), default=list, blank=True)
    themes = models.JSONField(_("themes (EU data-theme codes)"), default=default_themes, blank=True)
    spatial = models.JSONField(_("spatial coverage (EU country codes)"), default=list, blank=True)
    temporal_start = models.DateField(_("data collected from"), null=True, blank=True)
    temporal_end = models.DateField(_("data collected until"), null=True, blank=True)
    health_categories = models.JSONField(
        _("health categories (EHDS Art. 51)"), default=list, blank=True
    )
    legal_basis = models.JSONField(_("legal basis (DPV IRIs)"), default=list, blank=True)
    provenance = models.TextField(_("provenance"), blank=True)
    hdab = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="hdab_datasets",
        null=True,
        blank=True,
        verbose_name=_("health data access body"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        indexes = [models.Index(fields=["is_published", "title"])]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        """The HealthDCAT-AP descriptors are codes of closed vocabularies (catalogue/vocab.py)."""
        from catalogue import vocab

        tables = {
            "themes": vocab.DATA_THEMES,
            "spatial": vocab.PLACES,
            "health_categories": vocab.HEALTH_CATEGORIES,
            "legal_basis": vocab.LEGAL_BASES,
            "licence_types": vocab.LICENCE_TYPES,
        }
        errors = {}
        for field, table in tables.items():
            value = getattr(self, field)
            if not isinstance(value, list) or any(code not in table for code in value):
                errors[field] = _("Use a list of these codes: %(codes)s") % {
                    "codes": ", ".join(table)
                }
        if self.temporal_start and self.temporal_end and self.temporal_end < self.temporal_start:
            errors["temporal_end"] = _("The end of the period comes before its start.")
        if errors:
            raise ValidationError(errors)

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.split(",") if k.strip()]


class OutputKind(models.TextChoices):
    AGGREGATE = "aggregate", _("Aggregate statistics")
    MODEL = "model", _("Model parameters")
    OTHER = "other", _("Other")


class Algorithm(models.Model):
    name = models.SlugField(_("name"), max_length=100)
    version = models.CharField(_("version"), max_length=50)
    digest = models.CharField(_("artifact digest"), max_length=71, validators=[validate_digest])
    description = models.TextField(_("description"), blank=True)
    output_kind = models.CharField(
        _("output kind"), max_length=16, choices=OutputKind.choices, default=OutputKind.AGGREGATE
    )
    source_url = models.URLField(_("source"), blank=True)
    maintainer = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="algorithms", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="algorithm_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


# --- EHDS: what a dataset holds (its data dictionary) and the terms of its use ----------------


class VariableType(models.TextChoices):
    STRING = "string", _("Text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    BOOLEAN = "boolean", _("Yes/no")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    CODE = "code", _("Coded value")


validate_variable_name = RegexValidator(
    r"^[a-z][a-z0-9_]{0,99}$",
    _("A variable name is lowercase letters, digits and underscores, starting with a letter."),
)


class DatasetVariable(models.Model):
    """One variable of a dataset's data dictionary: what an applicant may ask for by name, so a
    request names the variables it needs (data minimisation, EHDS Art. 66) and no more."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(_("name"), max_length=100, validators=[validate_variable_name])
    label = models.CharField(_("label"), max_length=200)
    type = models.CharField(_("type"), max_length=16, choices=VariableType.choices)
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=50, blank=True)
    codelist = models.CharField(
        _("code list"),
        max_length=200,
        blank=True,
        help_text=_("The code system or value set of a coded variable (e.g. ICD-10, SNOMED CT)."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["dataset", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="dataset_variable_once"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}.{self.name}"


class DataUseTerms(models.Model):
    """One version of a dataset's data-use terms (licence or data-use agreement). Versions are
    only ever added: an acceptance points at the version it accepted, so publishing a new one
    never changes what anybody accepted before — it asks them to accept again."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="terms_versions")
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    licence_url = models.URLField(_("licence or agreement URL"), blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["dataset", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="terms_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} terms v{self.version}"
