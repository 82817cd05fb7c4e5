"""#18 point 17: "verify the log now" in the audit explorer, for auditors and staff only; it
runs the existing verification task (through the outbox) and the outcome lands in the log."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_staff_verify_the_log_now(
    client, world, role, django_capture_on_commit_callbacks
):
    client.force_login(world[role])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/audit/verify/")

    assert response.status_code == 302
    assert response["Location"] == "/audit/?action=audit.log_"
    asked = AuditEvent.objects.get(action="audit.verify_requested")
    assert asked.actor_id == str(world[role].pk)
    verified = AuditEvent.objects.filter(action="audit.log_verified").last()
    assert verified is not None
    assert verified.payload["count"] >= 1
    page = client.get(response["Location"])
    assert "audit.log_verified" in page.content.decode()


@pytest.mark.parametrize("role", ["requester", "owner", "member1"])
def test_others_cannot_verify_the_log(client, world, role):
    client.force_login(world[role])
    before = AuditEvent.objects.count()

    response = client.post("/audit/verify/")

    assert response.status_code == 404
    assert AuditEvent.objects.count() == before
    assert not OutboxMessage.objects.filter(effect="audit.verify").exists()


def test_anonymous_is_sent_to_sign_in_and_a_get_does_nothing(client, world):
    assert client.post("/audit/verify/")["Location"] == "/accounts/login/?next=/audit/verify/"
    client.force_login(world["auditor"])
    assert client.get("/audit/verify/").status_code == 405
    assert not AuditEvent.objects.filter(action="audit.verify_requested").exists()
