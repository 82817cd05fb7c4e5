"""The GA4GH Passport broker (GA4GH AAI 1.2): token exchange, then the signed Passport.

1. ``passport_token_exchange`` — RFC 8693: a client sends one of the user's API tokens as the
   ``subject_token`` and asks for ``scope=ga4gh_passport_v1``; it gets a short-lived access token
   (an ES256 JWT, ``typ`` ``at+jwt`` as RFC 9068 profiles it) bound to that API token.
2. ``passport_for_token`` — the Passport endpoint accepts that token and nothing else: the
   signature must be the hub's visa key, the scope must hold ``ga4gh_passport_v1``, the audience
   must be the Passport endpoint, and the API token it was exchanged for must still be usable
   (revoking the API token ends the access token too).
3. ``passport_jwt`` — the Passport itself: a JWT of ``typ`` ``vnd.ga4gh.passport+jwt`` signed
   ES256 with the same key as the visas (JWKS at ``/.well-known/visa-jwks.json``), carrying the
   visas in ``ga4gh_passport_v1``.

PyJWT does the signing and checking; what is written here is only which claims must be there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.services import api_token_authenticate, password_fingerprint
from audit.services import audit_record
from lifes.errors import InvalidInput
from permits.errors import Code
from permits.services.common import timestamp
from permits.visas import VISA_ALGORITHM, passport_visas, visa_key

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
PASSPORT_SCOPE = "ga4gh_passport_v1"
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a JOSE typ
PASSPORT_TYP = "vnd.ga4gh.passport+jwt"


class TokenExchangeError(InvalidInput):
    """An RFC 8693 / RFC 6749 error; ``code`` is the OAuth ``error`` value."""

    default_code = "invalid_request"


class PassportTokenInvalid(Exception):
    """The bearer token is not a live passport-scoped token of this hub."""


@dataclass(frozen=True)
class ExchangedToken:
    access_token: str
    expires_in: int
    scope: str


def passport_audience() -> str:
    return settings.HUB_URL + reverse("permits_api:passport")


def passport_token_exchange(
    *, grant_type: str, subject_token: str, subject_token_type: str, scope: str
) -> ExchangedToken:
    if grant_type != GRANT_TYPE:
        raise TokenExchangeError(
            f"grant_type must be {GRANT_TYPE}.", code=Code.UNSUPPORTED_GRANT_TYPE
        )
    if subject_token_type != ACCESS_TOKEN_TYPE:
        raise TokenExchangeError(f"subject_token_type must be {ACCESS_TOKEN_TYPE}.")
    if PASSPORT_SCOPE not in scope.split():
        raise TokenExchangeError(f"scope must include {PASSPORT_SCOPE}.", code=Code.INVALID_SCOPE)
    # The same test as every API call (expiry, revocation, a password changed since).
    found = api_token_authenticate(subject_token)
    if found is None or found[0].is_machine:
        raise TokenExchangeError(
            "The subject token is not a valid API token of a person.", code=Code.INVALID_GRANT
        )
    _user, token = found
    now = timezone.now().replace(microsecond=0)
    lifetime = settings.PASSPORT_TOKEN_TTL
    if token.expires_at is not None:
        lifetime = min(lifetime, int((token.expires_at - now).total_seconds()))
    key = visa_key()
    claims = {
        "iss": settings.HUB_URL,
        "sub": f"user:{token.user_id}",
        "aud": passport_audience(),
        "scope": PASSPORT_SCOPE,
        "client_id": f"api-token:{token.pk}",
        "iat": timestamp(now),
        "exp": timestamp(now + dt.timedelta(seconds=lifetime)),
        "jti": str(uuid.uuid4()),
    }
    access_token = jwt.encode(
        claims,
        key.private_key,
        algorithm=VISA_ALGORITHM,
        headers={"typ": ACCESS_TOKEN_TYP, "kid": key.kid},
    )
    with transaction.atomic():
        audit_record(
            actor=token.user,
            action="ga4gh.token_exchange",
            target=token.user,
            payload={"jti": claims["jti"], "scope": PASSPORT_SCOPE, "exp": claims["exp"]},
        )
    return ExchangedToken(access_token=access_token, expires_in=lifetime, scope=PASSPORT_SCOPE)


def passport_for_token(access_token: str) -> User:
    """The person behind a passport-scoped access token, or ``PassportTokenInvalid``."""
    key = visa_key()
    try:
        header = jwt.get_unverified_header(access_token)
        if header.get("typ") != ACCESS_TOKEN_TYP or header.get("kid") != key.kid:
            raise PassportTokenInvalid("not a passport access token of this hub")
        claims = jwt.decode(
            access_token,
            key.private_key.public_key(),
            algorithms=[VISA_ALGORITHM],
            audience=passport_audience(),
            issuer=settings.HUB_URL,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "scope", "client_id"]},
        )
    except jwt.PyJWTError as exc:
        raise PassportTokenInvalid(str(exc)) from exc
    if PASSPORT_SCOPE not in str(claims["scope"]).split():
        raise PassportTokenInvalid(f"the token's scope lacks {PASSPORT_SCOPE}")
    token_id = str(claims["client_id"]).removeprefix("api-token:")
    token = (
        ApiToken.objects.select_related("user").filter(pk=token_id).first()
        if (token_id.isdigit())
        else None
    )
    if (
        token is None
        or not token.is_usable
        or not token.user.is_active
        or token.password_fingerprint != password_fingerprint(token.user)
        or f"user:{token.user_id}" != claims["sub"]
    ):
        raise PassportTokenInvalid("the API token this was exchanged for is no longer valid")
    return token.user


def passport_claims(user: User, *, now: dt.datetime | None = None) -> dict[str, Any]:
    now = (now or timezone.now()).replace(microsecond=0)
    return {
        "iss": settings.HUB_URL,
        "sub": f"user:{user.pk}",
        "iat": timestamp(now),
        "exp": timestamp(now + dt.timedelta(seconds=settings.PASSPORT_TTL)),
        "jti": str(uuid.uuid4()),
        PASSPORT_SCOPE: passport_visas(user, now=now),
    }


def passport_jwt(user: User) -> str:
    key = visa_key()
    return jwt.encode(
        passport_claims(user),
        key.private_key,
        algorithm=VISA_ALGORITHM,
        headers={"typ": PASSPORT_TYP, "kid": key.kid},
    )
