"""The public register (no personal data) and permits as GA4GH Passport visas."""

from __future__ import annotations

import json
import stat

import jwt
import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from accounts.models import User
from permits.services import permit_suspend
from permits.visas import VISA_KEY_FILE

from .conftest import DATASET


def personal_data(world_users) -> list[str]:
    """Every person's name and email, and the PI's name, none of which may be published."""
    values = []
    for user in world_users:
        values += [user.email, user.full_name]
    return [v for v in values if v]


@pytest.mark.django_db
def test_the_register_api_is_public_and_shows_no_person(permit, client, settings):
    settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS = 0
    response = client.get("/api/v1/register/")

    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 1
    assert body["next"] is None
    assert body["results"][0] == {
        "kind": "permit",
        "reference": "",
        "title": permit.request.title,
        "lay_summary": permit.request.lay_summary,
        "decided_at": body["results"][0]["issued_at"],
        "purpose_in_words": ["disease specific research", "type 2 diabetes mellitus"],
        "justification": "",
        "results": [],
        "number": permit.number,
        "status": "active",
        "issued_at": body["results"][0]["issued_at"],
        "valid_from": body["results"][0]["valid_from"],
        "valid_until": body["results"][0]["valid_until"],
        "holder_organisation": "Leiden University",
        "holder_organisation_ror": "027bh9e22",
        "datasets": [
            {
                "id": DATASET,
                "title": "Leiden Diabetes Cohort",
                "persistent_identifier": "https://doi.org/10.5072/lifes.diabetes.2019",
            }
        ],
        "purpose": {"codes": ["DUO:0000007"], "diseases": ["MONDO:0005148"], "commercial": False},
    }
    text = response.content.decode()
    for value in personal_data(User.objects.all()):
        assert value not in text
    assert permit.principal_investigator not in text
    assert str(permit.jti) not in text  # nor anything that links to the token


@pytest.mark.django_db
def test_the_register_page_is_public_and_shows_no_person(permit, consented, client, settings):
    settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS = 0
    permit_suspend(actor=consented["owner"], number=permit.number, reason="Private reason.")

    response = client.get("/register/")
    searched = client.get("/register/", {"q": "no such thing"})

    assert response.status_code == 200
    text = response.content.decode()
    assert permit.number in text
    assert "Leiden Diabetes Cohort" in text
    assert "Suspended" in text
    assert "Private reason." not in text
    for value in personal_data(User.objects.all()):
        assert value not in text
    assert permit.number not in searched.content.decode()
    entry = client.get(f"/register/{permit.number}/")
    assert entry.status_code == 200
    assert "Leiden University" in entry.content.decode()
    for value in personal_data(User.objects.all()):
        assert value not in entry.content.decode()
    assert client.get("/register/LIFES-P-2026-999999/").status_code == 404


@pytest.mark.django_db
def test_the_passport_holds_a_verifiable_visa_per_permit_and_dataset(
    permit, passport_client, consented, client, settings, key_dir
):
    response = passport_client(consented["requester"]).get("/api/v1/ga4gh/passport")

    assert response.status_code == 200
    visas = response.json()["ga4gh_passport_v1"]
    assert len(visas) == 1
    header = jwt.get_unverified_header(visas[0])
    assert header["alg"] == "ES256"
    assert header["typ"] == "JWT"
    assert header["jku"] == settings.HUB_URL + "/.well-known/visa-jwks.json"
    published = client.get("/.well-known/visa-jwks.json").json()
    key = jwt.PyJWK(next(k for k in published["keys"] if k["kid"] == header["kid"]))
    claims = jwt.decode(visas[0], key.key, algorithms=["ES256"])
    assert claims["iss"] == settings.HUB_URL
    assert claims["sub"] == f"user:{consented['requester'].pk}"
    assert claims["exp"] <= int(permit.valid_until.timestamp())
    assert claims["exp"] - claims["iat"] <= settings.VISA_TTL
    assert claims["ga4gh_visa_v1"] == {
        "type": "ControlledAccessGrants",
        "asserted": int(permit.issued_at.timestamp()),
        "value": "https://doi.org/10.5072/lifes.diabetes.2019",
        "source": "https://ror.org/05xvt9f17",
        "by": "dac",
    }
    # an independent JOSE library agrees
    signed = jwcrypto_jws.JWS()
    signed.deserialize(visas[0])
    signed.verify(
        jwcrypto_jwk.JWKSet.from_json(json.dumps(published)).get_key(header["kid"]), alg="ES256"
    )
    assert json.loads(signed.payload) == claims
    assert stat.S_IMODE((key_dir / VISA_KEY_FILE).stat().st_mode) == 0o600


@pytest.mark.django_db
def test_no_visa_for_a_suspended_permit_or_for_someone_else(permit, passport_client, consented):
    other = passport_client(consented["owner"]).get("/api/v1/ga4gh/passport").json()
    permit_suspend(actor=consented["owner"], number=permit.number, reason="Checking.")
    suspended = passport_client(consented["requester"]).get("/api/v1/ga4gh/passport").json()

    assert other == {"ga4gh_passport_v1": []}
    assert suspended == {"ga4gh_passport_v1": []}


@pytest.mark.django_db
def test_the_passport_needs_a_signed_in_user(client):
    response = client.get("/api/v1/ga4gh/passport")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
