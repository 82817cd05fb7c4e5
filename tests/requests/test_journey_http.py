"""The core journey over HTTP: create, fill, submit for two datasets of two owners; two members
vote; the chairs close their rounds; both owners grant; approved — every step in the chain."""

from __future__ import annotations

import pytest
from django.core import mail

from audit.models import AuditEvent
from audit.services import chain_verify
from requests_app.models import AccessRequest, CheckResult
from tests.requests.conftest import COMPLETE_ANSWERS, pdf_upload


def as_user(client, user):
    client.force_login(user)
    return client


def post(client, path, data=None, **kwargs):
    response = client.post(path, data or {}, content_type="application/json", **kwargs)
    assert response.status_code in (200, 201), (path, response.status_code, response.json())
    return response.json()


@pytest.mark.django_db
def test_request_from_form_to_owners_grant(client, review, django_capture_on_commit_callbacks):
    requester, chair, member1, member2 = (
        review[k] for k in ("requester", "chair", "member1", "member2")
    )
    first_event = AuditEvent.objects.order_by("-seq").first().seq

    # given a requester who fills a draft for two datasets of different owners
    as_user(client, requester)
    body = {
        **COMPLETE_ANSWERS,
        "title": "Glycaemic control and BMI",
        "datasets": ["leiden-diabetes-cohort", "lumc-cardiovascular-biobank"],
        "algorithms": ["mean-bmi-by-sex 1.0.0"],
    }
    for key in ("ethics_expires_on", "period_start", "period_end"):
        body[key] = body[key].isoformat()
    created = post(client, "/api/v1/requests/", body)
    reference = created["reference"]
    assert reference.startswith("LIFES-R-2026-") or reference.startswith("LIFES-R-20")
    assert created["state"] == "draft"
    upload = client.post(
        f"/api/v1/requests/{reference}/attachments", {"kind": "ethics_letter", "file": pdf_upload()}
    )
    assert upload.status_code == 201

    # when they submit, the checks run; the access body's staff find it complete (the
    # statutory clock starts) and the request goes to the first board
    with django_capture_on_commit_callbacks(execute=True):
        submitted = post(client, f"/api/v1/requests/{reference}/submit")
    assert client.get(f"/api/v1/requests/{reference}").json()["clock"] is None
    as_user(client, review["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"/api/v1/requests/{reference}/accept-complete")
    detail = client.get(f"/api/v1/requests/{reference}").json()
    assert detail["clock"]["paused"] is False
    assert detail["clock"]["extended"] is False
    assert detail["state"] == "in_review"
    assert detail["situation"] == "in_review:boards"
    assert [s["board"] for s in detail["stages"]] == [
        "LUMC Medical Ethics Committee",
        "Cardio Data Access Committee",
    ]
    assert [s["state"] for s in detail["stages"]] == ["open", "waiting"]
    request = AccessRequest.objects.get(reference=reference)
    assert CheckResult.objects.filter(request=request, round=1).exists()
    assert submitted["round"] == 1

    # two ethics members declare and vote; the chair closes the round
    for member in (member1, member2):
        as_user(client, member)
        with django_capture_on_commit_callbacks(execute=True):
            post(client, f"/api/v1/requests/{reference}/declare-conflict", {"has_conflict": False})
            post(client, f"/api/v1/requests/{reference}/votes", {"choice": "approve"})
    as_user(client, chair)
    with django_capture_on_commit_callbacks(execute=True):
        closed = post(client, f"/api/v1/requests/{reference}/close-round", {"note": "Fine."})
    assert [s["state"] for s in closed["stages"]] == ["approved", "open"]

    # the data access committee's chair decides
    as_user(client, review["owner2"])
    with django_capture_on_commit_callbacks(execute=True):
        closed = post(client, f"/api/v1/requests/{reference}/close-round", {"decision": "approve"})
    assert closed["situation"] == "in_review:owners"

    # both owners grant their dataset
    as_user(client, review["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        after_first = post(
            client,
            f"/api/v1/requests/{reference}/decide",
            {
                "dataset_slug": "leiden-diabetes-cohort",
                "decision": "granted",
                "conditions": "Publish in open access.",
            },
        )
    assert after_first["state"] == "in_review"
    as_user(client, review["owner2"])
    with django_capture_on_commit_callbacks(execute=True):
        final = post(
            client,
            f"/api/v1/requests/{reference}/decide",
            {"dataset_slug": "lumc-cardiovascular-biobank", "decision": "granted"},
        )

    # then the request is approved, and every step is in an intact chain
    assert final["state"] in ("approved", "permitted")
    actions = list(
        AuditEvent.objects.filter(
            seq__gt=first_event, object_id=str(request.pk), object_type="requests_app.accessrequest"
        ).values_list("action", flat=True)
    )
    for expected in (
        "request.create",
        "request.edit",
        "request.attachment_add",
        "request.submit",
        "request.checks_run",
        "request.accept_complete",
        "request.declare_conflict",  # named after its action (was request.conflict_declare)
        "request.vote",
        "request.close_round",
        "request.decide_dataset",
    ):
        assert expected in actions, expected
    assert actions.count("request.vote") == 2
    assert actions.count("request.decide_dataset") == 2
    assert chain_verify().is_intact
    subjects = [m.subject for m in mail.outbox]
    assert f"{reference} was submitted" in subjects
    assert any(s.startswith("Review requested") for s in subjects)
    assert f"Decision on {reference}" in subjects
