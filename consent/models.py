"""Participant-level consent: pseudonymous participants, their consent history, and provisions.

Modelled on FHIR R5 ``Consent``: a consent has a status, a base decision, a period, the policy it
rests on (with its version) and the date it was signed; its provisions permit or deny research
purposes coded in DUO, each with its own period. FHIR R4 and R5 resources and CSV files are
mapped onto this shape by ``consent.fhir`` and ``consent.csv_import``.

History is append-only. Every change (an import, a withdrawal) adds a new ``ConsentRecord``; the
one it replaces keeps its content and only gets its ``superseded_at`` time and loses the
``is_current`` marker. So the consent that applied at any moment can be read back, and a cohort
can be recomputed for a past time. A withdrawal is a new record with status ``inactive``: nothing
is deleted, and it takes effect from the moment it is recorded.

``DatasetConsentState.version`` is the *cohort version*: it increases on every consent change in
the dataset, under a row lock, in the same transaction as the change. Permits carry it, and nodes
compare it before a run.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalogue.models import Dataset
from consent import duo

PSEUDONYM_RE = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
validate_pseudonym = RegexValidator(
    PSEUDONYM_RE,
    _("A pseudonymous id is 1–128 letters, digits, dots, colons, hyphens or underscores."),
)


class ConsentStatus(models.TextChoices):
    """The union of the FHIR R4 and R5 Consent status codes. Only ``active`` gives consent."""

    DRAFT = "draft", _("Draft")
    PROPOSED = "proposed", _("Proposed")  # R4 only
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    REJECTED = "rejected", _("Rejected")  # R4 only
    NOT_DONE = "not-done", _("Not done")  # R5 only
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")
    UNKNOWN = "unknown", _("Unknown")  # R5 only


class Decision(models.TextChoices):
    PERMIT = "permit", _("Permit")
    DENY = "deny", _("Deny")


class ConsentSource(models.TextChoices):
    FHIR_R4 = "fhir-r4", _("FHIR R4 Consent")
    FHIR_R5 = "fhir-r5", _("FHIR R5 Consent")
    CSV = "csv", _("CSV file")
    WITHDRAWAL = "withdrawal", _("Withdrawal recorded at the hub")


class DatasetConsentState(models.Model):
    """The cohort version of a dataset: bumped under a row lock by every consent change."""

    dataset = models.OneToOneField(
        Dataset, on_delete=models.CASCADE, primary_key=True, related_name="consent_state"
    )
    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.version}"


class Participant(models.Model):
    """A pseudonymous person whose data a dataset holds. The hub never sees who they are."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="participants")
    pseudonym = models.CharField(
        _("pseudonymous id"), max_length=128, validators=[validate_pseudonym]
    )
    # EHDS Art. 71: the right to opt out of secondary use. Recorded with its time; it takes
    # effect from then and removes the person from every cohort whatever their consent says.
    opted_out_at = models.DateTimeField(_("national opt-out recorded at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "pseudonym"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "pseudonym"], name="participant_unique_pseudonym"
            ),
        ]
        indexes = [
            # The few opted-out participants of a dataset, left out of a cohort by one probe.
            models.Index(
                fields=["dataset", "opted_out_at"],
                include=["id"],
                name="participant_opted_out",
                condition=Q(opted_out_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def has_opted_out(self) -> bool:
        return self.opted_out_at is not None


class ConsentRecord(models.Model):
    """One version of a participant's consent (never edited after it is written)."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    # Denormalised from the participant so that a dataset's cohort is one indexed range.
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=ConsentStatus.choices)
    decision = models.CharField(
        _("base decision"), max_length=6, choices=Decision.choices, default=Decision.DENY
    )
    period_start = models.DateTimeField(_("valid from"), null=True, blank=True)
    period_end = models.DateTimeField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Exclusive: consent ends at this moment."),
    )
    policy_uri = models.CharField(_("policy"), max_length=500, blank=True)
    policy_version = models.CharField(_("policy version"), max_length=100, blank=True)
    date_signed = models.DateField(_("date signed"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=ConsentSource.choices)
    source_id = models.CharField(
        _("source id"),
        max_length=200,
        blank=True,
        help_text=_("The FHIR resource id or CSV row it came from."),
    )
    # sha256 of the normalised content: an identical re-import is recognised and skipped.
    content_digest = models.CharField(max_length=64)
    modifiers = models.JSONField(_("duties and notes"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    is_current = models.BooleanField(default=True)
    # The summary the cohort query reads (consent.rules.summarise), written with the record:
    # the participant's pseudonym (it never changes), whether the provisions are "simple"
    # (all for the consent's own period, no nested exceptions) and their codes as bit masks
    # (consent.rules.SUMMARY_CODES). A record that is not simple is read from its provisions.
    pseudonym = models.CharField(max_length=128, default="", db_default="", editable=False)
    is_simple = models.BooleanField(default=False, db_default=False, editable=False)
    grants_any = models.IntegerField(default=0, db_default=0, editable=False)
    grants_non_commercial = models.IntegerField(default=0, db_default=0, editable=False)
    grants_not_for_profit = models.IntegerField(default=0, db_default=0, editable=False)
    grants_both = models.IntegerField(default=0, db_default=0, editable=False)
    denies = models.IntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ["participant", "-recorded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(is_current=True),
                name="consent_one_current_per_participant",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lt=models.F("period_end")),
                name="consent_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ConsentStatus.values), name="consent_status_valid"
            ),
        ]
        indexes = [
            # The cohort "now": the current, active consents of one dataset.
            models.Index(
                fields=["dataset", "participant"],
                name="consent_current_active",
                condition=Q(is_current=True, status="active"),
            ),
            # The cohort at a past time, and a participant's history.
            models.Index(fields=["participant", "recorded_at"], name="consent_history"),
            # The cohort of a dataset for a non-DS purpose: one index-only scan of the
            # current, active consents with their summaries (PostgreSQL; others ignore include).
            models.Index(
                fields=["dataset", "is_simple"],
                include=[
                    "id",
                    "participant",
                    "pseudonym",
                    "period_start",
                    "period_end",
                    "grants_any",
                    "grants_non_commercial",
                    "grants_not_for_profit",
                    "grants_both",
                    "denies",
                ],
                name="consent_cohort_scan",
                condition=Q(is_current=True, status="active"),
            ),
            # The next moment a current consent starts or ends (how long a materialised
            # cohort stays true): one index probe each.
            models.Index(
                fields=["dataset", "period_start"],
                name="consent_next_start",
                condition=Q(is_current=True),
            ),
            models.Index(
                fields=["dataset", "period_end"],
                name="consent_next_end",
                condition=Q(is_current=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.status} @ {self.recorded_at:%Y-%m-%d %H:%M}"


class ConsentProvision(models.Model):
    """One DUO purpose a consent permits or denies, with its period.

    Flattened from the (nested) FHIR provisions by ``consent.fhir``: one row per purpose code and,
    for disease-specific research, per MONDO disease. ``code`` is a DUO permission (NRES, GRU,
    HMB, DS, POA) or research type (DUO:0000031–40). A permit may be limited to non-commercial
    use or not-for-profit organisations (DUO NCU / NPU / NPUNCU on the same provision).
    """

    consent = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="provisions")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=6, choices=Decision.choices)
    code = models.CharField(_("DUO purpose"), max_length=11)
    disease = models.CharField(_("MONDO disease"), max_length=13, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    is_non_commercial = models.BooleanField(default=False)
    is_not_for_profit = models.BooleanField(default=False)
    # FHIR's exception to an exception: a deny with nested permits gets a group number > 0
    # (unique within its consent) and its nested permits the same number; such a deny does
    # not exclude a purpose that a permit of its own group covers. 0: an ordinary row.
    group = models.PositiveSmallIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["consent", "decision", "code", "disease"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^DUO:[0-9]{7}$"), name="provision_code_duo"
            ),
            models.CheckConstraint(
                condition=Q(disease="") | Q(code=duo.DS, disease__regex=r"^MONDO:[0-9]{7}$"),
                name="provision_disease_only_with_ds",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_start__lt=models.F("period_end")),
                name="provision_period_ordered",
            ),
        ]
        indexes = [
            # EXISTS / NOT EXISTS probes from a consent: (consent, decision, code) first.
            models.Index(fields=["consent", "decision", "code", "disease"], name="provision_probe"),
            # The distinct disease-specific denials of a dataset (a handful of values).
            models.Index(
                fields=["dataset", "decision", "code", "disease"], name="provision_dataset_code"
            ),
            models.Index(fields=["dataset", "period_start"], name="provision_next_start"),
            models.Index(fields=["dataset", "period_end"], name="provision_next_end"),
            # Whether a dataset has any excepted deny at all (almost never): one probe.
            models.Index(
                fields=["dataset"], name="provision_dataset_grouped", condition=Q(group__gt=0)
            ),
        ]

    def __str__(self) -> str:
        disease = f" {self.disease}" if self.disease else ""
        return f"{self.decision} {self.code}{disease}"


class MaterialisedCohort(models.Model):
    """A cohort computed once and served until consent changes (issue 12, point 6).

    Keyed by dataset and ``key`` (``permit:<number>``, or a purpose for cohorts asked without a
    permit). It is served while the dataset's cohort version is still ``version``, the purpose
    and opt-out cutoff are the same (``purpose_digest``) and no consent or provision period
    starts or ends in between (``valid_until``: the next such moment when it was computed).
    ``ids`` is the zlib-compressed newline-joined sorted pseudonymous ids.
    """

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    purpose_digest = models.CharField(max_length=64)
    version = models.PositiveBigIntegerField()
    computed_at = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField()
    digest = models.CharField(max_length=71)
    ids = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "key"], name="cohort_one_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.key} v{self.version} ({self.count})"
