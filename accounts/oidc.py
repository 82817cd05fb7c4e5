"""OpenID Connect sign-in for institutional identity providers (mozilla-django-oidc).

An identity is linked to an account by its email address only when the provider vouches for
that address: ``email_verified`` must be the JSON boolean ``true`` (not the string ``"true"``,
not missing — some providers omit it for addresses they never checked). Staff, superusers and
machine identities are never reached this way: a hub administrator's account must not be
taken over by whoever controls an identity provider account with the same address; they sign
in with their password and second factor. New accounts are created through the service so the
creation is audited like any other.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.services import institutional_login_record, user_create


def provider_issuer() -> str:
    """The identity provider's issuer: OIDC_OP_ISSUER, else the origin of its endpoint."""
    if settings.OIDC_OP_ISSUER:
        return settings.OIDC_OP_ISSUER
    parts = urlsplit(settings.OIDC_OP_AUTHORIZATION_ENDPOINT)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "oidc"


def _full_name(claims: dict) -> str:
    return claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if part
    )


def _email(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    return email.strip().lower() if isinstance(email, str) else ""


class LifesOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims: dict) -> bool:
        return bool(_email(claims)) and claims.get("email_verified") is True

    def filter_users_by_claims(self, claims: dict):
        email = _email(claims)
        if not email or claims.get("email_verified") is not True:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(
            email=email, is_machine=False, is_staff=False, is_superuser=False
        )

    def create_user(self, claims: dict):
        """A new account for a verified address no account holds yet; ``None`` (no sign-in)
        when the address belongs to an account that may not be linked (staff, machines)."""
        email = _email(claims)
        if (
            not email
            or claims.get("email_verified") is not True
            or self.UserModel.objects.filter(email=email).exists()
        ):
            return None
        user = user_create(actor=None, email=email, full_name=_full_name(claims))
        institutional_login_record(user=user, issuer=provider_issuer())
        return user

    def update_user(self, user, claims: dict):
        institutional_login_record(user=user, issuer=provider_issuer())
        return user
