"""Django admin: every model has a page that opens for staff, and service-written rows are
read-only there (no add, no delete)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from demo.world import seed_demo

SERVICE_WRITTEN = {
    "audit.auditevent",
    "audit.audittreehead",
    "requests_app.accessrequest",
    "requests_app.vote",
    "requests_app.submission",
    "permits.permit",
    "consent.participant",
    "consent.consentrecord",
}


@pytest.mark.django_db
def test_every_admin_page_opens_for_staff(client):
    seed_demo()
    from accounts.models import User

    client.force_login(User.objects.get(email="admin@demo.lifes.test"))
    opened = set()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        info = (model._meta.app_label, model._meta.model_name)
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, label
        first = model_admin.get_queryset(changelist.wsgi_request).first()
        if first is not None:
            change = client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            assert change.status_code == 200, label
        opened.add(label)
    assert SERVICE_WRITTEN <= opened
    for label in SERVICE_WRITTEN:
        app_label, model_name = label.split(".")
        assert client.get(reverse(f"admin:{app_label}_{model_name}_add")).status_code == 403


@pytest.mark.django_db
def test_the_admin_is_closed_to_non_staff(client):
    seed_demo(with_requests=False)
    from accounts.models import User

    client.force_login(User.objects.get(email="requester@demo.lifes.test"))
    response = client.get("/admin/requests_app/accessrequest/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_a_board_made_in_the_admin_goes_through_the_services(client):
    """The admin calls the services: the board gets its group, and a member added there joins
    it, so the member can open the requests the board reviews; removing them takes it away."""
    from accounts.models import Organisation, User
    from accounts.services import user_create
    from audit.models import AuditEvent
    from requests_app.models import ReviewBoard

    admin_user = user_create(
        actor=None,
        email="staff.admin@demo.lifes.test",
        password="a-long-test-password",
        is_staff=True,
        is_superuser=True,
    )
    member = user_create(actor=None, email="new.member@demo.lifes.test", password="x" * 16)
    organisation = Organisation.objects.create(name="Leiden Test Hospital", kind="hospital")
    client.force_login(admin_user)
    management = {
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    fields = {
        "name": "Test Ethics Committee",
        "kind": "ethics_committee",
        "organisation": str(organisation.pk),
        "quorum_rule": "min_votes",
        "min_votes": "2",
        "approval_threshold": "50",
        "deadline_days": "21",
        "reminder_days": "3",
        "contact_email": "",
    }

    added = client.post(
        reverse("admin:requests_app_reviewboard_add"),
        {
            **fields,
            **management,
            "memberships-0-user": str(member.pk),
            "memberships-0-role": "member",
        },
    )

    assert added.status_code == 302, added.content.decode()[:2000]
    board = ReviewBoard.objects.get(name="Test Ethics Committee")
    assert board.group.name == "board:Test Ethics Committee"
    assert list(board.memberships.values_list("user__email", "role")) == [
        ("new.member@demo.lifes.test", "member")
    ]
    assert member.groups.filter(pk=board.group.pk).exists()
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["board.create", "board.member_set"]

    membership = board.memberships.get()
    removed = client.post(
        reverse("admin:requests_app_reviewboard_change", args=[board.pk]),
        {
            **fields,
            **management,
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": str(membership.pk),
            "memberships-0-board": str(board.pk),
            "memberships-0-user": str(member.pk),
            "memberships-0-role": "member",
            "memberships-0-DELETE": "on",
        },
    )

    assert removed.status_code == 302
    assert not board.memberships.exists()
    assert not User.objects.get(pk=member.pk).groups.filter(pk=board.group.pk).exists()
    assert AuditEvent.objects.filter(action="board.member_remove").count() == 1
