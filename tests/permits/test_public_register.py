"""The public register (EHDS Art. 57/58) of permits and refusals, and results (Art. 61)."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import replace

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from lifes.errors import InvalidInput, NotAllowed
from permits.models import ResultPublication, ResultsReminder, SignificantFinding
from permits.register import working_days_before
from permits.services import finding_report, result_record
from permits.services.results import add_months
from permits.tasks import results_reminders_task
from requests_app import services as request_services
from requests_app.models import AccessRequest, RequestState, TeamMember

from .conftest import DATASET, approve

REFUSED_TITLE = "Ancestry of diabetes patients"
REFUSED_SUMMARY = "We wanted to trace the ancestry of people with diabetes."
VOTE_COMMENT = "A member's deliberation, never published."
BOARD_NOTE = "Ancestry research is outside what these participants consented to."


def personal_data() -> list[str]:
    """Every person's name and e-mail, the principal investigator and the team, and ORCID iDs:
    none of it may be published."""
    values = []
    for user in User.objects.all():
        values += [user.email, user.full_name]
    for request in AccessRequest.objects.all():
        values += [request.pi_name, request.pi_email, request.pi_orcid]
    values += list(TeamMember.objects.values_list("email", flat=True))
    return [v for v in values if v]


def board_refusal(people) -> AccessRequest:
    """A request the ethics committee rejects, with the chair's note as its reasons."""
    from demo.ehds_world import complete_after_checks
    from tests.requests.conftest import declare_none, fill_draft

    request = fill_draft(
        people["requester"],
        [DATASET],
        title=REFUSED_TITLE,
        answers={"lay_summary": REFUSED_SUMMARY, "pi_orcid": "0000-0002-1825-0097"},
    )
    request_services.team_member_invite(
        actor=people["requester"], request_id=request.pk, email="teammate@uni.example"
    )
    request_services.request_submit(actor=people["requester"], request_id=request.pk)
    complete_after_checks(request)  # the checks, then the access body finds it complete
    declare_none(request, people["member1"], people["member2"])
    for member in (people["member1"], people["member2"]):
        request_services.vote_cast(
            actor=member, request_id=request.pk, choice="reject", comment=VOTE_COMMENT
        )
    request_services.round_close(actor=people["chair"], request_id=request.pk, note=BOARD_NOTE)
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    return request


@pytest.fixture
def published(settings):
    settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS = 0
    return settings


@pytest.mark.django_db
def test_the_register_shows_a_refusal_with_its_justification_and_a_permit_with_its_project(
    permit, consented, client, published
):
    # given a permit and a refusal by the ethics committee
    refusal = board_refusal(consented)

    # when the public reads the register as HTML and JSON
    page = client.get("/register/")
    body = client.get("/api/v1/register/").json()
    refusal_page = client.get(f"/register/{refusal.reference}/")
    permit_page = client.get(f"/register/{permit.number}/")

    # then both are there, the refusal with the board's reasons, the permit with its project
    by_kind = {item["kind"]: item for item in body["results"]}
    assert by_kind["refusal"]["reference"] == refusal.reference
    assert by_kind["refusal"]["title"] == REFUSED_TITLE
    assert by_kind["refusal"]["lay_summary"] == REFUSED_SUMMARY
    assert by_kind["refusal"]["status"] == "refused"
    assert by_kind["refusal"]["justification"] == BOARD_NOTE
    assert by_kind["refusal"]["decided_at"]
    assert by_kind["permit"]["number"] == permit.number
    assert by_kind["permit"]["title"] == permit.request.title
    assert by_kind["permit"]["lay_summary"] == permit.request.lay_summary
    assert by_kind["permit"]["status"] == "active"
    assert by_kind["permit"]["purpose_in_words"] == [
        "disease specific research",
        "type 2 diabetes mellitus",
    ]
    for response in (page, refusal_page, permit_page):
        assert response.status_code == 200
    html = page.content.decode()
    assert REFUSED_TITLE in html
    assert permit.request.title in html
    assert BOARD_NOTE in refusal_page.content.decode()
    assert permit.request.lay_summary in permit_page.content.decode()
    assert "disease specific research" in permit_page.content.decode()
    # and no person: names, e-mails, ORCID iDs, the team
    outputs = [page, refusal_page, permit_page, client.get("/api/v1/register/")]
    secrets = personal_data()
    assert "0000-0002-1825-0097" in secrets
    for response in outputs:
        text = response.content.decode()
        for value in secrets:
            assert value not in text, value
        assert VOTE_COMMENT not in text


