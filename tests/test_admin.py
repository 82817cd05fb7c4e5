"""Django admin: every model has a page that opens for staff, and service-written rows are
read-only there (no add, no delete)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from demo.world import seed_demo

SERVICE_WRITTEN = {
    "audit.auditevent",
    "audit.auditcheckpoint",
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
