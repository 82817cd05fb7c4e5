"""Identity: ORCID/ROR checksums, email sign-in, profile, password reset, API tokens, OIDC."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import ApiToken, Organisation, User
from accounts.oidc import LifesOIDCBackend
from accounts.services import api_token_create, organisation_create, user_create
from accounts.validators import validate_orcid, validate_ror
from audit.models import AuditEvent
from demo.world import DEMO_PASSWORD


@pytest.mark.parametrize(
    "orcid", ["0000-0002-1825-0097", "0000-0002-1694-233X", "https://orcid.org/0000-0001-5109-3700"]
)
def test_valid_orcid_ids_pass(orcid):
    validate_orcid(orcid)


@pytest.mark.parametrize(
    ("orcid", "code"),
    [
        ("0000-0002-1825-0098", "orcid_checksum"),
        ("0000-0002-1825", "orcid_format"),
        ("abcd-0002-1825-0097", "orcid_format"),
    ],
)
def test_invalid_orcid_ids_are_refused_with_a_reason(orcid, code):
    with pytest.raises(ValidationError) as info:
        validate_orcid(orcid)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("ror", "ok"),
    [
        ("05xvt9f17", True),
        ("https://ror.org/027bh9e22", True),
        ("05xvt9f18", False),
        ("15xvt9f17", False),
    ],
)
def test_ror_ids_are_checked_by_checksum(ror, ok):
    if ok:
        validate_ror(ror)
    else:
        with pytest.raises(ValidationError):
            validate_ror(ror)


@pytest.mark.django_db
def test_organisation_with_bad_ror_is_refused_and_nothing_is_written():
    with pytest.raises(ValidationError) as info:
        organisation_create(actor=None, name="X", country="NL", kind="academic", ror_id="05xvt9f18")
    assert "ror_id" in info.value.message_dict
    assert Organisation.objects.count() == 0
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_sign_in_with_email_and_password(client, world):
    response = client.post(
        reverse("accounts:login"),
        {"username": "Requester@demo.lifes.test", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).context["user"].email == (
        "requester@demo.lifes.test"
    )


@pytest.mark.django_db
def test_wrong_password_shows_an_error_in_words(client, world):
    response = client.post(
        reverse("accounts:login"), {"username": "requester@demo.lifes.test", "password": "nope"}
    )
    assert response.status_code == 200
    assert "correct email" in response.content.decode().lower()


@pytest.mark.django_db
def test_machine_users_cannot_sign_in_with_a_password(client, world):
    node_user = User.objects.get(email="lumc-station-1@nodes.lifes.test")
    assert not node_user.has_usable_password()


@pytest.mark.django_db
def test_profile_with_bad_orcid_shows_field_error_and_changes_nothing(client, world):
    user = world["requester"]
    client.force_login(user)
    events = AuditEvent.objects.count()

    response = client.post(
        reverse("accounts:profile"), {"full_name": "New Name", "orcid": "0000-0002-1825-0098"}
    )

    assert response.status_code == 200
    assert "wrong check digit" in str(response.context["form"].errors["orcid"])
    user.refresh_from_db()
    assert user.full_name == "Rana Requester"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_profile_update_is_saved_and_audited(client, world):
    user = world["requester"]
    client.force_login(user)

    response = client.post(
        reverse("accounts:profile"),
        {"full_name": "Rana R.", "orcid": "https://orcid.org/0000-0002-1825-0097"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.orcid) == ("Rana R.", "0000-0002-1825-0097")
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.actor_id) == ("user.profile_update", str(user.pk))


@pytest.mark.django_db
def test_password_reset_sends_a_link(client, world):
    response = client.post(
        reverse("accounts:password_reset"), {"email": "requester@demo.lifes.test"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password-reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_api_token_lifecycle(api_client, world):
    user = world["requester"]
    api_client.force_authenticate(user)

    created = api_client.post(
        "/api/v1/auth/tokens", {"name": "notebook", "scope": "full"}, format="json"
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert ApiToken.objects.get(pk=created.json()["id"]).key_hash != key  # only a digest kept

    api_client.force_authenticate(None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/me").json()["email"] == "requester@demo.lifes.test"

    revoked = api_client.post(f"/api/v1/auth/tokens/{created.json()['id']}/revoke")
    assert revoked.status_code == 200
    refused = api_client.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"


@pytest.mark.django_db
def test_revoking_someone_elses_token_is_not_found_and_changes_nothing(api_client, world):
    issued = api_token_create(actor=world["owner"], user=world["owner"], name="theirs")
    api_client.force_authenticate(world["requester"])
    events = AuditEvent.objects.count()

    response = api_client.post(f"/api/v1/auth/tokens/{issued.token.pk}/revoke")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such token.", "code": "not_found"}
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Token", "Token a b", "Token nope", "Bearer \xff"])
def test_malformed_or_unknown_tokens_get_401_json(api_client, world, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "ok", "expires_at": "tomorrow"}]
)
def test_token_create_with_bad_input_gets_field_errors(api_client, world, body):
    api_client.force_authenticate(world["requester"])
    response = api_client.post("/api/v1/auth/tokens", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(response.json()["errors"]) <= {"name", "expires_at"}
    assert ApiToken.objects.filter(user=world["requester"]).count() == 0


@pytest.mark.django_db
def test_invalid_json_body_is_a_400_json(api_client, world):
    api_client.force_authenticate(world["requester"])
    response = api_client.post("/api/v1/auth/tokens", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_oidc_sign_in_creates_an_audited_user_and_reuses_it():
    backend = LifesOIDCBackend.__new__(LifesOIDCBackend)
    backend.UserModel = User
    claims = {
        "email": "Jan@Uni.example",
        "given_name": "Jan",
        "family_name": "Jansen",
        "email_verified": True,
    }

    assert backend.verify_claims(claims)
    user = backend.create_user(claims)
    assert (user.email, user.full_name, user.has_usable_password()) == (
        "jan@uni.example",
        "Jan Jansen",
        False,
    )
    assert list(backend.filter_users_by_claims(claims)) == [user]
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()
    assert not backend.verify_claims({"email": "x@y.z", "email_verified": False})


@pytest.mark.django_db
def test_duplicate_email_is_refused():
    user_create(actor=None, email="a@b.example", password="long-enough-password")
    with pytest.raises(ValidationError) as info:
        user_create(actor=None, email="A@b.example", password="long-enough-password")
    assert "email" in info.value.message_dict
