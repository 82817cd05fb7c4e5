"""Sign-in hardening: lockout (django-axes), OIDC linking, two-factor for deciders (django-otp),
password-reset rate limit. These sign in through the real forms, never with force_login."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.oidc import LifesOIDCBackend
from audit.models import AuditEvent
from demo.world import DEMO_PASSWORD

LOGIN = "/accounts/login/"


@pytest.fixture
def world(world):
    """The demo people, with the chair chairing a board as in the full demo, and without the
    demo authenticators: as accounts are before their owners set one up."""
    from accounts.models import Organisation
    from requests_app.services import board_create, board_member_add

    TOTPDevice.objects.all().delete()

    board = board_create(
        actor=None,
        name="Test ethics committee",
        kind="ethics_committee",
        organisation=Organisation.objects.first(),
        min_votes=1,
        contact_email="board@example.org",
    )
    board_member_add(actor=None, board=board, user=world["chair"], role="chair")
    board_member_add(actor=None, board=board, user=world["member1"])
    return world


def sign_in(client, email: str, password: str = DEMO_PASSWORD, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- lockout -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ten_failures_lock_the_account_with_an_explained_page(client, world):
    for attempt in range(9):
        response = sign_in(client, "requester@demo.lifes.test", "wrong", ip=f"10.0.0.{attempt}")
        assert response.status_code == 200

    locked = sign_in(client, "requester@demo.lifes.test", "wrong", ip="10.0.0.9")

    assert locked.status_code == 429
    text = locked.content.decode()
    assert "There were 10 failed sign-in attempts for this account or from this address" in text
    assert "Try again in 30 minutes." in text
    # The right password from a fresh address does not get in while the account is locked.
    again = sign_in(client, "Requester@demo.lifes.test", DEMO_PASSWORD, ip="10.9.9.9")
    assert again.status_code == 429
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_ten_failures_from_one_address_lock_that_address(client, world):
    for n in range(10):
        sign_in(client, f"nobody{n}@example.org", "wrong", ip="192.0.2.7")

    refused = sign_in(client, "owner@demo.lifes.test", DEMO_PASSWORD, ip="192.0.2.7")
    assert refused.status_code == 429
    assert not is_signed_in(client)
    # The same account from another address is not affected.
    assert (
        sign_in(client, "owner@demo.lifes.test", DEMO_PASSWORD, ip="192.0.2.8").status_code == 302
    )


@pytest.mark.django_db
def test_behind_a_proxy_the_client_address_is_locked_not_the_proxy(client, world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(10):
        client.post(
            LOGIN,
            {"username": f"nobody{n}@example.org", "password": "wrong"},
            # what the client wrote, then what the proxy appended
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.9",
            **proxy,
        )

    locked = client.post(
        LOGIN,
        {"username": "owner@demo.lifes.test", "password": DEMO_PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.9",
        **proxy,
    )
    other = client.post(
        LOGIN,
        {"username": "owner@demo.lifes.test", "password": DEMO_PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.10",
        **proxy,
    )

    assert locked.status_code == 429
    assert other.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.9"}


@pytest.mark.django_db
def test_a_success_before_the_limit_resets_the_count(client, world):
    for _ in range(9):
        sign_in(client, "member1@demo.lifes.test", "wrong")
    assert sign_in(client, "member1@demo.lifes.test").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(9):
        assert sign_in(client, "member1@demo.lifes.test", "wrong").status_code == 200
    assert sign_in(client, "member1@demo.lifes.test").status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_after_the_cool_off(client, world):
    for _ in range(10):
        sign_in(client, "requester@demo.lifes.test", "wrong")
    assert sign_in(client, "requester@demo.lifes.test").status_code == 429

    # given: the attempts are older than the cool-off (30 minutes)
    from datetime import timedelta

    from django.utils import timezone

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))

    assert sign_in(client, "requester@demo.lifes.test").status_code == 302


@pytest.mark.django_db
def test_staff_unlock_an_account_in_the_admin(client, world):
    for _ in range(10):
        sign_in(client, "requester@demo.lifes.test", "wrong", ip="198.51.100.1")
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert len(attempts) == 1

    from django.test import Client

    staff = Client()
    staff.force_login(world["admin"])
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "requester@demo.lifes.test" in staff.get(changelist).content.decode()
    response = staff.post(
        changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"}
    )

    assert response.status_code == 302
    assert AccessAttempt.objects.count() == 0
    assert sign_in(client, "requester@demo.lifes.test", ip="198.51.100.1").status_code == 302


# --- OIDC ------------------------------------------------------------------------------------------


class ProviderSays(LifesOIDCBackend):
    """The real backend, with the identity provider's userinfo answer given by the test."""

    def __init__(self, claims: dict) -> None:
        self.UserModel = User
        self.claims = claims

    def get_userinfo(self, access_token, id_token, payload):
        return self.claims


