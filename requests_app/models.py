"""Access requests, their review boards and the decisions on them.

Data and invariants only; the transition table is in ``workflow.py`` and every write is a
service in ``services/``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from catalogue.models import Algorithm, Dataset
from consent.legal import EhdsCategory, GdprArt6Basis, GdprArt9Basis

User = settings.AUTH_USER_MODEL


class BoardKind(models.TextChoices):
    ETHICS = "ethics_committee", _("Ethics committee")
    DAC = "data_access_committee", _("Data access committee")


class QuorumRule(models.TextChoices):
    MIN_VOTES = "min_votes", _("A minimum number of votes, majority decides")
    THRESHOLD = "threshold", _("A minimum number of votes and an approval threshold")
    CHAIR = "chair_decides", _("The chair decides")


class ReviewBoard(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=BoardKind.choices)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="review_boards"
    )
    quorum_rule = models.CharField(
        _("quorum rule"), max_length=16, choices=QuorumRule.choices, default=QuorumRule.MIN_VOTES
    )
    min_votes = models.PositiveSmallIntegerField(
        _("minimum votes"), default=2, validators=[MinValueValidator(1)]
    )
    approval_threshold = models.PositiveSmallIntegerField(
        _("approval threshold (%)"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Share of votes that must approve (threshold rule)."),
    )
    deadline_days = models.PositiveSmallIntegerField(
        _("deadline (days)"), default=21, validators=[MinValueValidator(1)]
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("remind members this many days before the deadline"), default=3
    )
    contact_email = models.EmailField(_("contact"), blank=True)
    group = models.OneToOneField(
        "auth.Group",
        on_delete=models.PROTECT,
        related_name="review_board",
        help_text=_("Holds the board's members; object grants on requests go to this group."),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BoardRole(models.TextChoices):
    CHAIR = "chair", _("Chair")
    SECRETARY = "secretary", _("Secretary")
    MEMBER = "member", _("Member")


class BoardMembership(models.Model):
    board = models.ForeignKey(ReviewBoard, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="board_memberships")
    role = models.CharField(max_length=16, choices=BoardRole.choices, default=BoardRole.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board", "user"], name="board_member_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.board})"


class DatasetReviewStage(models.Model):
    """A board that must approve requests for a dataset, and its place in the order."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="review_stages")
    board = models.ForeignKey(ReviewBoard, on_delete=models.PROTECT, related_name="dataset_stages")
    order = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["dataset", "order"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "board"], name="dataset_board_once"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} → {self.board} (#{self.order})"


class RequestState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted (automated checks)")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    PERMITTED = "permitted", _("Permitted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


class AccessRequest(models.Model):
    reference = models.CharField(max_length=24, unique=True, editable=False)
    state = models.CharField(
        max_length=20, choices=RequestState.choices, default=RequestState.DRAFT, db_index=True
    )
    round = models.PositiveSmallIntegerField(default=0, help_text=_("Submission round (1, 2, …)"))
    requester = models.ForeignKey(User, on_delete=models.PROTECT, related_name="access_requests")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="access_requests"
    )
    # Project
    title = models.CharField(_("title"), max_length=300)
    lay_summary = models.TextField(_("lay summary"), blank=True)
    scientific_abstract = models.TextField(_("scientific abstract"), blank=True)
    ehds_category = models.CharField(
        _("EHDS purpose (Art. 53(1))"), max_length=1, choices=EhdsCategory.choices, blank=True
    )
    purpose_code = models.CharField(_("primary purpose (DUO)"), max_length=11, blank=True)
    research_types = models.JSONField(_("research types (DUO)"), default=list, blank=True)
    purpose_diseases = models.JSONField(_("diseases studied (MONDO)"), default=list, blank=True)
    is_commercial = models.BooleanField(_("commercial use"), default=False)
    funding_source = models.CharField(_("funding source"), max_length=300, blank=True)
    commercial_interests = models.TextField(_("commercial interests"), blank=True)
    no_prohibited_use = models.BooleanField(
        _("none of the uses prohibited by EHDS Art. 54"), default=False
    )
    # People
    pi_name = models.CharField(_("principal investigator"), max_length=200, blank=True)
    pi_email = models.EmailField(_("principal investigator's email"), blank=True)
    pi_orcid = models.CharField(_("principal investigator's ORCID iD"), max_length=19, blank=True)
    # Data
    datasets = models.ManyToManyField(
        Dataset, through="RequestedDataset", related_name="access_requests"
    )
    # Settings
    algorithms = models.ManyToManyField(Algorithm, related_name="access_requests", blank=True)
    processing_outside_eea = models.BooleanField(_("processing outside the EEA"), default=False)
    outside_eea_countries = models.CharField(
        _("countries outside the EEA"), max_length=200, blank=True
    )
    gdpr_art6_basis = models.CharField(
        _("GDPR Art. 6 legal basis"), max_length=32, blank=True, choices=GdprArt6Basis.choices
    )
    gdpr_art9_basis = models.CharField(
        _("GDPR Art. 9(2) condition"), max_length=32, blank=True, choices=GdprArt9Basis.choices
    )
    ethics_reference = models.CharField(_("ethics approval reference"), max_length=100, blank=True)
    ethics_committee = models.CharField(_("approving ethics committee"), max_length=200, blank=True)
    ethics_expires_on = models.DateField(_("ethics approval valid until"), null=True, blank=True)
    dpia_done = models.BooleanField(_("DPIA carried out"), default=False)
    dpia_summary = models.TextField(_("DPIA summary"), blank=True)
    # Outputs
    expected_outputs = models.TextField(_("expected outputs"), blank=True)
    period_start = models.DateField(_("start of the requested period"), null=True, blank=True)
    period_end = models.DateField(_("end of the requested period"), null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requester", "state"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__isnull=True)
                | models.Q(period_start__isnull=True)
                | models.Q(period_end__gt=models.F("period_start")),
                name="request_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("requests:detail", args=[self.reference])


class OwnerDecision(models.TextChoices):
    PENDING = "pending", _("Waiting for the owner")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class RequestedDataset(models.Model):
    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="requested_datasets"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="requested_in")
    decision = models.CharField(
        max_length=16, choices=OwnerDecision.choices, default=OwnerDecision.PENDING
    )
    conditions = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset__title"]
        constraints = [
            models.UniqueConstraint(fields=["request", "dataset"], name="request_dataset_once"),
        ]

    def __str__(self) -> str:
        return f"{self.request.reference}: {self.dataset} ({self.decision})"


