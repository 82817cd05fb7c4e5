"""Invitations: a team member without an account gets a single-use, expiring link that creates
their account (for the invited address only); they then accept the terms themselves (EHDS
Art. 68 asks every named team member to accept personally). Only the token's hash is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import is_person
from accounts.services import user_create
from lifes.errors import InvalidInput, NotAllowed
from requests_app.errors import Code
from requests_app.models import AccessRequest, TeamInvitation, TeamMember
from requests_app.services.common import grant_view, record


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_create(member: TeamMember) -> str:
    """A new invitation for ``member`` (inside the caller's transaction); returns its URL path.
    Earlier unused invitations of the member stay valid until they expire."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    TeamInvitation.objects.create(
        member=member,
        token_sha256=_digest(token),
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.TEAM_INVITATION_DAYS),
    )
    return reverse("requests:invitation", args=[token])


def has_account(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def team_invitations_send(*, request: AccessRequest) -> list[str]:
    """Email a fresh invitation to every team member who has no account yet and has not
    accepted (when the permit starts waiting for them). Inside the caller's transaction."""
    from requests_app.notifications import notify

    sent = []
    for member in request.team.filter(accepted_terms_at__isnull=True).order_by("pk"):
        if has_account(member.email):
            continue
        path = invitation_create(member)
        notify(
            template="team_invitation",
            request=request,
            recipients=[member.email],
            context={"invitation_url": f"{settings.HUB_URL}{path}"},
            key=f"invitation:{member.pk}",
        )
        sent.append(member.email)
    return sent


def _invitation(token: str, *, lock: bool) -> TeamInvitation:
    rows = TeamInvitation.objects.select_related("member__request")
    if lock:
        rows = rows.select_for_update(of=("self",))
    invitation = rows.filter(token_sha256=_digest(token or "")).first()
    if invitation is None:
        raise InvalidInput(_("This invitation link is not valid."), code=Code.INVITATION_INVALID)
    if invitation.used_at is not None:
        raise InvalidInput(
            _("This invitation link was already used. Sign in instead."),
            code=Code.INVITATION_USED,
        )
    if invitation.expires_at <= timezone.now():
        raise InvalidInput(
            _("This invitation link has expired. Ask the applicant to invite you again."),
            code=Code.INVITATION_EXPIRED,
        )
    return invitation


def invitation_get(*, token: str) -> TeamInvitation:
    """The usable invitation behind ``token``, or a refusal naming why (invalid, used, expired)."""
    return _invitation(token, lock=False)


def invitation_accept(*, actor: Any, token: str, full_name: str, password: str) -> User:
    """Create the invited person's account from the invitation (once) and link it to their
    place on the team. Refused, writing nothing, when the link is invalid, used or expired,
    when someone is signed in (an invitation is not theirs to use), or when the address has an
    account already (they sign in)."""
    if actor is not None and is_person(actor):
        raise NotAllowed(
            _("You are signed in as someone else: sign out to use this invitation."),
            code=Code.INVITATION_NOT_YOURS,
        )
    with transaction.atomic():
        invitation = _invitation(token, lock=True)
        member = invitation.member
        if has_account(member.email):
            raise InvalidInput(
                _("An account with this address exists already. Sign in instead."),
                code=Code.ACCOUNT_EXISTS,
            )
        errors: dict[str, list[str]] = {}
        if not full_name.strip():
            errors["full_name"] = [_("Give your name.")]
        try:
            validate_password(password, User(email=member.email, full_name=full_name))
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
        if errors:
            raise InvalidInput(_("Please correct the form."), errors=errors)
        user = user_create(
            actor=None, email=member.email, full_name=full_name.strip(), password=password
        )
        now = timezone.now()
        invitation.used_at, invitation.used_by = now, user
        invitation.save(update_fields=["used_at", "used_by"])
        member.user = user
        member.save(update_fields=["user"])
        request = member.request
        grant_view(request, users=[user])
        record(
            actor=user,
            action="team_invitation_use",
            request=request,
            before=request.state,
            email=member.email,
        )
    return user
