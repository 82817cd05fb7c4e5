"""Permits and the keys that sign them.

``SigningKey`` holds only the public half of the hub's Ed25519 keys; the private half lives in
the key directory or the environment (see ``permits/keys.py``), never in the database.
``Permit`` (with its datasets and algorithms), the cached ``RevocationList`` and the nodes'
``ExecutionReceipt`` rows follow; their life cycle is ``permits/services.py``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SigningKeyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class SigningKeyQuerySet(models.QuerySet):
    def note_signed_until(self, moment: datetime) -> int:
        """Keep these keys published at least until ``moment``; ``not_after`` only moves
        forward, in one conditional UPDATE, so concurrent signers never move it back."""
        return self.filter(Q(not_after__isnull=True) | Q(not_after__lt=moment)).update(
            not_after=moment
        )


class SigningKey(models.Model):
    """One hub signing key. Exactly one is active; retired keys stay published while anything
    they signed is still valid (``not_after``), so rotation never breaks an issued permit."""

    kid = models.CharField(max_length=64, unique=True, help_text=_("RFC 7638 JWK thumbprint"))
    public_jwk = models.JSONField()
    status = models.CharField(
        max_length=16, choices=SigningKeyStatus.choices, default=SigningKeyStatus.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The latest expiry of anything this key signed; published until then."),
    )

    objects = SigningKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="signing_key_one_active"
            ),
            models.CheckConstraint(
                condition=Q(status="active", retired_at__isnull=True)
                | Q(status="retired", retired_at__isnull=False),
                name="signing_key_retired_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kid} ({self.status})"

    def note_signed_until(self, moment: datetime) -> None:
        """Keep this key published at least until ``moment``."""
        SigningKey.objects.filter(pk=self.pk).note_signed_until(moment)
        self.refresh_from_db(fields=["not_after"])


# --- permits -----------------------------------------------------------------------------------


class PermitStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")
    CLOSED = "closed", _("Ended with its request")
    # EHDS: granted, waiting for every team member to accept the data-use terms; unsigned until
    # then, so no node can hold a token of it. Lapses when nobody accepts in time.
    AWAITING_ACCEPTANCE = "awaiting_acceptance", _("Awaiting acceptance of the terms")
    LAPSED = "lapsed", _("Lapsed (the terms were not accepted in time)")


#: What pages call an active permit whose validity has not begun (Permit.shown_status).
NOT_YET_VALID = "not_yet_valid"
NOT_YET_VALID_LABEL = _("Not yet valid")

#: A permit in one of these states can still be used once it is (again) active; at most one per
#: request, and the suspended ones are on the revocation list.
LIVE_STATUSES = (PermitStatus.ACTIVE, PermitStatus.SUSPENDED)
#: The audit action of a permit's issue: its log proof (a node's ``--require-logged``) is of it.
ISSUE_EVENT = "permit.issue"
#: These put the permit's jti on the signed revocation list.
LISTED_STATUSES = (
    PermitStatus.SUSPENDED,
    PermitStatus.REVOKED,
    PermitStatus.SUPERSEDED,
    PermitStatus.CLOSED,
)


class Permit(models.Model):
    """A signed permit: what a node may run, on which datasets, for whom, until when.

    Everything the token says is also stored here (a snapshot at issue, never recomputed), so the
    permit page, the register and the audit reports show what the nodes were told. The token is
    public-key verifiable, not a secret; it is kept so it can be handed to a node again.
    """

    number = models.CharField(max_length=32, unique=True, editable=False)
    jti = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        "requests_app.AccessRequest", on_delete=models.PROTECT, related_name="permits"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="permits"
    )
    holder_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="permits"
    )
    principal_investigator = models.CharField(
        _("principal investigator"), max_length=200, blank=True
    )
    datasets = models.ManyToManyField(
        "catalogue.Dataset", through="PermitDataset", related_name="permits"
    )
    algorithms = models.ManyToManyField(
        "catalogue.Algorithm", through="PermitAlgorithm", related_name="permits"
    )
    purpose_codes = models.JSONField(_("purpose (DUO)"), default=list)
    purpose_diseases = models.JSONField(_("diseases (MONDO)"), default=list, blank=True)
    is_commercial = models.BooleanField(_("commercial use"), default=False)
    is_for_profit = models.BooleanField(_("for-profit holder"), default=False)
    is_aggregate_only = models.BooleanField(_("aggregate output only"), default=True)
    min_cell_count = models.PositiveIntegerField(_("minimum cell count"))
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    issued_at = models.DateTimeField(_("issued at"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the hub issued it on approval."),
    )
    status = models.CharField(
        max_length=24, choices=PermitStatus.choices, default=PermitStatus.ACTIVE
    )
    status_reason = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    token = models.TextField(_("signed token (compact JWS)"), blank=True)
    kid = models.CharField(max_length=64, blank=True)
    token_sha256 = models.CharField(max_length=64, blank=True)
    # EHDS: the permit waits for the team's acceptance of the terms until this moment.
    acceptance_due_at = models.DateTimeField(_("acceptance due"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("terms accepted by the whole team"), null=True, blank=True)
    # The data-use terms the team accepted: [{dataset, version, title, sha256}] (signed too).
    terms = models.JSONField(_("accepted terms"), default=list, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            # "Approving the same request twice at once issues exactly one permit": the request
            # row lock serialises issuers; this is the backstop should anything bypass it.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=LIVE_STATUSES),
                name="permit_one_live_per_request",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="permit_validity_ordered"
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="awaiting_acceptance"),
                name="permit_one_awaiting_per_request",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PermitStatus.values), name="permit_status_valid"
            ),
        ]
        indexes = [
            # Expiry, and a node's list of usable permits in its order (valid_until, id): a
            # page is an index range, not a sort of every live permit (120 → 24 ms at 25,000).
            models.Index(fields=["status", "valid_until", "id"], name="permit_status_expiry_id"),
            # The permit lists' and the register's order: a page is an index range.
            models.Index(fields=["-issued_at", "-id"], name="permit_recent_first"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("permits:detail", args=[self.number])

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def effective_status(self) -> str:
        """The status as a node sees it: an active permit past ``valid_until`` is expired even
        before the periodic task has written that down."""
        if self.status in LIVE_STATUSES and self.valid_until <= timezone.now():
            return PermitStatus.EXPIRED
        return self.status

    def get_effective_status_display(self) -> str:
        return PermitStatus(self.effective_status).label

    @property
    def shown_status(self) -> str:
        """The status as people read it: an active permit whose validity has not begun is "not
        yet valid" (nodes refuse it until then), not "active". Pages and PDFs only; the API and
        the nodes keep ``effective_status``."""
        status = self.effective_status
        if status == PermitStatus.ACTIVE and self.valid_from > timezone.now():
            return NOT_YET_VALID
        return status

    def get_shown_status_display(self) -> str:
        status = self.shown_status
        return NOT_YET_VALID_LABEL if status == NOT_YET_VALID else PermitStatus(status).label

    @property
    def first_day(self) -> dt.date:
        """The first day of validity in the hub's time zone."""
        return timezone.localtime(self.valid_from).date()

    @property
    def last_day(self) -> dt.date:
        """The last day of validity, included: a permit valid until midnight at the end of
        30 November (the ethics approval's last day) is valid "until 30 Nov", not "1 Dec"."""
        return timezone.localtime(self.valid_until - dt.timedelta(microseconds=1)).date()

    @property
    def is_usable(self) -> bool:
        """Active and inside its validity window now."""
        now = timezone.now()
        return self.status == PermitStatus.ACTIVE and self.valid_from <= now < self.valid_until