def oidc_sign_in(claims: dict):
    from django.core.exceptions import SuspiciousOperation

    try:
        return ProviderSays(claims).get_or_create_user("access", "id", {})
    except SuspiciousOperation:
        return None


@pytest.mark.django_db
def test_oidc_links_an_existing_account_when_the_email_is_verified(world):
    user = oidc_sign_in({"email": "Requester@demo.lifes.test", "email_verified": True})
    assert user == world["requester"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "claims",
    [
        {"email": "requester@demo.lifes.test", "email_verified": "true"},
        {"email": "requester@demo.lifes.test", "email_verified": 1},
        {"email": "requester@demo.lifes.test", "email_verified": False},
        {"email": "requester@demo.lifes.test"},
    ],
    ids=["string-true", "one", "false", "missing"],
)
def test_oidc_never_links_without_a_boolean_true_email_verified(world, claims):
    users, events = User.objects.count(), AuditEvent.objects.count()

    assert oidc_sign_in(claims) is None

    assert not LifesOIDCBackend.verify_claims(ProviderSays(claims), claims)
    assert (User.objects.count(), AuditEvent.objects.count()) == (users, events)


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["admin@demo.lifes.test", "lumc-station-1@nodes.lifes.test"])
def test_oidc_never_reaches_staff_or_machine_accounts(world, email):
    users, events = User.objects.count(), AuditEvent.objects.count()

    assert oidc_sign_in({"email": email, "email_verified": True}) is None

    assert (User.objects.count(), AuditEvent.objects.count()) == (users, events)


@pytest.mark.django_db
def test_oidc_never_reaches_a_superuser(world):
    User.objects.filter(pk=world["auditor"].pk).update(is_superuser=True)
    assert oidc_sign_in({"email": "auditor@demo.lifes.test", "email_verified": True}) is None


@pytest.mark.django_db
def test_oidc_creates_a_new_account_for_a_verified_new_address(world):
    user = oidc_sign_in({"email": "New@Uni.example", "email_verified": True, "name": "N. New"})
    assert (user.email, user.full_name, user.has_usable_password()) == (
        "new@uni.example",
        "N. New",
        False,
    )


# --- two-factor for deciders -------------------------------------------------------------------


