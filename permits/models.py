"""Permits and the keys that sign them.

``SigningKey`` holds only the public half of the hub's Ed25519 keys; the private half lives in
the key directory or the environment (see ``permits/keys.py``), never in the database.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
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
    status = models.CharField(max_length=16, choices=SigningKeyStatus.choices,
                              default=SigningKeyStatus.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(
        null=True, blank=True,
        help_text=_("The latest expiry of anything this key signed; published until then."),
    )

    objects = SigningKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                    name="signing_key_one_active"),
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