@pytest.mark.django_db
def test_an_owner_refusal_is_justified_by_the_owners_reasons(consented, client, published):
    refused = approve(consented, refuse=frozenset({DATASET}), title="A refused study")
    assert refused.state == RequestState.REJECTED

    item = client.get("/api/v1/register/", {"kind": "refusal"}).json()["results"][0]

    assert item["reference"] == refused.reference
    assert item["justification"] == "Leiden Diabetes Cohort: Not for this purpose."


@pytest.mark.django_db
def test_a_decision_younger_than_the_delay_is_not_published(permit, consented, client, settings):
    refusal = board_refusal(consented)
    settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS = 5

    assert client.get("/api/v1/register/").json()["results"] == []
    assert client.get(f"/register/{permit.number}/").status_code == 404
    assert client.get(f"/register/{refusal.reference}/").status_code == 404
    assert REFUSED_TITLE not in client.get("/register/").content.decode()

    # eight calendar days later (a weekend in between), both are five working days old
    AccessRequest.objects.filter(pk=refusal.pk).update(
        decided_at=refusal.decided_at - dt.timedelta(days=8)
    )
    permit.issued_at -= dt.timedelta(days=8)
    permit.save(update_fields=["issued_at"])
    keys = [
        i.get("number") or i.get("reference")
        for i in client.get("/api/v1/register/").json()["results"]
    ]
    assert keys == [refusal.reference, permit.number] or keys == [permit.number, refusal.reference]


def test_eighteen_months_after_the_end():
    assert add_months(dt.date(2027, 11, 30), 18) == dt.date(2029, 5, 30)
    assert add_months(dt.date(2027, 8, 31), 18) == dt.date(2029, 2, 28)
    assert add_months(dt.date(2029, 5, 30), -18) == dt.date(2027, 11, 30)


def test_working_days_skip_the_weekend():
    monday = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    assert working_days_before(monday, 1) == dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    assert working_days_before(monday, 5) == dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    assert working_days_before(monday, 0) == monday


@pytest.mark.django_db
def test_the_register_is_searchable_filterable_and_paged_by_cursor(
    permit, consented, client, published
):
    refusal = board_refusal(consented)
    api = "/api/v1/register/"

    assert [i["reference"] for i in client.get(api, {"q": "ancestry"}).json()["results"]] == [
        refusal.reference
    ]
    assert [i["number"] for i in client.get(api, {"q": "Leiden University"}).json()["results"]]
    assert client.get(api, {"q": "no such thing at all"}).json()["results"] == []
    assert [i["kind"] for i in client.get(api, {"kind": "permit"}).json()["results"]] == ["permit"]
    assert [i["kind"] for i in client.get(api, {"status": "refused"}).json()["results"]] == [
        "refusal"
    ]
    assert client.get(api, {"status": "revoked"}).json()["results"] == []
    assert client.get(api, {"kind": "nonsense"}).status_code == 400
    assert client.get(api, {"cursor": "not-a-cursor"}).status_code == 400

    # one entry per page: the cursor walks both kinds, newest first, without repeats
    first = client.get(api, {"page_size": 1}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 1
    assert len(second["results"]) == 1
    assert second["next"] is None
    keys = {first["results"][0]["kind"], second["results"][0]["kind"]}
    assert keys == {"permit", "refusal"}
    # the HTML pages the same way
    published.REGISTER_PAGE_SIZE = 1
    first_page = client.get("/register/").content.decode()
    next_link = re.search(r'href="\?([^"]*cursor=[^"]*)"', first_page)
    assert next_link is not None
    second_page = client.get("/register/?" + html.unescape(next_link.group(1))).content.decode()
    shown = {refusal.reference in first_page, refusal.reference in second_page}
    assert shown == {True, False}
    assert (permit.number in first_page) != (permit.number in second_page)
    assert client.get("/register/", {"cursor": "garbage"}).status_code == 404
    assert refusal.reference in client.get("/register/", {"q": "ancestry"}).content.decode()
    assert permit.number not in client.get("/register/", {"q": "ancestry"}).content.decode()


# --- results ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_holder_records_a_publication_and_the_register_shows_it(
    permit, consented, client, published
):
    result = result_record(
        actor=consented["requester"],
        number=permit.number,
        title="HbA1c and BMI in Leiden",
        doi="https://doi.org/10.5072/lifes.result.1",
        published_on=dt.date(2026, 11, 1),
    )

    assert result.doi == "10.5072/lifes.result.1"
    item = client.get("/api/v1/register/").json()["results"][0]
    assert item["results"] == [
        {
            "title": "HbA1c and BMI in Leiden",
            "doi": "10.5072/lifes.result.1",
            "url": "",
            "link": "https://doi.org/10.5072/lifes.result.1",
            "published_on": "2026-11-01",
        }
    ]
    assert "HbA1c and BMI in Leiden" in client.get(f"/register/{permit.number}/").content.decode()
    assert AuditEvent.objects.filter(action="permit.result_record").count() == 1


