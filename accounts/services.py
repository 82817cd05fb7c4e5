"""Writes about people, organisations and tokens. Each is one transaction with its audit event."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.errors import Code
from accounts.models import ApiToken, Membership, MembershipRole, Organisation, TokenScope, User
from accounts.permissions import require_staff
from accounts.validators import normalise_orcid, normalise_ror
from audit.services import audit_record
from lifes.errors import InvalidInput, NotAllowed, NotFound

TOKEN_PREFIX = "lifes_"  # noqa: S105 - a public prefix, not a secret


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def user_create(
    *,
    actor: User | None,
    email: str,
    full_name: str = "",
    password: str | None = None,
    orcid: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    is_auditor: bool = False,
    is_machine: bool = False,
) -> User:
    with transaction.atomic():
        user = User(
            email=User.objects.normalize_email(email).lower(),
            full_name=full_name,
            orcid=normalise_orcid(orcid) if orcid else "",
            is_staff=is_staff,
            is_superuser=is_superuser,
            is_auditor=is_auditor,
            is_machine=is_machine,
        )
        if password and not is_machine:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        audit_record(
            actor=actor,
            action="user.create",
            target=user,
            payload={
                "email": user.email,
                "is_staff": is_staff,
                "is_auditor": is_auditor,
                "is_machine": is_machine,
            },
        )
    return user


def profile_update(*, actor: User, full_name: str, orcid: str) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        user.full_name = full_name
        user.orcid = normalise_orcid(orcid) if orcid else ""
        user.full_clean(exclude=["password"])
        user.save(update_fields=["full_name", "orcid"])
        audit_record(
            actor=actor,
            action="user.profile_update",
            target=user,
            payload={"full_name": user.full_name, "orcid": user.orcid},
        )
    return user


def organisation_create(
    *,
    actor: User | None,
    name: str,
    country: str,
    kind: str,
    is_for_profit: bool = False,
    ror_id: str = "",
    website: str = "",
) -> Organisation:
    with transaction.atomic():
        organisation = Organisation(
            name=name,
            country=country,
            kind=kind,
            is_for_profit=is_for_profit,
            ror_id=normalise_ror(ror_id) if ror_id else "",
            website=website,
        )
        organisation.full_clean()
        organisation.save()
        audit_record(
            actor=actor,
            action="organisation.create",
            target=organisation,
            payload={
                "name": name,
                "country": country,
                "kind": kind,
                "is_for_profit": is_for_profit,
                "ror_id": organisation.ror_id,
            },
        )
    return organisation


def membership_add(
    *, actor: User | None, user: User, organisation: Organisation, role: str = MembershipRole.MEMBER
) -> Membership:
    with transaction.atomic():
        has_primary = Membership.objects.filter(user=user, is_primary=True).exists()
        membership, created = Membership.objects.get_or_create(
            user=user,
            organisation=organisation,
            defaults={"role": role, "is_primary": not has_primary},
        )
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        elif not created:
            return membership
        audit_record(
            actor=actor,
            action="membership.set",
            target=membership,
            payload={"user": user.email, "organisation": organisation.name, "role": role},
        )
    return membership


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown to the user once, never stored


def password_fingerprint(user: User) -> str:
    """A digest of the stored password hash: it changes whenever the password does."""
    return hashlib.sha256(user.password.encode("utf-8")).hexdigest()


def api_token_create(
    *,
    actor: User | None,
    user: User,
    name: str,
    scope: str = TokenScope.FULL,
    expires_at: datetime | None = None,
    key: str | None = None,
) -> IssuedToken:
    """Issue a token. ``key`` may be given only by trusted code (the demo seeding).

    A person's token always expires: by default after ``API_TOKEN_TTL_DAYS``, at most after
    ``API_TOKEN_MAX_TTL_DAYS``. A node's (machine) token is issued by staff or the system and
    lives until it is revoked, so a data station does not stop on a forgotten date (README,
    "Tokens").
    """
    if actor is not None and actor.pk != user.pk and not actor.is_staff:
        raise NotAllowed(_("You can only create tokens for yourself."), code=Code.PERMISSION_DENIED)
    if scope not in TokenScope.values:
        raise InvalidInput(
            _("Unknown token scope."),
            errors={"scope": [_("one of %(scopes)s") % {"scopes": ", ".join(TokenScope.values)}]},
            code=Code.INVALID,
        )
    now = timezone.now()
    if expires_at is None and not user.is_machine:
        expires_at = now + timedelta(days=settings.API_TOKEN_TTL_DAYS)
    if expires_at is not None:
        longest = now + timedelta(days=settings.API_TOKEN_MAX_TTL_DAYS)
        if not now < expires_at <= longest:
            raise InvalidInput(
                _("The expiry must be in the future and within the longest token lifetime."),
                errors={
                    "expires_at": [
                        _("between now and %(days)d days from now")
                        % {"days": settings.API_TOKEN_MAX_TTL_DAYS}
                    ]
                },
                code=Code.INVALID,
            )
    key = key or TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken(
            user=user,
            name=name,
            prefix=key[:12],
            key_hash=token_digest(key),
            scope=scope,
            password_fingerprint=password_fingerprint(user),
            expires_at=expires_at,
        )
        token.full_clean()
        token.save()
        audit_record(
            actor=actor,
            action="api_token.create",
            target=token,
            payload={
                "user": user.email,
                "name": name,
                "prefix": token.prefix,
                "scope": scope,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (token.user_id != actor.pk and not actor.is_staff):
            raise NotFound(_("No such token."), code=Code.NOT_FOUND)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.revoked_reason = "revoked"
            token.save(update_fields=["revoked_at", "revoked_reason"])
            audit_record(
                actor=actor,
                action="api_token.revoke",
                target=token,
                payload={"prefix": token.prefix},
            )
    return token


def api_tokens_revoke_after_password_change(*, user: User) -> int:
    """Revoke the tokens made under an earlier password of ``user``; the number revoked.

    Tokens already stop working the moment the password changes (``api_token_authenticate``
    compares the fingerprint); this records it, so the owner sees them revoked and why.
    """
    current = password_fingerprint(user)
    with transaction.atomic():
        stale = list(
            ApiToken.objects.select_for_update()
            .filter(user=user, revoked_at__isnull=True)
            .exclude(password_fingerprint=current)
            .order_by("pk")
        )
        now = timezone.now()
        for token in stale:
            token.revoked_at = now
            token.revoked_reason = "password_changed"
            token.save(update_fields=["revoked_at", "revoked_reason"])
            audit_record(
                actor=None,
                action="api_token.revoke",
                target=token,
                payload={"prefix": token.prefix, "reason": "password_changed"},
            )
    return len(stale)


def api_token_authenticate(key: str) -> tuple[User, ApiToken] | None:
    """The user and token behind a key, or None. Touches ``last_used_at`` at most once a
    minute. A token made under an earlier password is revoked now and refused."""
    token = ApiToken.objects.select_related("user").filter(key_hash=token_digest(key)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    if token.password_fingerprint != password_fingerprint(token.user):
        api_tokens_revoke_after_password_change(user=token.user)
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


# --- two-factor sign-in (django-otp) ------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryCodes:
    device: StaticDevice
    codes: list[str]  # shown once, never again


def totp_device_start(*, actor: User) -> TOTPDevice:
    """The unconfirmed authenticator device being set up, made on first call and reused after,
    so reloading the setup page does not change the QR code under the person's phone."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=actor, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(user=actor, name="authenticator", confirmed=False)
    return device


