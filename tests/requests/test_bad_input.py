"""Bad input gets a clear error and loses nothing: the draft keeps every answer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from audit.models import AuditEvent
from lifes.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from requests_app import services
from requests_app.models import AccessRequest, Attachment, Vote
from tests.requests.conftest import PDF, declare_none, fill_draft


def state_of(request: AccessRequest) -> tuple:
    request.refresh_from_db()
    return (
        request.state,
        request.round,
        request.title,
        request.lay_summary,
        request.attachments.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("letter.exe", b"MZ\x90\x00", "attachment_type"),
        ("letter.pdf", b"<html>not a pdf</html>", "attachment_type"),
        ("notes.txt", b"\xff\xfe\x00bad", "attachment_type"),
        ("letter.pdf", PDF + b"0" * 2048, "attachment_too_large"),
    ],
)
def test_bad_attachments_are_refused_and_the_draft_is_untouched(review, name, content, code):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    before = state_of(request)
    with override_settings(ATTACHMENT_MAX_BYTES=2048), pytest.raises(InvalidInput) as info:
        services.attachment_add(
            actor=review["requester"],
            request_id=request.pk,
            kind="ethics_letter",
            upload=SimpleUploadedFile(name, content),
        )
    assert info.value.code == code
    assert "file" in info.value.errors
    assert state_of(request) == before


@pytest.mark.django_db
def test_oversized_upload_over_http_is_a_400_json(client, review):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])
    with override_settings(ATTACHMENT_MAX_BYTES=1024):
        response = client.post(
            f"/api/v1/requests/{request.reference}/attachments",
            {"kind": "ethics_letter", "file": SimpleUploadedFile("a.pdf", PDF + b"x" * 2000)},
        )
    assert response.status_code == 400
    assert response.json()["code"] == "attachment_too_large"
    assert Attachment.objects.filter(request=request).count() == 1


@pytest.mark.django_db
def test_submitting_with_missing_sections_names_them_and_keeps_the_draft(review):
    requester = review["requester"]
    request = services.request_create(actor=requester, title="Half done")
    services.request_update(
        actor=requester, request_id=request.pk, changes={"lay_summary": "Only this so far."}
    )
    before = state_of(request)

    with pytest.raises(InvalidInput) as info:
        services.request_submit(actor=requester, request_id=request.pk)

    assert info.value.code == "incomplete"
    for field in (
        "scientific_abstract",
        "datasets",
        "algorithms",
        "period_end",
        "no_prohibited_use",
    ):
        assert field in info.value.errors, field
    assert state_of(request) == before
    assert request.lay_summary == "Only this so far."


@pytest.mark.django_db
def test_invalid_answers_save_nothing_and_say_which(review):
    requester = review["requester"]
    request = fill_draft(requester, ["leiden-diabetes-cohort"])
    before = state_of(request)
    with pytest.raises(InvalidInput) as info:
        services.request_update(
            actor=requester,
            request_id=request.pk,
            changes={
                "lay_summary": "A new summary",
                "purpose_code": "DUO:0000015",
                "purpose_diseases": ["MONDO:9999999"],
            },
        )
    assert set(info.value.errors) == {"purpose_code", "purpose_diseases"}
    assert state_of(request) == before


@pytest.mark.django_db
def test_autosave_with_a_bad_date_is_a_400_and_keeps_the_draft(client, review):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])
    before = state_of(request)
    response = client.post(
        f"/requests/{request.reference}/edit/outputs/",
        {"expected_outputs": "Changed", "period_start": "2027-13-45", "period_end": "2027-01-01"},
        HTTP_X_AUTOSAVE="1",
    )
    assert response.status_code == 400
    assert "period_start" in response.json()["errors"]
    assert state_of(request) == before


@pytest.mark.django_db
def test_api_patch_with_wrong_types_is_400_naming_fields(client, review):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])
    response = client.patch(
        f"/api/v1/requests/{request.reference}",
        {
            "period_start": "soon",
            "is_commercial": "perhaps",
            "datasets": ["no-such-dataset"],
            "algorithms": ["nope 1"],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "period_start",
        "is_commercial",
        "datasets",
        "algorithms",
    }


def _in_review(review):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    services.request_submit(actor=review["requester"], request_id=request.pk)
    services.request_route(actor=None, request_id=request.pk)
    return request


@pytest.mark.django_db
def test_votes_by_non_members_are_refused(review):
    request = _in_review(review)
    before = state_of(request)
    # A stranger is told the request does not exist; the others may see it but not vote.
    for stranger, refusal in (
        (review["industry"], NotFound),
        (review["owner"], NotAllowed),
        (review["requester"], NotAllowed),
    ):
        with pytest.raises(refusal):
            services.vote_cast(actor=stranger, request_id=request.pk, choice="approve")
    assert Vote.objects.count() == 0
    assert state_of(request) == before


@pytest.mark.django_db
def test_recused_members_cannot_vote_or_see_private_answers(client, review):
    request = _in_review(review)
    member = review["member1"]
    services.conflict_declare(
        actor=member, request_id=request.pk, has_conflict=True, statement="I co-author with the PI."
    )
    before = state_of(request)
    with pytest.raises(NotAllowed) as info:
        services.vote_cast(actor=member, request_id=request.pk, choice="approve")
    assert info.value.code == "recused"
    assert state_of(request) == before

    client.force_login(member)
    answers = client.get(f"/api/v1/requests/{request.reference}").json()["submitted_answers"]
    assert answers["pi_email"] == "(private)"
    assert answers["funding_source"] == "(private)"
    client.force_login(review["member2"])
    services.conflict_declare(actor=review["member2"], request_id=request.pk, has_conflict=False)
    answers = client.get(f"/api/v1/requests/{request.reference}").json()["submitted_answers"]
    assert answers["pi_email"] == "requester@demo.lifes.test"


@pytest.mark.django_db
def test_a_second_vote_is_refused(review):
    request = _in_review(review)
    declare_none(request, review["member1"])
    services.vote_cast(actor=review["member1"], request_id=request.pk, choice="approve")
    with pytest.raises(InvalidTransition) as info:
        services.vote_cast(
            actor=review["member1"],
            request_id=request.pk,
            choice="reject",
            comment="Changed my mind",
        )
    assert info.value.code == "already_voted"
    assert list(Vote.objects.values_list("choice", flat=True)) == ["approve"]


@pytest.mark.django_db
def test_closing_without_quorum_says_how_many_votes_are_missing(review):
    request = _in_review(review)
    declare_none(request, review["member1"])
    services.vote_cast(actor=review["member1"], request_id=request.pk, choice="approve")
    before = state_of(request)
    with pytest.raises(InvalidTransition) as info:
        services.round_close(actor=review["chair"], request_id=request.pk)
    assert info.value.code == "quorum_not_met"
    assert "1 of 2" in info.value.message
    assert state_of(request) == before


@pytest.mark.django_db
def test_actions_in_the_wrong_state_are_409_json(client, review):
    request = fill_draft(review["requester"], ["leiden-diabetes-cohort"])
    client.force_login(review["requester"])
    response = client.post(f"/api/v1/requests/{request.reference}/resubmit")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_state"
    client.force_login(review["chair"])
    response = client.post(
        f"/api/v1/requests/{request.reference}/votes",
        {"choice": "approve"},
        content_type="application/json",
    )
    assert response.status_code == 404  # a draft is nobody else's business


@pytest.mark.django_db
def test_rejecting_without_a_reason_is_refused(review):
    request = _in_review(review)
    with pytest.raises(InvalidInput) as info:
        services.vote_cast(actor=review["member1"], request_id=request.pk, choice="reject")
    assert "comment" in info.value.errors
