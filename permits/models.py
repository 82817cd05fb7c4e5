"""Permits and the keys that sign them.

``SigningKey`` holds only the public half of the hub's Ed25519 keys; the private half lives in
the key directory or the environment (see ``permits/keys.py``), never in the database.
``Permit`` (with its datasets and algorithms), the cached ``RevocationList`` and the nodes'
``ExecutionReceipt`` rows follow; their life cycle is ``permits/services.py``.
"""

from __future__ import annotations

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


#: A permit in one of these states can still be used once it is (again) active; at most one per
#: request, and the suspended ones are on the revocation list.
LIVE_STATUSES = (PermitStatus.ACTIVE, PermitStatus.SUSPENDED)
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
        max_length=16, choices=PermitStatus.choices, default=PermitStatus.ACTIVE
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
            models.CheckConstraint(
                condition=Q(status__in=PermitStatus.values), name="permit_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="permit_status_expiry"),
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
