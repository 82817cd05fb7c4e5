"""After the decision (EHDS Chapter IV): amendments and renewals of a permitted request
(Art. 68), the fee schedules of the access bodies and the fee of each request (Art. 62), and
appeals against a refusal.

Data and invariants only; the rows of ``workflow.py`` and ``services/after.py`` write them.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from catalogue.models import Algorithm

User = settings.AUTH_USER_MODEL


class AmendmentKind(models.TextChoices):
    AMENDMENT = "amendment", _("Amendment (team or algorithms)")
    RENEWAL = "renewal", _("Renewal (a longer period)")


class AmendmentOutcome(models.TextChoices):
    PENDING = "pending", _("In review")
    GRANTED = "granted", _("Granted: a new permit version")
    REFUSED = "refused", _("Refused: the permit stays as it was")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Amendment(models.Model):
    """What a permit holder asked to change, and why: the form of the ``amend`` action. The
    request's next round carries the changes; the boards and owners review it as any round."""

    request = models.ForeignKey(
        "requests_app.AccessRequest", on_delete=models.CASCADE, related_name="amendments"
    )
    round = models.PositiveSmallIntegerField(help_text=_("The round that reviews it."))
    kind = models.CharField(_("kind"), max_length=16, choices=AmendmentKind.choices)
    changes = models.TextField(_("what changes"), max_length=3000)
    reason = models.TextField(_("why"), max_length=3000)
    new_period_end = models.DateField(_("new end of the period"), null=True, blank=True)
    previous_period_end = models.DateField(null=True, blank=True)
    added_team = models.JSONField(_("added team members"), default=list, blank=True)
    added_algorithms = models.ManyToManyField(Algorithm, blank=True, related_name="+")
    permit_number = models.CharField(
        _("permit it would replace"), max_length=32, help_text=_("The permit live when asked.")
    )
    outcome = models.CharField(
        max_length=16, choices=AmendmentOutcome.choices, default=AmendmentOutcome.PENDING
    )
    new_permit_number = models.CharField(max_length=32, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "round"], name="amendment_once_per_round"),
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(outcome="pending"),
                name="one_pending_amendment_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} (round {self.round})"


def _percent(name: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        name, default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )


class FeeSchedule(models.Model):
    """An access body's fee for handling an application (Art. 62), with the reductions it
    grants by the kind of the requesting organisation."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="fee_schedule",
        verbose_name=_("access body"),
    )
    base_fee = models.DecimalField(
        _("fee per application"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    reduction_public_body = _percent(_("reduction for public bodies (%)"))
    reduction_university = _percent(_("reduction for universities (%)"))
    reduction_small_enterprise = _percent(_("reduction for small enterprises (%)"))
    note = models.CharField(_("note shown to applicants"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("fee schedule")

    def __str__(self) -> str:
        return f"{self.organisation}: {self.base_fee}"


class RequestFee(models.Model):
    """The fee of a request as computed at its first submission; never changed afterwards."""

    request = models.OneToOneField(
        "requests_app.AccessRequest", on_delete=models.CASCADE, related_name="fee"
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    lines = models.JSONField(default=list)
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class AppealOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting for the outcome")
    UPHELD = "upheld", _("Upheld: the request is reviewed again")
    DISMISSED = "dismissed", _("Dismissed: the refusal stands")


# What staff may decide (every outcome but waiting): the form, the API and its schema.
APPEAL_OUTCOMES = [(c.value, c.label) for c in AppealOutcome if c != AppealOutcome.PENDING]


class Appeal(models.Model):
    """A refused applicant's appeal against the refusal of one round, and its outcome."""

    request = models.ForeignKey(
        "requests_app.AccessRequest", on_delete=models.CASCADE, related_name="appeals"
    )
    round = models.PositiveSmallIntegerField()
    reasons = models.TextField(_("reasons"), max_length=5000)
    lodged_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    lodged_at = models.DateTimeField()
    outcome = models.CharField(
        max_length=16, choices=AppealOutcome.choices, default=AppealOutcome.PENDING
    )
    outcome_reasons = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["lodged_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "round"], name="appeal_once_per_refusal"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} appeal (round {self.round}): {self.outcome}"