@pytest.mark.django_db
def test_only_the_holder_records_results_or_findings(permit, consented):
    for outsider in (consented["owner"], consented["member1"], consented["admin"]):
        with pytest.raises(NotAllowed):
            result_record(
                actor=outsider,
                number=permit.number,
                title="Not mine",
                doi="10.5072/x",
                published_on=dt.date(2026, 11, 1),
            )
        with pytest.raises(NotAllowed):
            finding_report(actor=outsider, number=permit.number, statement="Not mine.")
    assert not ResultPublication.objects.exists()
    assert not SignificantFinding.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="permit.result").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("doi", "url", "field"),
    [
        ("10.12/too-short-prefix", "", "doi"),
        ("not a doi", "", "doi"),
        ("", "ftp://example.org/paper", "url"),
        ("", "example.org/paper", "url"),
        ("", "", "doi"),
    ],
)
def test_a_publication_needs_a_valid_doi_or_url(permit, consented, doi, url, field):
    with pytest.raises(InvalidInput) as refused:
        result_record(
            actor=consented["requester"],
            number=permit.number,
            title="A paper",
            doi=doi,
            url=url,
            published_on=dt.date(2026, 11, 1),
        )
    assert field in refused.value.errors
    assert not ResultPublication.objects.exists()


@pytest.mark.django_db
def test_a_url_is_accepted_without_a_doi(permit, consented):
    result = result_record(
        actor=consented["requester"],
        number=permit.number,
        title="A preprint",
        url="https://example.org/preprint",
        published_on=dt.date(2026, 11, 1),
    )
    assert result.link == "https://example.org/preprint"


@pytest.mark.django_db
def test_a_significant_finding_reaches_staff_not_the_public(permit, consented, client, published):
    finding_report(
        actor=consented["requester"], number=permit.number, statement="FINDING-FOR-THE-HDAB"
    )

    client.force_login(consented["admin"])
    assert "FINDING-FOR-THE-HDAB" in client.get(f"/permits/{permit.number}/").content.decode()
    client.logout()
    assert "FINDING-FOR-THE-HDAB" not in client.get(f"/register/{permit.number}/").content.decode()
    assert "FINDING-FOR-THE-HDAB" not in client.get("/api/v1/register/").content.decode()


