"""``Authorization: Token <key>`` for scripts and nodes, against hashed keys.

The token's scope is enforced here, once for every API view: a read-only token is refused (403)
on any method that is not safe, whatever the view, so no view can forget it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions, permissions

from accounts.errors import Code
from accounts.models import ApiToken
from accounts.services import api_token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"token", b"bearer"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as 'Authorization: Token <key>'.")
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token has invalid characters.")) from exc
        found = api_token_authenticate(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        user, token = found
        if token.is_read_only and request.method not in permissions.SAFE_METHODS:
            raise exceptions.PermissionDenied(
                _("This token is read-only; use a token with the full scope to change anything."),
                code=Code.TOKEN_READ_ONLY,
            )
        return (user, token)

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsSessionAuthenticated(permissions.BasePermission):
    """Signed in through the browser (session), not by an API token: tokens cannot mint tokens,
    so a leaked token cannot outlive its own expiry or revocation."""

    message = gettext_lazy(
        "Tokens are created from a signed-in session (your profile page), not with a token."
    )
    code = Code.TOKEN_CANNOT_MINT

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and not isinstance(
            request.auth, ApiToken
        )
