"""Writes about people, organisations and tokens. Each is one transaction with its audit event."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, Membership, MembershipRole, Organisation, User
from accounts.validators import normalise_orcid, normalise_ror
from audit.services import audit_record
from lifes.errors import NotAllowed, NotFound

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


def api_token_create(
    *,
    actor: User,
    user: User,
    name: str,
    expires_at: datetime | None = None,
    key: str | None = None,
) -> IssuedToken:
    """Issue a token. ``key`` may be given only by trusted code (the demo seeding)."""
    if actor is not None and actor.pk != user.pk and not actor.is_staff:
        raise NotAllowed("You can only create tokens for yourself.")
    key = key or TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken(
            user=user, name=name, prefix=key[:12], key_hash=token_digest(key), expires_at=expires_at
        )
        token.full_clean()
        token.save()
        audit_record(
            actor=actor,
            action="api_token.create",
            target=token,
            payload={"user": user.email, "name": name, "prefix": token.prefix},
        )
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, actor: User, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (token.user_id != actor.pk and not actor.is_staff):
            raise NotFound("No such token.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="api_token.revoke",
                target=token,
                payload={"prefix": token.prefix},
            )
    return token


def api_token_authenticate(key: str) -> User | None:
    """The user behind a token, or None. Touches ``last_used_at`` at most once a minute."""
    token = ApiToken.objects.select_related("user").filter(key_hash=token_digest(key)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