@pytest.mark.django_db
def test_results_reminders_come_before_the_due_date_and_once_overdue(
    permit, consented, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.RESULTS_DUE_MONTHS = 18
    settings.RESULTS_REMINDER_LEAD_DAYS = 60
    end = timezone.localdate(permit.valid_until)
    due = add_months(end, 18)

    def at(day: dt.date) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        monkeypatch.setattr(timezone, "now", lambda: moment)

    mail.outbox.clear()
    # a year after the end: nothing is due yet
    at(end + dt.timedelta(days=365))
    assert results_reminders_task() == 0
    # 30 days before the due date: one reminder, and only one however often beat runs
    at(due - dt.timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert results_reminders_task() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert results_reminders_task() == 0
    # the day after the due date: overdue, once
    at(due + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert results_reminders_task() == 1
        assert results_reminders_task() == 0

    kinds = list(ResultsReminder.objects.order_by("sent_at").values_list("kind", flat=True))
    assert kinds == ["due_soon", "overdue"]
    subjects = sorted({m.subject for m in mail.outbox if permit.number in m.subject})
    assert subjects == [
        f"Results of permit {permit.number} due soon",
        f"Results of permit {permit.number} overdue",
    ]
    assert consented["requester"].email in {m.to[0] for m in mail.outbox}


@pytest.mark.django_db
def test_a_recorded_result_stops_the_reminders(permit, consented, monkeypatch):
    result_record(
        actor=consented["requester"],
        number=permit.number,
        title="Done",
        doi="10.5072/done",
        published_on=timezone.localdate(),
    )
    later = permit.valid_until + dt.timedelta(days=800)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert results_reminders_task() == 0
    assert not ResultsReminder.objects.exists()


@pytest.mark.django_db
def test_the_lay_summary_is_required_even_when_a_template_drops_it(consented):
    from requests_app.application_form import form_for_request, is_required
    from tests.requests.conftest import fill_draft

    request = fill_draft(consented["requester"], [DATASET])
    form = form_for_request(request)
    relaxed = replace(form.by_key["lay_summary"], required=False)
    other = replace(form.by_key["scientific_abstract"], required=False)

    assert is_required(form, relaxed, {}, None) is True
    assert is_required(form, other, {}, None) is False


@pytest.mark.django_db
def test_results_through_the_api_holder_only(permit, consented, client):
    url = f"/api/v1/permits/{permit.number}/results"
    body = {"title": "A paper", "doi": "10.5072/api.1", "published_on": "2026-11-01"}

    client.force_login(consented["owner"])  # sees the permit, is not its holder
    refused = client.post(url, body, content_type="application/json")
    client.force_login(consented["requester"])
    recorded = client.post(url, body, content_type="application/json")
    invalid = client.post(url, {**body, "doi": "nope"}, content_type="application/json")
    finding = client.post(
        f"/api/v1/permits/{permit.number}/findings",
        {"statement": "An unexpected association."},
        content_type="application/json",
    )
    listed = client.get(url).json()

    assert refused.status_code == 403
    assert refused.json()["code"] == "not_holder"
    assert recorded.status_code == 201
    assert recorded.json()["link"] == "https://doi.org/10.5072/api.1"
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "invalid_result"
    assert finding.status_code == 201
    assert [r["doi"] for r in listed["results"]] == ["10.5072/api.1"]
    assert listed["is_overdue"] is False
    assert ResultPublication.objects.count() == 1


@pytest.mark.django_db
def test_staff_see_overdue_results(permit, consented, client, monkeypatch):
    later = permit.valid_until + dt.timedelta(days=600)
    monkeypatch.setattr(timezone, "now", lambda: later)

    client.force_login(consented["admin"])
    staff_page = client.get("/results/overdue/")
    permit_page = client.get(f"/permits/{permit.number}/")
    client.force_login(consented["requester"])
    not_staff = client.get("/results/overdue/")

    assert staff_page.status_code == 200
    assert permit.number in staff_page.content.decode()
    assert "Overdue" in permit_page.content.decode()
    assert not_staff.status_code == 404


@pytest.mark.django_db
def test_a_register_page_costs_a_fixed_number_of_queries(
    permit, consented, client, published, django_assert_max_num_queries
):
    board_refusal(consented)
    approve(consented, refuse=frozenset({DATASET}), title="A second refusal")
    result_record(
        actor=consented["requester"],
        number=permit.number,
        title="A paper",
        doi="10.5072/q",
        published_on=dt.date(2026, 11, 1),
    )

    # a page of each kind's keys, then each kind with its parts: never a query per entry
    with django_assert_max_num_queries(9):
        body = client.get("/api/v1/register/").json()
    assert len(body["results"]) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("en", "That page link is not valid; start from the first page."),
        ("nl", "Die paginalink is ongeldig; begin bij de eerste pagina."),
    ],
)
@pytest.mark.parametrize("cursor", ["not-a-cursor", "W10", "a+b/", "=" * 8, "ü"])
def test_a_bad_register_cursor_is_the_permits_apps_own_error_in_the_callers_language(
    client, language, detail, cursor
):
    """The permits app's domain errors take the one error path: status, code and a message in
    the language asked for (W10 is base64url of "[]": valid encoding, not a cursor)."""
    response = client.get(
        "/api/v1/register/", {"cursor": cursor}, headers={"accept-language": language}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert response.json()["detail"] == detail