class TeamMember(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="team")
    email = models.EmailField()
    role = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="team_memberships"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    accepted_terms_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invited_at"]
        constraints = [models.UniqueConstraint(fields=["request", "email"], name="team_once")]

    def __str__(self) -> str:
        return self.email


class AttachmentKind(models.TextChoices):
    ETHICS_LETTER = "ethics_letter", _("Ethics approval letter")
    DPIA = "dpia", _("Data protection impact assessment")
    PROTOCOL = "protocol", _("Study protocol")
    OTHER = "other", _("Other")


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"requests/{instance.request.reference}/{instance.sha256}"


class Attachment(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class Submission(models.Model):
    """The answers exactly as submitted in one round: what reviewers read and the diff shows."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="submissions")
    round = models.PositiveSmallIntegerField()
    answers = models.JSONField()
    digest = models.CharField(max_length=64)
    submitted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["round"]
        constraints = [
            models.UniqueConstraint(fields=["request", "round"], name="submission_round_once"),
        ]

    def __str__(self) -> str:
        return f"{self.request.reference} round {self.round}"


class StageState(models.TextChoices):
    WAITING = "waiting", _("Waiting for an earlier board")
    OPEN = "open", _("Open for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    CANCELLED = "cancelled", _("Cancelled")


class ReviewStage(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="stages")
    board = models.ForeignKey(ReviewBoard, on_delete=models.PROTECT, related_name="stages")
    round = models.PositiveSmallIntegerField()
    order = models.PositiveSmallIntegerField()
    state = models.CharField(
        max_length=20, choices=StageState.choices, default=StageState.WAITING, db_index=True
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["round", "order"]
        constraints = [
            models.UniqueConstraint(fields=["request", "board", "round"], name="stage_once"),
            models.UniqueConstraint(
                fields=["request"],
                condition=models.Q(state="open"),
                name="one_open_stage_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request.reference} · {self.board} (round {self.round})"


class ConflictDeclaration(models.Model):
    stage = models.ForeignKey(ReviewStage, on_delete=models.CASCADE, related_name="declarations")
    member = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    has_conflict = models.BooleanField()
    statement = models.TextField(blank=True)
    declared_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stage", "member"], name="declare_once_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.member} on {self.stage}: {'conflict' if self.has_conflict else 'none'}"


class VoteChoice(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    REQUEST_CHANGES = "request_changes", _("Request changes")


class Vote(models.Model):
    stage = models.ForeignKey(ReviewStage, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=16, choices=VoteChoice.choices)
    comment = models.TextField(blank=True)
    cast_at = models.DateTimeField()

    class Meta:
        ordering = ["cast_at"]
        constraints = [models.UniqueConstraint(fields=["stage", "voter"], name="vote_once")]

    def __str__(self) -> str:
        return f"{self.voter}: {self.choice}"


class Comment(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    round = models.PositiveSmallIntegerField()
    is_internal = models.BooleanField(
        default=False, help_text=_("Seen by the boards only, not by the requester.")
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.author} on {self.request_id}"


class AccessBar(models.Model):
    """A person barred from new requests on a dataset (set when their permit is revoked)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_bars")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="access_bars")
    reason = models.TextField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dataset"],
                condition=models.Q(lifted_at__isnull=True),
                name="one_active_bar_per_user_dataset",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} barred from {self.dataset}"


class CheckResult(models.Model):
    """A stored, explained result of one automated consent or legal check."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="checks")
    round = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64)
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16)
    explanation = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "dataset_id"]
        indexes = [models.Index(fields=["request", "round"])]

    def __str__(self) -> str:
        return f"{self.name}: {self.status}"
