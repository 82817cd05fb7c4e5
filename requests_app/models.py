"""Access requests, their review boards and the decisions on them.

Data and invariants only; the transition table is in ``workflow.py`` and every write is a
service in ``services/``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from catalogue.models import Algorithm, Dataset
from consent.checks import CHECK_TITLES
from consent.checks import STATUS_LABELS as CHECK_STATUS_LABELS
from consent.legal import EhdsCategory, GdprArt6Basis, GdprArt9Basis
from consent.reasons_i18n import stored_reasons_text

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


class BoardMembershipQuerySet(models.QuerySet):
    def chairs(self) -> models.QuerySet:
        """The memberships that decide for their board (the board chair rule)."""
        return self.filter(role__in=BoardMembership.CHAIR_ROLES)


class BoardMembership(models.Model):
    # The board chair rule, in its one home: a chair or a secretary closes rounds and records
    # the board's decision. Reached as ``membership.is_chair`` or ``.chairs()`` on any
    # membership queryset (``user.board_memberships.chairs()`` too, so the accounts app, which
    # may not import this one, asks the same rule).
    CHAIR_ROLES = (BoardRole.CHAIR, BoardRole.SECRETARY)

    board = models.ForeignKey(ReviewBoard, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="board_memberships")
    role = models.CharField(max_length=16, choices=BoardRole.choices, default=BoardRole.MEMBER)

    objects = BoardMembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["board", "user"], name="board_member_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}, {self.board})"

    @property
    def is_chair(self) -> bool:
        return self.role in self.CHAIR_ROLES


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
    # The EHDS completeness check (Reg. (EU) 2025/327 Art. 68): returned to the applicant with
    # the missing items; it lapses when the completion window passes.
    INCOMPLETE = "incomplete", _("Incomplete (waiting for the applicant)")
    LAPSED = "lapsed", _("Lapsed (not completed in time)")
    APPEALED = "appealed", _("Appeal lodged")


def _limit(characters: int) -> dict:
    """A free-text answer's maximum length, enforced everywhere: forms (the field's
    ``max_length``), the services' ``full_clean`` (the validator) and the API (its serializer
    reads ``max_length`` from here). Generous for the text each asks for, small enough that
    nobody pastes a book into a review."""
    return {"max_length": characters, "validators": [MaxLengthValidator(characters)]}


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
    lay_summary = models.TextField(_("lay summary"), blank=True, **_limit(2000))
    scientific_abstract = models.TextField(_("scientific abstract"), blank=True, **_limit(5000))
    ehds_category = models.CharField(
        _("EHDS purpose (Art. 53(1))"), max_length=1, choices=EhdsCategory.choices, blank=True
    )
    purpose_code = models.CharField(_("primary purpose (DUO)"), max_length=11, blank=True)
    research_types = models.JSONField(_("research types (DUO)"), default=list, blank=True)
    purpose_diseases = models.JSONField(_("diseases studied (MONDO)"), default=list, blank=True)
    is_commercial = models.BooleanField(_("commercial use"), default=False)
    funding_source = models.CharField(_("funding source"), max_length=300, blank=True)
    commercial_interests = models.TextField(_("commercial interests"), blank=True, **_limit(2000))
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
    dpia_summary = models.TextField(_("DPIA summary"), blank=True, **_limit(5000))
    # Outputs
    expected_outputs = models.TextField(_("expected outputs"), blank=True, **_limit(3000))
    period_start = models.DateField(_("start of the requested period"), null=True, blank=True)
    period_end = models.DateField(_("end of the requested period"), null=True, blank=True)
    # Answers to the questions of custodian templates (any key that is not a column above).
    extra_answers = models.JSONField(_("further answers"), default=dict, blank=True)
    # EHDS: the expected public benefit, and the declaration against stigmatisation or harm
    # (Recital 73); questions of the default form (five_safes.EHDS_QUESTIONS).
    public_benefit = models.TextField(_("expected public benefit"), blank=True, **_limit(3000))
    no_stigmatisation = models.BooleanField(
        _("the results will not be used to stigmatise or harm"), default=False
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    # How a violated constraint is told to a person (``lifes.errors.full_clean``).
    constraint_messages = {
        "request_period_ordered": (
            "period_end",
            _("The end of the period must come after its start."),
        ),
    }

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["requester", "state"]),
            # Every request list's order (newest change first): a page is an index range.
            models.Index(fields=["-updated_at", "-id"], name="request_recent_first"),
            # The public register's refusals, newest decision first: a page is an index range.
            models.Index(
                fields=["-decided_at", "-id"],
                condition=models.Q(state=RequestState.REJECTED),
                name="request_refusals_recent",
            ),
        ]
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


# What an owner may decide (every choice but waiting): the decide form, the API and its schema.
OWNER_DECISIONS = [(c.value, c.label) for c in OwnerDecision if c != OwnerDecision.PENDING]


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
        indexes = [
            # "Waiting for you" of a data owner: the pending decisions on their datasets.
            models.Index(
                fields=["dataset", "request"],
                condition=models.Q(decision=OwnerDecision.PENDING),
                name="requested_pending_by_dataset",
            ),
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
    # The form templates (exact versions) this round answered; a used template is immutable.
    templates = models.ManyToManyField(
        "requests_app.FormTemplate", blank=True, related_name="submissions"
    )

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
        indexes = [
            # A board's queue in its order (a page is an index range), and "waiting for you"
            # of a board member: the open stages of their boards, not every open stage of the
            # hub (32 → 12 ms at 15,000 open stages; ``request`` read from the index).
            models.Index(
                fields=["board", "deadline", "id"],
                include=["request"],
                condition=models.Q(state=StageState.OPEN),
                name="stage_open_by_board",
            ),
            # Whether a request is in its boards' phase (``permissions.boards_phase_filter``).
            models.Index(
                fields=["request", "round"],
                condition=models.Q(state__in=[StageState.OPEN, StageState.WAITING]),
                name="stage_live_by_request",
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

    @property
    def title(self) -> str:
        return str(CHECK_TITLES.get(self.name, self.name.replace("_", " ")))

    @property
    def status_label(self) -> str:
        return str(CHECK_STATUS_LABELS.get(self.status, self.status))

    @property
    def shown_explanation(self) -> str:
        """The explanation in the reader's language. The matcher's reasons, when the result
        kept their templates (``reason_messages``), are said afresh in that language; else the
        explanation kept for that language; else (results stored before checks were explained
        per language) the one they ran in."""
        details = self.details or {}
        messages = details.get("reason_messages")
        if messages:
            try:
                return " ".join(stored_reasons_text(messages))
            except (KeyError, TypeError, ValueError):
                pass  # a template this release no longer knows: the stored text below
        explanations = details.get("explanations") or {}
        return explanations.get(get_language() or "", "") or self.explanation


# --- EHDS: data minimisation per dataset, terms accepted per version, team invitations ----------


class DataForm(models.TextChoices):
    """In what form the data are needed (EHDS Art. 66(2)-(3)): anonymised unless the applicant
    justifies why pseudonymised data are needed."""

    ANONYMISED = "anonymised", _("Anonymised data will do")
    PSEUDONYMISED = "pseudonymised", _("Pseudonymised data are needed")


class DataMinimisation(models.Model):
    """What of one requested dataset is needed (EHDS Art. 66, data minimisation): the
    variables from its data dictionary or a described subset, the population and period, and
    the form of the data."""

    item = models.OneToOneField(
        RequestedDataset, on_delete=models.CASCADE, related_name="minimisation"
    )
    variables = models.JSONField(_("variables"), default=list, blank=True)
    subset = models.TextField(_("subset"), blank=True, **_limit(2000))
    population = models.TextField(_("population"), blank=True, **_limit(2000))
    data_from = models.DateField(_("data from"), null=True, blank=True)
    data_until = models.DateField(_("data until"), null=True, blank=True)
    data_form = models.CharField(
        _("form of the data"), max_length=16, choices=DataForm.choices, blank=True
    )
    pseudonymisation_reason = models.TextField(
        _("why pseudonymised data are needed"), blank=True, **_limit(3000)
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(data_form="pseudonymised", pseudonymisation_reason=""),
                name="minimisation_pseudonymised_justified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {len(self.variables)} variables"


class TermsAcceptance(models.Model):
    """A team member's personal acceptance of one version of a dataset's data-use terms."""

    member = models.ForeignKey(TeamMember, on_delete=models.CASCADE, related_name="acceptances")
    terms = models.ForeignKey(
        "catalogue.DataUseTerms", on_delete=models.PROTECT, related_name="acceptances"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()

    class Meta:
        ordering = ["accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["member", "terms"], name="terms_accepted_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member} accepted {self.terms}"


class TeamInvitation(models.Model):
    """A single-use, expiring link for a team member without an account: it creates the account
    (for the invited address only), after which the member accepts the terms themselves. Only
    the token's SHA-256 is stored."""

    member = models.ForeignKey(TeamMember, on_delete=models.CASCADE, related_name="invitations")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.member}"