class PermitDataset(models.Model):
    """A granted dataset in a permit, with the node it sits at and its cohort at issue."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="permit_datasets")
    dataset = models.ForeignKey(
        "catalogue.Dataset", on_delete=models.PROTECT, related_name="permit_entries"
    )
    node_identifier = models.CharField(max_length=64, db_index=True)
    cohort_version = models.PositiveBigIntegerField()
    cohort_digest = models.CharField(max_length=71)
    cohort_count = models.PositiveIntegerField()
    owner_conditions = models.TextField(blank=True)

    class Meta:
        ordering = ["permit", "dataset__slug"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "dataset"], name="permit_dataset_once"),
        ]

    def __str__(self) -> str:
        return f"{self.permit_id}: {self.dataset_id} @ {self.node_identifier}"


class PermitAlgorithm(models.Model):
    """A permitted algorithm, with its name, version and digest as they were at issue."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="permit_algorithms")
    algorithm = models.ForeignKey(
        "catalogue.Algorithm", on_delete=models.PROTECT, related_name="permit_entries"
    )
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    digest = models.CharField(max_length=71)

    class Meta:
        ordering = ["permit", "name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "algorithm"], name="permit_algorithm_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class RevocationList(models.Model):
    """The signed revocation list, cached as one row (pk 1) so the endpoint serves it without
    signing on the request path. ``is_stale`` is set in the same transaction as any change that
    alters the list, so a lost regeneration task can never leave a revoked permit off it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    token = models.TextField(blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    entries = models.PositiveIntegerField(default=0)
    is_stale = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="revocation_list_singleton"),
        ]

    def __str__(self) -> str:
        return f"revocation list ({self.entries} entries, issued {self.issued_at})"


class ReceiptStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class ExecutionReceipt(models.Model):
    """A node's signed statement of one run attempt under a permit (including refusals)."""

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="receipts")
    node = models.ForeignKey("catalogue.Node", on_delete=models.PROTECT, related_name="receipts")
    dataset = models.ForeignKey(
        "catalogue.Dataset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts",
    )
    dataset_identifier = models.CharField(max_length=100, blank=True)
    algorithm_digest = models.CharField(max_length=71, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cohort_version = models.PositiveBigIntegerField(null=True, blank=True)
    cohort_digest = models.CharField(max_length=71, blank=True)
    cohort_size = models.PositiveIntegerField(null=True, blank=True)
    output_digest = models.CharField(max_length=71, blank=True)
    is_disclosure_passed = models.BooleanField(default=False)
    disclosure = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=ReceiptStatus.choices)
    reason = models.CharField(max_length=64, blank=True)
    jti = models.CharField(max_length=100, unique=True)
    issued_at = models.DateTimeField()
    received_at = models.DateTimeField()
    token = models.TextField()

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["permit", "received_at"], name="receipt_by_permit")]

    def __str__(self) -> str:
        return f"{self.permit_id} {self.status} @ {self.received_at:%Y-%m-%d %H:%M}"