def totp_device_confirm(*, actor: User, device_id: int, code: str) -> TOTPDevice:
    """Confirm an authenticator by a code it shows; replaces any earlier one."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=actor, confirmed=False)
            .first()
        )
        if device is None:
            raise NotFound(_("No authenticator is being set up; start again."), code=Code.NOT_FOUND)
        if not device.verify_token(code.strip()):
            raise InvalidInput(
                _("That code is not right; check your phone's clock and try the current code."),
                code=Code.OTP_INVALID,
                errors={"code": [_("not the current code")]},
            )
        TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(
            actor=actor, action="two_factor.enable", target=actor, payload={"kind": "totp"}
        )
    return device


def recovery_codes_issue(*, actor: User) -> RecoveryCodes:
    """New one-time recovery codes; the earlier ones stop working."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.select_for_update().get_or_create(
            user=actor, name="recovery codes", defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _n in range(settings.TWO_FACTOR_RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit_record(
            actor=actor,
            action="two_factor.recovery_codes",
            target=actor,
            payload={"count": len(codes)},
        )
    return RecoveryCodes(device=device, codes=codes)


def two_factor_disable(*, actor: User, user: User) -> None:
    """Staff reset a person's second factor (a lost phone and no recovery codes left): the
    person sets up a new one at their next sign-in."""
    require_staff(actor)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(actor=actor, action="two_factor.reset", target=user, payload={})


def two_factor_match(*, user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts ``code``, or None. A code that is one of the person's recovery
    codes goes to those only, so using one never counts as a failure (and so a throttling
    delay, django-otp's guard against guessing) against the authenticator."""
    code = code.strip().replace(" ", "")
    is_recovery = StaticToken.objects.filter(device__user=user, token=code).exists()
    kind = StaticDevice if is_recovery else TOTPDevice
    for device in kind.objects.filter(user=user, confirmed=True).order_by("pk"):
        if device.verify_is_allowed()[0] and device.verify_token(code):
            return device
    return None


def totp_device_install(*, actor: User | None, user: User, key: str, name: str) -> TOTPDevice:
    """Give ``user`` an authenticator with a known key (hex): for the system only (the demo
    seeding prints the key so demo deciders can sign in); people set up their own."""
    if actor is not None:
        raise NotAllowed(
            _("Authenticators are set up by their owner."), code=Code.PERMISSION_DENIED
        )
    with transaction.atomic():
        device, created = TOTPDevice.objects.get_or_create(
            user=user, name=name, defaults={"key": key, "confirmed": True}
        )
        if created:
            audit_record(
                actor=None,
                action="two_factor.enable",
                target=user,
                payload={"kind": "totp", "name": name},
            )
    return device


def institutional_login_record(*, user: User, issuer: str) -> None:
    """Note that an institution's identity provider asserted this person's identity (an OIDC
    sign-in). GA4GH ResearcherStatus visas are derived from the latest such event."""
    with transaction.atomic():
        audit_record(
            actor=user,
            action="user.institutional_login",
            target=user,
            payload={"issuer": issuer},
        )
