"""Generated reports: a row per PDF someone asked for, with its progress while Celery builds it.

The subject is stored as a reference string (request reference, permit number, organisation id
or ``hub``) rather than a foreign key, because a report is a record of what was read at the
time: it stays valid, and downloadable, whatever later happens to its subject.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def report_path(instance: Report, filename: str) -> str:
    """A random name: a report's path says nothing about its subject and cannot be guessed
    (files are private anyway; this keeps a leaked directory listing or log line harmless)."""
    return f"reports/{uuid.uuid4().hex}.pdf"


class ReportKind(models.TextChoices):
    DOSSIER = "dossier", _("Request dossier")
    CERTIFICATE = "certificate", _("Permit certificate")
    PERIOD = "period", _("Period report")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Report(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=ReportKind.choices)
    subject = models.CharField(
        _("subject"),
        max_length=64,
        help_text=_(
            "Request reference, permit number, or 'hub' / an organisation for a period report."
        ),
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    message = models.CharField(_("message"), max_length=300, blank=True)
    file = models.FileField(_("file"), upload_to=report_path, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    head_seq = models.PositiveBigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    is_chain_intact = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="report_by_requester")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="report_progress_percent"
            ),
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True)
                | models.Q(period_end__isnull=True)
                | models.Q(period_end__gte=models.F("period_start")),
                name="report_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED)

    @property
    def filename(self) -> str:
        stamp = self.created_at.strftime("%Y%m%d-%H%M%S") if self.created_at else ""
        return f"lifes-{self.kind}-{self.subject}-{stamp}.pdf".replace("/", "-")


class MetricsSnapshot(models.Model):
    """The figures of the metrics page as last computed by the beat refresh
    (``reports.services.metrics_refresh``), so a page view reads one row instead of the tables
    and the log. ``through_event`` is the last audit event id the figures had seen: a refresh
    that finds no newer event only marks the figures checked."""

    name = models.CharField(max_length=32, unique=True)
    figures = models.JSONField(default=dict)
    through_event = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} metrics as of {self.checked_at:%Y-%m-%d %H:%M}"