# The application-form models live in their own module; imported here so Django finds them.
# Amendments, fees and appeals (the EHDS after the decision) live in their own module too.
from requests_app.after_models import (  # noqa: E402, F401
    Amendment,
    Appeal,
    FeeSchedule,
    RequestFee,
)
from requests_app.form_models import (  # noqa: E402, F401
    FormQuestion,
    FormSection,
    FormTemplate,
    QuestionType,
)


class CompletenessOutcome(models.TextChoices):
    COMPLETE = "complete", _("Complete")
    INCOMPLETE = "incomplete", _("Incomplete")


class CompletenessCheck(models.Model):
    """A named person at the access body found a submitted round complete, or returned it as
    incomplete with the missing items and a completion window (EHDS Art. 68)."""

    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="completeness_checks"
    )
    round = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=16, choices=CompletenessOutcome.choices)
    missing_items = models.JSONField(_("missing items"), default=list, blank=True)
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    # Incomplete only: the applicant completes it before this, or it lapses.
    complete_by = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["checked_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "round"], name="completeness_checked_once_per_round"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request.reference} round {self.round}: {self.outcome}"


class ClockTrack(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SHORT = "short", _("Short track")


class StatutoryClock(models.Model):
    """The decision deadline of a complete application (EHDS Art. 68): the stored facts the
    request page, the API, the reminders and the deadline metric all read.

    Running: ``due_at`` is the deadline. Paused (the applicant is asked for information):
    ``paused_at`` is set and ``remaining`` holds the time that was left, which a resume adds
    to the moment of the answer. Stopped: ``stopped_at`` is set; a decision sets ``decided_at``
    too (within the deadline when it is not after ``due_at``).
    """

    request = models.OneToOneField(
        AccessRequest, on_delete=models.CASCADE, related_name="statutory_clock"
    )
    track = models.CharField(max_length=16, choices=ClockTrack.choices, default=ClockTrack.STANDARD)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    paused_at = models.DateTimeField(null=True, blank=True)
    remaining = models.DurationField(null=True, blank=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    extension_reason = models.TextField(blank=True)
    # Stopped: at a decision (approved or rejected: ``decided_at`` too, what the deadline
    # metric counts) or when the request ends otherwise (withdrawn).
    stopped_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The deadline a reminder / an escalation was sent for: once per deadline (an extension
    # moves the deadline, so they come again before the new one).
    reminded_for = models.DateTimeField(null=True, blank=True)
    escalated_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["decided_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.request.reference}: due {self.due_at:%Y-%m-%d}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def is_extended(self) -> bool:
        return self.extended_at is not None


class StateStay(models.Model):
    """The state a request is in now and since when: the open end of its state history, kept by
    the transition helper (``services.common.record``) as the workflow moves, so figures about
    time in each state never read the audit log back. One row per request that has a state."""

    request = models.OneToOneField(
        AccessRequest, on_delete=models.CASCADE, primary_key=True, related_name="stay"
    )
    state = models.CharField(max_length=20)
    entered_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.request_id} in {self.state} since {self.entered_at:%Y-%m-%d}"


class StateSpan(models.Model):
    """One ended stay of a request in a state (append-only; ``id`` grows with every stay that
    ends, which is what the metrics refresh keys on). ``entered_at``/``left_at`` are the times
    of the audit events that moved the request in and out, so the figures equal the log's."""

    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField()
    duration = models.DurationField()

    class Meta:
        indexes = [
            # A percentile is one index step per state: ORDER BY duration OFFSET k.
            models.Index(fields=["state", "duration"], name="state_span_state_duration"),
            models.Index(fields=["left_at"], name="state_span_left_at"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.state} {self.duration}"
