"""The GA4GH Passport broker (AAI 1.2): RFC 8693 token exchange, then the signed Passport JWT,
checked with an independent JOSE library (jwcrypto) against the published JWKS."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import jwt
import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt

from accounts.oidc import LifesOIDCBackend
from accounts.services import api_token_create, api_token_revoke
from audit.models import AuditEvent
from permits.visas import visa_key

from .conftest import exchange_form

TOKEN_URL = "/api/v1/ga4gh/token"
PASSPORT_URL = "/api/v1/ga4gh/passport"


def exchange(client, form: dict[str, str]):
    return client.post(TOKEN_URL, urlencode(form), content_type="application/x-www-form-urlencoded")


def published_keys(client) -> jwcrypto_jwk.JWKSet:
    return jwcrypto_jwk.JWKSet.from_json(
        json.dumps(client.get("/.well-known/visa-jwks.json").json())
    )


def verified(token: str, keys: jwcrypto_jwk.JWKSet) -> tuple[dict, dict]:
    """Header and claims of a JWT that jwcrypto verified (ES256 only, exp/iat checked)."""
    checked = jwcrypto_jwt.JWT(jwt=token, key=keys, algs=["ES256"], check_claims={"exp": None})
    return json.loads(checked.header), json.loads(checked.claims)


@pytest.mark.django_db
def test_exchange_then_passport_jwt_verified_by_jwcrypto(
    permit, consented, api_client, client, settings, key_dir
):
    requester = consented["requester"]
    api_token = api_token_create(actor=requester, user=requester, name="cli")

    answer = exchange(api_client, exchange_form(api_token.key))

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "issued_token_type", "token_type", "expires_in", "scope"}
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        settings.PASSPORT_TOKEN_TTL,
        "ga4gh_passport_v1",
    )
    assert answer["Cache-Control"] == "no-store"
    keys = published_keys(client)
    token_header, token_claims = verified(body["access_token"], keys)
    assert token_header["typ"] == "at+jwt"
    assert token_claims["scope"] == "ga4gh_passport_v1"
    assert token_claims["aud"] == settings.HUB_URL + PASSPORT_URL

    response = api_client.get(
        PASSPORT_URL,
        HTTP_AUTHORIZATION=f"Bearer {body['access_token']}",
        HTTP_ACCEPT="application/jwt",
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwt"
    header, claims = verified(response.content.decode("ascii"), keys)
    assert header == {"alg": "ES256", "typ": "vnd.ga4gh.passport+jwt", "kid": visa_key().kid}
    assert claims["iss"] == settings.HUB_URL
    assert claims["sub"] == f"user:{requester.pk}"
    assert claims["exp"] - claims["iat"] == settings.PASSPORT_TTL
    assert set(claims) == {"iss", "sub", "iat", "exp", "jti", "ga4gh_passport_v1"}
    visas = [verified(visa, keys)[1]["ga4gh_visa_v1"] for visa in claims["ga4gh_passport_v1"]]
    assert visas == [
        {
            "type": "ControlledAccessGrants",
            "asserted": int(permit.issued_at.timestamp()),
            "value": "https://doi.org/10.5072/lifes.diabetes.2019",
            "source": "https://ror.org/05xvt9f17",
            "by": "dac",
        }
    ]
    assert (
        AuditEvent.objects.filter(
            action="ga4gh.token_exchange", object_id=str(requester.pk)
        ).count()
        == 1
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"scope": "openid profile"}, "invalid_scope"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"subject_token_type": "urn:ietf:params:oauth:token-type:jwt"}, "invalid_request"),
        ({"subject_token": "lifes_not-a-real-token"}, "invalid_grant"),
        ({"scope": ""}, "invalid_request"),
    ],
)
def test_exchange_refusals_issue_nothing(world, api_client, changes, code, key_dir):
    requester = world["requester"]
    api_token = api_token_create(actor=requester, user=requester, name="cli")
    before = AuditEvent.objects.count()

    answer = exchange(api_client, exchange_form(api_token.key, **changes))

    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["error"]) == (code, code)
    assert "access_token" not in answer.json()
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_the_passport_refuses_every_token_but_a_passport_scoped_one(
    permit, consented, api_client, key_dir, settings
):
    requester = consented["requester"]
    api_token = api_token_create(actor=requester, user=requester, name="cli")
    key = visa_key()
    now = int(time.time())
    good_claims = {
        "iss": settings.HUB_URL,
        "sub": f"user:{requester.pk}",
        "aud": settings.HUB_URL + PASSPORT_URL,
        "scope": "ga4gh_passport_v1",
        "client_id": f"api-token:{api_token.token.pk}",
        "iat": now,
        "exp": now + 300,
    }

    def signed(claims: dict, typ: str = "at+jwt") -> str:
        return jwt.encode(
            claims, key.private_key, algorithm="ES256", headers={"typ": typ, "kid": key.kid}
        )

    refused = {
        "the API token itself": api_token.key,
        "a token without the passport scope": signed({**good_claims, "scope": "openid"}),
        "a token for another audience": signed({**good_claims, "aud": "https://other.example"}),
        "an expired token": signed({**good_claims, "iat": now - 900, "exp": now - 600}),
        "a visa used as a token": signed(good_claims, typ="JWT"),
        "a token signed by another key": jwt.encode(
            good_claims,
            jwcrypto_jwk.JWK.generate(kty="EC", crv="P-256").export_to_pem(
                private_key=True, password=None
            ),
            algorithm="ES256",
            headers={"typ": "at+jwt", "kid": key.kid},
        ),
    }
    for what, token in refused.items():
        response = api_client.get(
            PASSPORT_URL, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/jwt"
        )
        assert response.status_code == 401, what
        assert response.json()["code"] == "invalid_token", what
        assert response["WWW-Authenticate"].startswith("Bearer"), what

    # The same claims, properly scoped and signed, are accepted: the refusals above are real.
    accepted = api_client.get(
        PASSPORT_URL,
        HTTP_AUTHORIZATION=f"Bearer {signed(good_claims)}",
        HTTP_ACCEPT="application/jwt",
    )
    assert accepted.status_code == 200

    # Revoking the API token ends the passport token exchanged for it.
    api_token_revoke(actor=requester, token_id=api_token.token.pk)
    after = api_client.get(
        PASSPORT_URL,
        HTTP_AUTHORIZATION=f"Bearer {signed(good_claims)}",
        HTTP_ACCEPT="application/jwt",
    )
    assert after.status_code == 401


@pytest.mark.django_db
def test_researcher_status_visa_after_an_institutional_sign_in(
    world, api_client, client, settings, key_dir
):
    settings.OIDC_OP_ISSUER = "https://login.universiteitleiden.example"
    requester = world["requester"]
    api_token = api_token_create(actor=requester, user=requester, name="cli")
    token = exchange(api_client, exchange_form(api_token.key)).json()["access_token"]

    def visas() -> list[dict]:
        passport = api_client.get(
            PASSPORT_URL, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/jwt"
        ).content.decode()
        keys = published_keys(client)
        return [
            verified(v, keys)[1]["ga4gh_visa_v1"]
            for v in verified(passport, keys)[1]["ga4gh_passport_v1"]
        ]

    assert visas() == []  # a password sign-in asserts nothing about the person

    backend = LifesOIDCBackend.__new__(LifesOIDCBackend)
    backend.update_user(requester, {"email": requester.email})
    signed_in = AuditEvent.objects.get(action="user.institutional_login")

    assert visas() == [
        {
            "type": "ResearcherStatus",
            "asserted": int(signed_in.occurred_at.timestamp()),
            "value": "https://doi.org/10.1038/s41431-018-0219-y",
            "source": "https://login.universiteitleiden.example",
            "by": "system",
        }
    ]
