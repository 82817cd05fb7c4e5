"""People, organisations, memberships and API tokens.

A node (data station) signs in as a *machine user* (``is_machine``) holding an API token; the
catalogue's ``Node`` points at it. So one authentication path serves scripts and nodes alike.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.validators import validate_orcid, validate_ror


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("Users sign in with an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    orcid = models.CharField(_("ORCID iD"), max_length=19, blank=True, validators=[validate_orcid])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    is_auditor = models.BooleanField(
        _("auditor"), default=False, help_text=_("Reads everything, changes nothing.")
    )
    is_machine = models.BooleanField(
        default=False, help_text=_("A node or script identity; it cannot sign in with a password.")
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class OrganisationKind(models.TextChoices):
    ACADEMIC = "academic", _("Academic")
    HOSPITAL = "hospital", _("Hospital")
    COMPANY = "company", _("Company")
    PUBLIC_BODY = "public_body", _("Public body")
    OTHER = "other", _("Other")
    SMALL_ENTERPRISE = "small_enterprise", _("Small enterprise")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    ror_id = models.CharField(_("ROR id"), max_length=9, blank=True, validators=[validate_ror])
    country = CountryField(_("country"))
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    is_for_profit = models.BooleanField(_("for-profit"), default=False)
    website = models.URLField(_("website"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ror_id"], condition=~models.Q(ror_id=""), name="organisation_unique_ror"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Member")
    STEWARD = "steward", _("Data steward")
    ADMIN = "admin", _("Organisation admin")


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        max_length=16, choices=MembershipRole.choices, default=MembershipRole.MEMBER
    )
    is_primary = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_primary=True),
                name="membership_one_primary_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    FULL = "full", _("Full")


class ApiToken(models.Model):
    """A bearer token for scripts and nodes. Only its SHA-256 is stored; the key is shown once.

    ``password_fingerprint`` ties a person's token to the password it was created under: when the
    password changes, the token stops working (as Django's sessions do), whatever changed it —
    the reset form, the admin or ``changepassword``.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.FULL
    )
    password_fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def is_read_only(self) -> bool:
        return self.scope == TokenScope.READ