def current_code(device: TOTPDevice, *, ahead: int = 0) -> str:
    """The code an authenticator app shows now (RFC 6238), from django-otp's own TOTP."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + ahead * device.step
    return f"{totp.token():0{device.digits}d}"


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["chair", "owner", "admin"])
def test_deciders_must_set_up_a_second_factor_before_any_page(client, world, person):
    assert sign_in(client, f"{person}@demo.lifes.test").status_code == 302

    for path in ("/requests/", "/accounts/profile/", "/catalogue/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == f"/accounts/2fa/setup/?next={path.replace('/', '%2F')}"


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["requester", "member1", "auditor"])
def test_people_who_decide_nothing_are_not_asked(client, world, person):
    sign_in(client, f"{person}@demo.lifes.test")
    assert client.get("/requests/").status_code == 200


@pytest.mark.django_db
def test_an_unverified_decider_session_gets_403_json_on_the_api(client, world):
    sign_in(client, "owner@demo.lifes.test")
    events = AuditEvent.objects.count()

    response = client.post(
        "/api/v1/permits/issue", {"request": "x"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"
    assert client.get("/api/v1/me").status_code == 403
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_chair_sets_up_totp_gets_recovery_codes_and_then_reaches_pages(client, world):
    chair = world["chair"]
    last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    sign_in(client, "chair@demo.lifes.test")

    page = client.get("/accounts/2fa/setup/?next=/requests/")
    assert page.status_code == 200
    assert 'src="/accounts/2fa/setup/qr.svg"' in page.content.decode()
    qr = client.get("/accounts/2fa/setup/qr.svg")
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.lstrip().startswith(b"<?xml")
    assert b"<svg" in qr.content
    device = TOTPDevice.objects.get(user=chair, confirmed=False)
    assert page.context["secret"] in device.config_url  # the key to type in, same as the QR

    wrong = client.post("/accounts/2fa/setup/?next=/requests/", {"code": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    assert device.confirmed is False

    done = client.post("/accounts/2fa/setup/", {"code": current_code(device), "next": "/requests/"})

    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert sorted(
        StaticToken.objects.filter(device__user=chair).values_list("token", flat=True)
    ) == (sorted(codes))
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/requests/").status_code == 200
    assert list(
        AuditEvent.objects.filter(
            seq__gt=last_seq, object_id=str(chair.pk), action__startswith="two_factor"
        )
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["two_factor.enable", "two_factor.recovery_codes"]


@pytest.mark.django_db
def test_signing_in_again_asks_for_the_code_and_a_recovery_code_works_once(client, world):
    owner = world["owner"]
    device = TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    from accounts.services import recovery_codes_issue

    codes = recovery_codes_issue(actor=owner).codes
    sign_in(client, "owner@demo.lifes.test")

    asked = client.get("/requests/")
    assert asked["Location"] == "/accounts/2fa/?next=%2Frequests%2F"
    used = client.post("/accounts/2fa/", {"code": codes[0], "next": "/requests/"})
    assert used.status_code == 302
    assert used["Location"] == "/requests/"
    assert client.get("/requests/").status_code == 200
    assert StaticToken.objects.filter(device__user=owner).count() == 9

    client.post("/accounts/logout/")
    sign_in(client, "owner@demo.lifes.test")
    assert (
        client.post("/accounts/2fa/", {"code": current_code(device), "next": "/"})["Location"]
        == "/"
    )
    assert client.get("/requests/").status_code == 200

    client.post("/accounts/logout/")
    sign_in(client, "owner@demo.lifes.test")
    again = client.post("/accounts/2fa/", {"code": codes[0], "next": "/requests/"})
    assert again.status_code == 400
    assert "That code is not right, or was used already." in again.content.decode()
    assert client.get("/requests/").status_code == 302


@pytest.mark.django_db
def test_a_wrong_code_is_refused_and_the_session_stays_unverified(client, world):
    TOTPDevice.objects.create(user=world["owner"], name="phone", confirmed=True)
    sign_in(client, "owner@demo.lifes.test")
    wrong = client.post("/accounts/2fa/?next=/requests/", {"code": "123456"})
    assert wrong.status_code == 400
    assert client.get("/requests/")["Location"] == "/accounts/2fa/?next=%2Frequests%2F"


@pytest.mark.django_db
def test_a_password_alone_cannot_replace_the_authenticator(client, world):
    chair = world["chair"]
    device = TOTPDevice.objects.create(user=chair, name="phone", confirmed=True)
    sign_in(client, "chair@demo.lifes.test")

    setup = client.get("/accounts/2fa/setup/")
    qr = client.get("/accounts/2fa/setup/qr.svg")
    posted = client.post("/accounts/2fa/setup/", {"code": "123456"})

    assert setup.status_code == 302
    assert setup["Location"].startswith("/accounts/2fa/?")
    assert qr.status_code == 404
    assert posted.status_code == 302
    assert list(TOTPDevice.objects.filter(user=chair)) == [device]


@pytest.mark.django_db
def test_a_requester_who_turned_on_2fa_is_asked_too(client, world):
    TOTPDevice.objects.create(user=world["requester"], name="phone", confirmed=True)
    sign_in(client, "requester@demo.lifes.test")
    assert client.get("/requests/")["Location"] == "/accounts/2fa/?next=%2Frequests%2F"


@pytest.mark.django_db
def test_the_second_factor_step_refuses_an_offsite_next(client, world):
    device = TOTPDevice.objects.create(user=world["chair"], name="phone", confirmed=True)
    sign_in(client, "chair@demo.lifes.test")
    response = client.post(
        "/accounts/2fa/", {"code": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/requests/"  # LOGIN_REDIRECT_URL: the dashboard


# --- password reset -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_password_reset_mails_are_rate_limited_per_address(client, world):
    for _ in range(5):
        sent = client.post("/accounts/password-reset/", {"email": "requester@demo.lifes.test"})
        assert sent.status_code == 302

    refused = client.post("/accounts/password-reset/", {"email": "requester@demo.lifes.test"})

    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == 5


@pytest.mark.django_db
def test_password_reset_mails_are_rate_limited_per_email_across_addresses(client, world):
    for n in range(5):
        client.post(
            "/accounts/password-reset/",
            {"email": "owner@demo.lifes.test"},
            REMOTE_ADDR=f"203.0.113.{n}",
        )
    refused = client.post(
        "/accounts/password-reset/", {"email": "OWNER@demo.lifes.test"}, REMOTE_ADDR="203.0.113.99"
    )
    assert refused.status_code == 429
    assert len(mail.outbox) == 5
    assert all(re.search(r"/accounts/password-reset/", m.body) for m in mail.outbox)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("person", "action", "data"),
    [
        ("chair", "close_round", {"decision": "approved", "confirmed": "yes"}),
        ("chair", "vote", {"choice": "approve", "comment": "fine"}),
        ("owner", "decide_dataset", {"decision": "granted"}),
    ],
)
def test_a_decider_action_by_an_unverified_session_changes_nothing(client, person, action, data):
    """The full demo (its chair, owner and admin hold the demo authenticator): a password alone
    reaches no decision; the demo code from seed_demo then lets the same person in."""
    from demo.world import demo_totp_code, seed_demo
    from requests_app.models import AccessRequest
    from tests.test_hostile_input import table_counts

    seed_demo()
    in_review = AccessRequest.objects.filter(state="in_review").order_by("pk").first()
    sign_in(client, f"{person}@demo.lifes.test")
    before = table_counts()

    response = client.post(f"/requests/{in_review.reference}/act/{action}/", data)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/?next=")
    assert table_counts() == before
    verified = client.post("/accounts/2fa/", {"code": demo_totp_code(), "next": "/requests/"})
    assert verified["Location"] == "/requests/"
    assert client.get(f"/requests/{in_review.reference}/").status_code == 200


@pytest.mark.django_db
def test_new_recovery_codes_void_the_old_ones_and_need_the_second_factor(client, world):
    from accounts.services import recovery_codes_issue

    owner = world["owner"]
    device = TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    old = recovery_codes_issue(actor=owner).codes
    sign_in(client, "owner@demo.lifes.test")

    unverified = client.post("/accounts/2fa/recovery-codes/")
    assert unverified["Location"] == "/accounts/2fa/?next=%2Faccounts%2Fprofile%2F"
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(old)

    client.post("/accounts/2fa/", {"code": current_code(device), "next": "/"})
    renewed = client.post("/accounts/2fa/recovery-codes/")

    assert renewed.status_code == 200
    new = renewed.context["codes"]
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(new)
    assert set(new).isdisjoint(old)
