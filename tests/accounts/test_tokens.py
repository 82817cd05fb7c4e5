"""API tokens: expiry, scope, revocation on a password change, no minting with a token, and the
node's machine token (which does not expire)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, TokenScope
from accounts.services import api_token_create
from audit.models import AuditEvent
from demo.world import DEMO_NODE_TOKEN


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_a_new_token_expires_after_the_default_ttl(client, world, settings):
    settings.API_TOKEN_TTL_DAYS = 90
    client.force_login(world["requester"])
    before = timezone.now()

    created = client.post(
        "/api/v1/auth/tokens", {"name": "notebook"}, content_type="application/json"
    )

    after = timezone.now()
    assert created.status_code == 201
    body = created.json()
    assert body["scope"] == "read"  # least privilege unless asked
    token = ApiToken.objects.get(pk=body["id"])
    assert before + timedelta(days=90) <= token.expires_at <= after + timedelta(days=90)


@pytest.mark.django_db
def test_an_expired_token_is_refused(world):
    issued = api_token_create(actor=world["requester"], user=world["requester"], name="t")
    api = client_with(issued.key)
    assert api.get("/api/v1/me").status_code == 200

    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    refused = api.get("/api/v1/me")
    assert refused.status_code == 401
    assert refused.json() == {
        "detail": "Invalid, expired or revoked token.",
        "code": "authentication_failed",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("days", [-1, 366])
def test_an_expiry_in_the_past_or_beyond_the_longest_lifetime_is_refused(client, world, days):
    client.force_login(world["requester"])
    events = AuditEvent.objects.count()
    expires = (timezone.now() + timedelta(days=days)).isoformat()

    response = client.post(
        "/api/v1/auth/tokens",
        {"name": "t", "expires_at": expires},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"expires_at": ["between now and 365 days from now"]}
    assert ApiToken.objects.filter(user=world["requester"]).count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_read_only_token_reads_but_gets_403_json_on_unsafe_methods(world):
    owner = world["owner"]
    issued = api_token_create(actor=owner, user=owner, name="ro", scope=TokenScope.READ)
    other = api_token_create(actor=owner, user=owner, name="other")
    api = client_with(issued.key)
    events = AuditEvent.objects.count()

    assert api.get("/api/v1/me").status_code == 200
    assert api.get("/api/v1/auth/tokens").status_code == 200
    for method, path in [
        ("post", f"/api/v1/auth/tokens/{other.token.pk}/revoke"),
        ("post", "/api/v1/permits/issue"),
        ("put", "/api/v1/me"),
        ("delete", "/api/v1/me"),
        ("patch", "/api/v1/me"),
    ]:
        response = getattr(api, method)(path, {}, format="json")
        assert response.status_code == 403, path
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "detail": "This token is read-only; use a token with the full scope to change "
            "anything.",
            "code": "token_read_only",
        }
    other.token.refresh_from_db()
    assert other.token.revoked_at is None
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_full_token_may_change_things(world):
    owner = world["owner"]
    full = api_token_create(actor=owner, user=owner, name="full", scope=TokenScope.FULL)
    other = api_token_create(actor=owner, user=owner, name="other")
    response = client_with(full.key).post(f"/api/v1/auth/tokens/{other.token.pk}/revoke")
    assert response.status_code == 200
    assert response.json()["revoked_reason"] == "revoked"


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["read", "full"])
def test_a_token_cannot_mint_tokens(world, scope):
    user = world["requester"]
    issued = api_token_create(actor=user, user=user, name="script", scope=scope)
    events = AuditEvent.objects.count()

    response = client_with(issued.key).post(
        "/api/v1/auth/tokens", {"name": "child", "scope": "full"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == (
        "token_read_only" if scope == "read" else "token_cannot_mint"
    )
    assert list(ApiToken.objects.filter(user=user).values_list("name", flat=True)) == ["script"]
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_password_change_revokes_the_tokens(world):
    user = world["requester"]
    issued = api_token_create(actor=user, user=user, name="script", scope=TokenScope.FULL)
    api = client_with(issued.key)
    assert api.get("/api/v1/me").status_code == 200

    # when: the password changes by any path (here the model API, as the admin and
    # `manage.py changepassword` do)
    user.set_password("a-brand-new-password-2026")
    user.save()

    assert api.get("/api/v1/me").status_code == 401
    issued.token.refresh_from_db()
    assert issued.token.revoked_reason == "password_changed"
    assert issued.token.revoked_at is not None
    event = AuditEvent.objects.filter(action="api_token.revoke").get()
    assert event.payload == {"prefix": issued.token.prefix, "reason": "password_changed"}
    # A token made after the change works.
    fresh = api_token_create(actor=user, user=user, name="new")
    assert client_with(fresh.key).get("/api/v1/me").status_code == 200


@pytest.mark.django_db
def test_a_password_reset_revokes_the_tokens_at_once(client, world):
    from django.core import mail

    user = world["requester"]
    issued = api_token_create(actor=user, user=user, name="script")
    client.post("/accounts/password-reset/", {"email": user.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
    path = link[link.index("/accounts/") :].strip()
    form = client.get(path, follow=True)
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another-long-password-77", "new_password2": "another-long-password-77"},
    )

    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert (issued.token.revoked_reason, issued.token.revoked_at is not None) == (
        "password_changed",
        True,
    )


@pytest.mark.django_db
def test_the_node_token_does_not_expire_and_keeps_working(world):
    node_token = ApiToken.objects.get(user__email="lumc-station-1@nodes.lifes.test")
    assert node_token.expires_at is None
    assert node_token.scope == TokenScope.FULL
    assert client_with(DEMO_NODE_TOKEN).get("/api/v1/node/permits").status_code == 200


@pytest.mark.django_db
def test_the_profile_page_creates_a_read_only_token_by_default(client, world):
    client.force_login(world["requester"])
    page = client.get("/accounts/profile/")
    assert 'value="read" selected' in page.content.decode()

    created = client.post("/accounts/tokens/", {"name": "nb", "scope": "read"})

    # post/redirect/get: the key is shown on the page the POST redirects to, once
    assert created.status_code == 302
    assert created["Location"] == "/accounts/tokens/created/"
    token = ApiToken.objects.get(user=world["requester"])
    assert (token.name, token.scope) == ("nb", "read")
    shown = client.get("/accounts/tokens/created/")
    assert shown.status_code == 200
    assert token.prefix in shown.content.decode()
    again = client.get("/accounts/tokens/created/")
    assert again["Location"] == "/accounts/profile/"
    assert ApiToken.objects.filter(user=world["requester"]).count() == 1
    assert shown.context["key"].startswith("lifes_")


@pytest.mark.django_db
def test_staff_issue_and_rotate_a_node_token_from_the_command_line(world):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "api_token_issue", "lumc-station-1@nodes.lifes.test", "--name", "rotated", stdout=out
    )
    key = out.getvalue().strip()

    token = ApiToken.objects.get(name="rotated")
    assert (token.scope, token.expires_at, token.user.is_machine) == ("full", None, True)
    assert client_with(key).get("/api/v1/node/permits").status_code == 200
    # the old one is revoked by staff through the API
    old = ApiToken.objects.get(user__is_machine=True, name="demo node credential")
    staff = APIClient()
    staff.force_authenticate(world["admin"])
    assert staff.post(f"/api/v1/auth/tokens/{old.pk}/revoke").status_code == 200
    assert client_with(DEMO_NODE_TOKEN).get("/api/v1/node/permits").status_code == 401
    assert client_with(key).get("/api/v1/node/permits").status_code == 200
