"""Reads about people and organisations."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, Organisation, User


def primary_organisation(user: User) -> Organisation | None:
    membership = user.memberships.filter(is_primary=True).select_related("organisation").first()
    return membership.organisation if membership else None


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def is_auditor(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_auditor or user.is_superuser))
