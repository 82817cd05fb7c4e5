"""Reads about people and organisations."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, Organisation, User


def primary_organisation(user: User) -> Organisation | None:
    membership = user.memberships.filter(is_primary=True).select_related("organisation").first()
    return membership.organisation if membership else None


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def is_person(user: Any) -> bool:
    """Signed in, and a person rather than a machine (a node's identity): the one test of it."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and not getattr(user, "is_machine", False)
    )


def is_auditor(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_auditor or user.is_superuser))


def requires_two_factor(user: User) -> bool:
    """Staff, board chairs and secretaries, and data stewards (the data owners' deciders) must
    sign in with a second factor: their session can grant access to health data. Cached on the
    user object for the request."""
    if not is_person(user):
        return False
    cached = getattr(user, "_requires_two_factor", None)
    if cached is None:
        cached = bool(
            user.is_staff
            or user.is_superuser
            # the board chair rule lives with the membership (requests_app, not importable
            # here); its queryset method reaches it through the relation
            or user.board_memberships.chairs().exists()
            or user.stewarded_datasets.exists()
        )
        user._requires_two_factor = cached
    return cached


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_state(user: User) -> tuple[bool, bool]:
    """(has a confirmed authenticator, ``requires_two_factor``) in one query: the middleware
    asks both on every request of a signed-in person who has not passed a second factor."""
    if not is_person(user):
        return has_authenticator(user), False
    chairs = User.board_memberships.rel.related_model.objects.chairs()
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            is_chair=Exists(chairs.filter(user=OuterRef("pk"))),
            is_steward=Exists(
                User.stewarded_datasets.through.objects.filter(user_id=OuterRef("pk"))
            ),
        )
        .values_list("has_device", "is_chair", "is_steward")
        .first()
    ) or (False, False, False)
    has_device, is_chair, is_steward = row
    required = getattr(user, "_requires_two_factor", None)
    if required is None:
        required = bool(user.is_staff or user.is_superuser or is_chair or is_steward)
        user._requires_two_factor = required
    return bool(has_device), required