# --- results (EHDS Art. 61) --------------------------------------------------------------------


class ResultPublication(models.Model):
    """A publication of the results of a permit, recorded by its holder (Art. 61(4)); shown on
    the public register entry. A DOI or a URL (at least one), a title and the publication date."""

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="publications")
    title = models.CharField(_("title"), max_length=500)
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    published_on = models.DateField(_("published on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["permit", "published_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(doi="") | ~Q(url=""), name="result_publication_doi_or_url"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.permit_id}: {self.title}"

    @property
    def link(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else self.url


class SignificantFinding(models.Model):
    """A significant finding the holder reports to the access body (Art. 61(3)): staff read it;
    it is not published."""

    permit = models.ForeignKey(Permit, on_delete=models.PROTECT, related_name="findings")
    statement = models.TextField(_("statement"), max_length=5000)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["permit", "reported_at", "pk"]

    def __str__(self) -> str:
        return f"{self.permit_id} finding @ {self.reported_at:%Y-%m-%d}"


class ResultsReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", _("Results due soon")
    OVERDUE = "overdue", _("Results overdue")


class ResultsReminder(models.Model):
    """That the holder was reminded of a permit's results, once per kind: the unique
    constraint makes a second beat (or a second worker) send nothing."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="results_reminders")
    kind = models.CharField(max_length=16, choices=ResultsReminderKind.choices)
    due_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["permit", "sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "kind"], name="results_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.permit_id} {self.kind}"


def run_output_path(instance: RunOutput, filename: str) -> str:
    return f"runs/{instance.receipt.permit.number}/{instance.digest.removeprefix('sha256:')}"


class RunOutput(models.Model):
    """The disclosure-checked aggregate output of one run, uploaded by the node that ran it with
    the run's signed receipt; its digest is the receipt's ``output_digest``. A private file:
    served only to the permit holder's team (``requests_app.visibility``, ``run_results``)."""

    receipt = models.OneToOneField(
        ExecutionReceipt, on_delete=models.PROTECT, related_name="output"
    )
    file = models.FileField(upload_to=run_output_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    digest = models.CharField(max_length=71)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.receipt_id}: {self.original_name}"


class PermitReportKind(models.TextChoices):
    PROGRESS = "progress", _("Progress report")
    CLOSEOUT = "closeout", _("Closeout report")


class PermitReport(models.Model):
    """A report the holder owes on a permit: progress reports while it runs, a closeout report
    after it ends. A row exists once the report is due soon (the reminder sweep) or filed."""

    permit = models.ForeignKey(Permit, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=16, choices=PermitReportKind.choices)
    due_on = models.DateField()
    summary = models.TextField(blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "kind", "due_on"], name="permit_report_once"),
        ]
        indexes = [models.Index(fields=["filed_at", "due_on"], name="permit_report_due")]

    def __str__(self) -> str:
        return f"{self.permit_id} {self.kind} due {self.due_on}"

    @property
    def is_overdue(self) -> bool:
        return self.filed_at is None and self.due_on < timezone.localdate()
