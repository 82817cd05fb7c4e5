"""OpenID Connect sign-in for institutional identity providers (mozilla-django-oidc).

Accounts are matched by verified email; new ones are created through the service so the
creation is audited like any other.
"""

from __future__ import annotations

from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.services import user_create


def _full_name(claims: dict) -> str:
    return claims.get("name") or " ".join(
        part for part in (claims.get("given_name"), claims.get("family_name")) if part
    )


class LifesOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def filter_users_by_claims(self, claims: dict):
        email = (claims.get("email") or "").lower()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email=email, is_machine=False)

    def create_user(self, claims: dict):
        return user_create(actor=None, email=claims["email"], full_name=_full_name(claims))

    def update_user(self, user, claims: dict):
        return user
