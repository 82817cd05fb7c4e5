"""The journey as each person lives it (#18 points 1, 2, 6, 7, 13, 14, 15): reviewers open the
files they approve, requesters read why changes were asked and what happens next, the
timeline and messages speak in words, and the new pages refuse whom the rule refuses."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.services import user_create
from audit.models import AuditEvent
from consent.duo import RESEARCH_TYPES_IN_ORDER
from demo.ehds_world import complete_after_checks
from requests_app import services
from requests_app.application_form import vocabulary_choices
from requests_app.models import Attachment, Comment, RequestState
from tests.requests.conftest import declare_none, fill_draft, pdf_upload

DIABETES = "leiden-diabetes-cohort"


def _submitted(requester, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = fill_draft(requester, [DIABETES])
        services.request_submit(actor=requester, request_id=request.pk)
    complete_after_checks(request)  # the checks, then the access body finds it complete
    request.refresh_from_db()
    assert request.state == RequestState.IN_REVIEW
    return request


@pytest.fixture
def changes_asked(review, django_capture_on_commit_callbacks):
    """The ethics committee asks for changes: two members say why, the chair adds a note and
    an internal note the requester must never read."""
    request = _submitted(review["requester"], django_capture_on_commit_callbacks)
    declare_none(request, review["member1"], review["member2"])
    services.vote_cast(
        actor=review["member1"],
        request_id=request.pk,
        choice="request_changes",
        comment="REASON-ONE: say how small cells are suppressed.",
    )
    services.vote_cast(
        actor=review["member2"],
        request_id=request.pk,
        choice="request_changes",
        comment="REASON-TWO: the period outlasts the ethics approval.",
    )
    services.comment_add(
        actor=review["member1"], request_id=request.pk, body="INTERNAL-ONLY", is_internal=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.round_close(
            actor=review["chair"], request_id=request.pk, note="See the members' comments."
        )
    request.refresh_from_db()
    assert request.state == RequestState.CHANGES_REQUESTED
    return request


@pytest.mark.django_db
def test_the_requester_reads_the_comments_that_asked_for_changes(changes_asked, review, client):
    client.force_login(review["requester"])
    page = client.get(changes_asked.get_absolute_url()).content.decode()
    assert "REASON-ONE: say how small cells are suppressed." in page
    assert "REASON-TWO: the period outlasts the ethics approval." in page
    assert "See the members&#x27; comments." in page
    assert "No comments yet." not in page
    # the board's words, not who voted what: no voter names, no internal note
    for secret in ("INTERNAL-ONLY", review["member1"].get_full_name()):
        assert secret not in page, secret
    assert "a member of the board" in page
    # and where the request goes next: the requester, to change and resubmit
    assert "What happens next" in page
    assert "change the answers and resubmit" in page


@pytest.mark.django_db
def test_a_cleared_member_sees_who_gave_each_reason(changes_asked, review, client):
    client.force_login(review["member2"])
    page = client.get(changes_asked.get_absolute_url()).content.decode()
    assert "REASON-ONE" in page
    assert review["member1"].get_full_name() in page
    assert "What happens next" not in page  # the requester's view


@pytest.mark.django_db
def test_the_decision_letter_is_a_page_and_a_pdf_for_those_who_see_the_request(
    changes_asked, review, client
):
    reference = changes_asked.reference
    client.force_login(review["requester"])
    page = client.get(f"/reports/letters/{reference}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Decision: changes requested" in text
    assert "REASON-ONE" in text
    assert "REASON-TWO" in text
    assert review["member1"].get_full_name() not in text
    assert "INTERNAL-ONLY" not in text
    pdf = client.get(f"/reports/letters/{reference}.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    with translation.override("nl"):
        client.cookies["django_language"] = "nl"
        dutch = client.get(f"/reports/letters/{reference}/", HTTP_ACCEPT_LANGUAGE="nl")
        assert "Besluit: wijzigingen gevraagd" in dutch.content.decode()


@pytest.mark.django_db
def test_the_decision_letter_of_someone_elses_request_is_a_404(changes_asked, review, client):
    stranger = user_create(
        actor=None, email="stranger@example.org", full_name="S", password="a-long-test-password"
    )
    client.force_login(stranger)
    for path in ("/", ".pdf"):
        url = f"/reports/letters/{changes_asked.reference}{path}"
        assert client.get(url).status_code == 404, url
    assert client.get("/reports/letters/NO-SUCH/").status_code == 404
    client.logout()
    response = client.get(f"/reports/letters/{changes_asked.reference}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.fixture
def refused(review, django_capture_on_commit_callbacks):
    """The ethics committee refuses: two members say why with their votes, the chair adds a
    note, and one member writes an internal note the requester must never read."""
    request = _submitted(review["requester"], django_capture_on_commit_callbacks)
    declare_none(request, review["member1"], review["member2"])
    services.vote_cast(
        actor=review["member1"],
        request_id=request.pk,
        choice="reject",
        comment="REFUSAL-ONE: the cohort cannot answer this question.",
    )
    services.vote_cast(
        actor=review["member2"],
        request_id=request.pk,
        choice="reject",
        comment="REFUSAL-TWO: re-identification risk is too high.",
    )
    services.comment_add(
        actor=review["member1"], request_id=request.pk, body="INTERNAL-REFUSAL", is_internal=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.round_close(
            actor=review["chair"], request_id=request.pk, note="CHAIR-NOTE: refused as a whole."
        )
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    return request


@pytest.mark.django_db
def test_the_refusal_letter_gives_the_boards_reasons_as_page_and_pdf_naming_no_voter(
    refused, review, client
):
    from tests.reports.conftest import pdf_text

    reference = refused.reference
    voters = [review[who].get_full_name() for who in ("member1", "member2", "chair")]
    assert all(voters)
    client.force_login(review["requester"])
    page = client.get(f"/reports/letters/{reference}/")
    assert page.status_code == 200
    pdf = client.get(f"/reports/letters/{reference}.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    pdf_words = " ".join(pdf_text(pdf.content).split())
    for text in (page.content.decode().replace("&#x27;", "'"), pdf_words):
        assert "Decision: access refused" in text
        assert "Decision: changes requested" not in text
        assert "We have decided not to grant access for this request" in text
        assert "REFUSAL-ONE: the cohort cannot answer this question." in text
        assert "REFUSAL-TWO: re-identification risk is too high." in text
        assert "CHAIR-NOTE: refused as a whole." in text
        assert "INTERNAL-REFUSAL" not in text
        for name in voters:
            assert name not in text, name
    # the request page leads to it
    assert "Read the decision letter" in client.get(refused.get_absolute_url()).content.decode()
    with translation.override("nl"):
        client.cookies["django_language"] = "nl"
        dutch = client.get(f"/reports/letters/{reference}/", HTTP_ACCEPT_LANGUAGE="nl")
        assert "REFUSAL-ONE" in dutch.content.decode()
        assert "Decision: access refused" not in dutch.content.decode()


@pytest.mark.django_db
def test_the_refusal_letter_is_a_404_for_outsiders(refused, review, client):
    stranger = user_create(
        actor=None, email="stranger@example.org", full_name="S", password="a-long-test-password"
    )
    client.force_login(stranger)
    for path in ("/", ".pdf"):
        response = client.get(f"/reports/letters/{refused.reference}{path}")
        assert response.status_code == 404, path
        assert b"REFUSAL-ONE" not in response.content
    client.logout()
    for path in ("/", ".pdf"):
        response = client.get(f"/reports/letters/{refused.reference}{path}")
        assert response.status_code == 302, path
        assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_no_letter_while_no_board_has_decided_against(
    review, client, django_capture_on_commit_callbacks
):
    request = _submitted(review["requester"], django_capture_on_commit_callbacks)
    client.force_login(review["requester"])
    assert client.get(f"/reports/letters/{request.reference}/").status_code == 404
    page = client.get(request.get_absolute_url()).content.decode()
    assert "Read the decision letter" not in page
    assert "the members of LUMC Medical Ethics Committee" in page  # who the request waits for


@pytest.mark.django_db
def test_requesters_are_not_offered_internal_notes_and_a_refused_post_keeps_the_text(
    changes_asked, review, client
):
    client.force_login(review["requester"])
    url = changes_asked.get_absolute_url()
    page = client.get(url).content.decode()
    assert 'name="is_internal"' not in page
    assert "Internal note for the boards only" not in page
    before = (Comment.objects.count(), AuditEvent.objects.count())
    text = "My long answer to the board, which must not get lost."
    response = client.post(f"{url}act/comment/", {"body": text, "is_internal": "on"}, follow=False)
    assert response.status_code == 400
    body = response.content.decode()
    assert text in body  # kept in the form
    assert "Only board members can write internal notes." in body
    assert (Comment.objects.count(), AuditEvent.objects.count()) == before
    # an empty comment: nothing typed to keep, so the page as before, and nothing written
    response = client.post(f"{url}act/comment/", {"body": "  "})
    assert response.status_code == 302
    assert (Comment.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_after_voting_the_page_says_how_and_the_chair_sees_the_quorum_before_confirming(
    review, client, django_capture_on_commit_callbacks
):
    request = _submitted(review["requester"], django_capture_on_commit_callbacks)
    url = request.get_absolute_url()
    for member in (review["member1"], review["member2"]):
        client.force_login(member)
        client.post(f"{url}act/declare_conflict/", {"has_conflict": "no"})
        response = client.post(f"{url}act/vote/", {"choice": "approve"}, follow=True)
        page = response.content.decode()
        assert "You voted Approve." in page
        assert 'name="choice"' not in page  # no blank vote form again
    client.force_login(review["chair"])
    page = client.get(url).content.decode()
    assert "Votes: 2 (at least 2 needed)." in page
    assert "Closing now decides: Approve." in page
    confirm = client.post(f"{url}act/close_round/", {"decision": "", "note": ""})
    text = confirm.content.decode()
    assert "This cannot be undone." in text
    assert "Closing now decides: Approve." in text
    with translation.override("nl"):
        client.cookies["django_language"] = "nl"
        dutch = client.post(f"{url}act/close_round/", {"decision": "", "note": ""}).content
        assert "Nu sluiten besluit: Goedkeuren." in dutch.decode()


@pytest.mark.django_db
def test_the_timeline_collapses_autosaves_and_speaks_in_words(review, client):
    requester = review["requester"]
    request = services.request_create(actor=requester, title="Timeline words")
    for text in ("a", "ab", "abc", "abcd"):
        services.request_update(
            actor=requester, request_id=request.pk, changes={"lay_summary": text}
        )
    services.team_member_invite(
        actor=requester, request_id=request.pk, email="colleague@example.org"
    )
    services.request_update(actor=requester, request_id=request.pk, changes={"lay_summary": "x"})
    client.force_login(requester)
    page = client.get(request.get_absolute_url()).content.decode()
    timeline = page[page.index('id="timeline-h"') : page.index("</ol>", page.index("timeline-h"))]
    assert timeline.count("Answers saved") == 2  # 4 saves, the invitation, 1 save
    assert "(4 saves)" in timeline
    assert "Team member invited" in timeline
    assert "Request created" in timeline
    for raw in ("team_invite", "· edit ·", "· create ·"):
        assert raw not in timeline, raw


@pytest.mark.django_db
def test_flash_messages_say_what_happened(review, client):
    request = fill_draft(review["requester"], [DIABETES])
    client.force_login(review["requester"])
    response = client.post(f"{request.get_absolute_url()}act/submit/", follow=True)
    page = response.content.decode()
    assert "Request submitted." in page
    assert "Done:" not in page


@pytest.mark.django_db
def test_the_wizard_does_not_mark_an_untouched_section_complete(review, client):
    request = services.request_create(actor=review["requester"], title="Untouched")
    client.force_login(review["requester"])
    page = client.get(f"/requests/{request.reference}/edit/project/").content.decode()
    assert "(complete)" not in page
    services.request_update(
        actor=review["requester"],
        request_id=request.pk,
        changes={"pi_name": "Rana Requester", "pi_email": "requester@demo.lifes.test"},
    )
    page = client.get(f"/requests/{request.reference}/edit/project/").content.decode()
    assert page.count("(complete)") == 1  # the people, now answered


@pytest.mark.django_db
def test_research_types_keep_their_documented_order():
    codes = [code for code, _label in vocabulary_choices("duo_research_types")]
    assert codes == list(RESEARCH_TYPES_IN_ORDER)


@pytest.mark.django_db
def test_check_and_submit_summarises_every_answer_with_links_back(review, client):
    request = fill_draft(review["requester"], [DIABETES])
    client.force_login(review["requester"])
    page = client.get(f"/requests/{request.reference}/edit/review/").content.decode()
    assert "Your answers" in page
    assert "We study how blood sugar control relates to weight" in page
    assert "METC-2026-042" in page
    for section in ("project", "people", "data", "settings", "outputs"):
        assert f'href="/requests/{request.reference}/edit/{section}/"' in page, section
    assert "ethics-approval.pdf" in page
    assert 'action="/requests/' in page
    assert "/act/submit/" in page


@pytest.mark.django_db
def test_request_access_from_the_dataset_page_preselects_the_dataset(review, client):
    client.force_login(review["requester"])
    page = client.get(f"/catalogue/{DIABETES}/").content.decode()
    assert f'href="/requests/new/?dataset={DIABETES}"' in page
    assert "duo-badge" in page
    assert "Open to Leiden University" in page
    form = client.get(f"/requests/new/?dataset={DIABETES}").content.decode()
    assert "You are asking for access to" in form
    response = client.post(
        f"/requests/new/?dataset={DIABETES}", {"title": "From the dataset", "dataset": DIABETES}
    )
    assert response.status_code == 302
    from requests_app.models import AccessRequest

    created = AccessRequest.objects.get(title="From the dataset")
    assert [d.slug for d in created.datasets.all()] == [DIABETES]
    # chosen for them, not yet checked by them: no section is ticked complete
    wizard = client.get(f"/requests/{created.reference}/edit/project/").content.decode()
    assert "(complete)" not in wizard
    assert AuditEvent.objects.filter(action="request.create", payload__datasets=[DIABETES]).exists()
    # a slug that is no published dataset is refused, nothing is created
    response = client.post("/requests/new/", {"title": "Bad", "dataset": "no-such-data"})
    assert response.status_code == 200
    assert "No such dataset in the catalogue." in response.content.decode()
    assert not AccessRequest.objects.filter(title="Bad").exists()


@pytest.mark.django_db
def test_anonymous_visitors_are_asked_to_sign_in_before_requesting(review, client):
    page = client.get(f"/catalogue/{DIABETES}/").content.decode()
    assert f'href="/requests/new/?dataset={DIABETES}"' in page
    response = client.get(f"/requests/new/?dataset={DIABETES}")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_mondo_search_finds_diseases_by_name_for_anyone(client):
    response = client.get("/api/v1/consent/mondo", {"q": "type 2 diabetes"})
    assert response.status_code == 200
    found = response.json()
    assert {"id": "MONDO:0005148", "label": "type 2 diabetes mellitus"} in found
    assert len(found) <= 20
    assert client.get("/api/v1/consent/mondo", {"q": "MONDO:0005148"}).json() == [
        {"id": "MONDO:0005148", "label": "type 2 diabetes mellitus"}
    ]
    assert client.get("/api/v1/consent/mondo", {"q": "d"}).json() == []
    too_long = client.get("/api/v1/consent/mondo", {"q": "x" * 101})
    assert too_long.status_code == 400
    assert too_long.json()["code"]


@pytest.mark.django_db
def test_requesters_view_replace_and_remove_their_files_while_editable(review, client):
    requester = review["requester"]
    request = fill_draft(requester, [DIABETES])
    (letter,) = request.attachments.filter(is_current=True)
    client.force_login(requester)
    page = client.get(f"/requests/{request.reference}/edit/settings/").content.decode()
    assert f"/requests/{request.reference}/attachments/{letter.pk}/" in page
    assert f"/attachments/{letter.pk}/remove/" in page
    response = client.post(
        f"/requests/{request.reference}/attachments/",
        {
            "kind": "ethics_letter",
            "replaces": letter.pk,
            "file": pdf_upload("new-letter.pdf"),
            "section": "settings",
        },
        follow=True,
    )
    assert "The file was replaced." in response.content.decode()
    current = list(request.attachments.filter(is_current=True))
    assert [a.original_name for a in current] == ["new-letter.pdf"]
    # someone else cannot remove it: the request is not theirs (404), nothing changes
    client.force_login(review["member1"])
    response = client.post(f"/requests/{request.reference}/attachments/{current[0].pk}/remove/")
    assert response.status_code == 404
    assert request.attachments.filter(is_current=True).count() == 1
    client.force_login(requester)
    client.post(f"/requests/{request.reference}/attachments/{current[0].pk}/remove/")
    assert not request.attachments.filter(is_current=True).exists()
    assert Attachment.objects.filter(request=request).count() == 2  # kept for the record
    assert AuditEvent.objects.filter(action="request.attachment_remove").count() == 1


@pytest.mark.django_db
def test_files_cannot_be_removed_once_submitted(review, client, django_capture_on_commit_callbacks):
    request = _submitted(review["requester"], django_capture_on_commit_callbacks)
    (letter,) = request.attachments.filter(is_current=True)
    client.force_login(review["requester"])
    before = AuditEvent.objects.count()
    response = client.post(
        f"/requests/{request.reference}/attachments/{letter.pk}/remove/", follow=True
    )
    assert response.status_code == 200
    letter.refresh_from_db()
    assert letter.is_current
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_the_api_gives_the_requester_the_boards_reasons_without_voters(
    changes_asked, review, api_client
):
    api_client.force_authenticate(review["requester"])
    body = api_client.get(f"/api/v1/requests/{changes_asked.reference}").json()
    texts = [r["text"] for r in body["board_reasons"]]
    assert texts == [
        "See the members' comments.",
        "REASON-ONE: say how small cells are suppressed.",
        "REASON-TWO: the period outlasts the ethics approval.",
    ]
    assert {r["author"] for r in body["board_reasons"]} == {None}
    assert "INTERNAL-ONLY" not in str(body)
    api_client.force_authenticate(review["member2"])
    body = api_client.get(f"/api/v1/requests/{changes_asked.reference}").json()
    assert body["board_reasons"][1]["author"] == review["member1"].email


@pytest.mark.django_db
def test_submitted_answers_name_datasets_and_files_in_words(changes_asked, review, client):
    client.force_login(review["member1"])
    page = client.get(changes_asked.get_absolute_url()).content.decode()
    answers = page[page.index('id="answers-h"') : page.index('id="files-h"')]
    assert "Leiden Diabetes Cohort" in answers
    assert DIABETES not in answers  # the slug is the machine's name
    assert "(sha256 " not in answers  # no file hash (the algorithm's digest stays)
    assert "ethics_letter" not in answers
    assert "Ethics approval letter: ethics-approval.pdf" in answers
