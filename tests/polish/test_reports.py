"""#18 point 4: the certificate prints its conditions in words and claims no signed tree head
it did not compare; a data holder's period report counts the requests for its data; the
dossier carries the comments its reader may see, and no others."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from audit.services.verify import LogReport
from reports.builders import period
from reports.models import Report
from requests_app.models import Comment
from tests.reports.conftest import build, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(world):
    from tests.factories import permitted_request

    permitted_request(world)
    return world


@pytest.fixture
def permitted(demo):
    from requests_app.models import AccessRequest

    request = AccessRequest.objects.get(title="HbA1c and BMI in type 2 diabetes")
    return request, request.permits.order_by("-issued_at").first()


def _pdf(report) -> bytes:
    report.file.open("rb")
    return report.file.read()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_certificate_states_conditions_in_words_not_python(permitted, demo):
    _request, permit = permitted
    assert permit.conditions["datasets"], "the demo permit carries conditions"

    text = _flat(
        pdf_text(_pdf(build(demo["requester"], kind="certificate", subject=permit.number)))
    )

    assert "{'" not in text
    assert "[{" not in text
    assert "datasets:" not in text
    assert "Leiden Diabetes Cohort" in text or permit.permit_datasets.get().dataset.title in text
    for code in permit.conditions["duties"]:
        assert code not in text.split("Conditions", 1)[1].split("Token fingerprint", 1)[0]


def test_the_certificate_in_dutch_says_the_conditions_in_dutch(permitted, demo):
    _request, permit = permitted
    demo["requester"].language = "nl"
    with override("nl"):
        report = build(demo["requester"], kind="certificate", subject=permit.number)
    text = _flat(pdf_text(_pdf(report)))
    assert "{'" not in text
    assert "Geldig" in text, text[:600]


@pytest.mark.parametrize(
    ("heads", "said", "not_said"),
    [
        (0, "No signed tree head was there to compare yet", "signed tree head matched"),
        (1, "the 1 signed tree head matched", "No signed tree head"),
        (3, "all 3 signed tree heads matched", "No signed tree head"),
    ],
)
def test_the_chain_note_claims_only_the_heads_it_compared(heads, said, not_said):
    chain = LogReport(is_intact=True, count=5, head_seq=5, head_hash="ab" * 32, heads=heads)
    html = _flat(
        render_to_string(
            "reports/pdf/_chain.html",
            {"chain": chain, "tree_head": None, "generated_at": timezone.now(), "report": None},
        )
    )
    assert said in html
    assert not_said not in html


def test_a_data_holders_period_report_counts_the_requests_for_its_data(permitted, demo):
    request, _permit = permitted
    holder = demo["owner"].memberships.get().organisation
    assert request.organisation != holder  # the requester is from another organisation
    today = timezone.localdate()
    report = Report(
        kind="period",
        organisation=holder,
        period_start=today - dt.timedelta(days=30),
        period_end=today,
        requested_by=demo["auditor"],
    )

    context = period(report, head_seq=10**9, progress=lambda *_: None)

    assert context["total"] == 1
    assert context["issued"] == 1


def test_a_stranger_organisations_period_report_stays_empty(permitted, demo):
    from accounts.services import organisation_create

    other = organisation_create(actor=None, name="Elsewhere B.V.", country="NL", kind="company")
    today = timezone.localdate()
    report = Report(
        kind="period",
        organisation=other,
        period_start=today - dt.timedelta(days=30),
        period_end=today,
        requested_by=demo["auditor"],
    )

    context = period(report, head_seq=10**9, progress=lambda *_: None)

    assert context["total"] == 0
    assert context["issued"] == 0


def test_the_dossier_carries_the_comments_its_reader_may_see(permitted, demo):
    request, _permit = permitted
    now = timezone.now()
    Comment.objects.create(
        request=request,
        author=demo["member1"],
        body="Please add the cohort size.",
        round=request.round,
        is_internal=False,
        created_at=now,
    )
    Comment.objects.create(
        request=request,
        author=demo["member1"],
        body="Between us: looks fine.",
        round=request.round,
        is_internal=True,
        created_at=now,
    )

    requester_text = _flat(
        pdf_text(_pdf(build(demo["requester"], kind="dossier", subject=request.reference)))
    )
    member_text = _flat(
        pdf_text(_pdf(build(demo["member1"], kind="dossier", subject=request.reference)))
    )

    assert "Please add the cohort size." in requester_text
    assert "Between us" not in requester_text
    assert "Please add the cohort size." in member_text
    assert "Between us: looks fine." in member_text


def _period_form(organisation) -> dict:
    today = timezone.localdate()
    return {
        "kind": "period",
        "organisation": organisation.pk if organisation is not None else "",
        "period_start": (today - dt.timedelta(days=30)).isoformat(),
        "period_end": today.isoformat(),
    }


def test_a_steward_may_have_their_organisations_period_report_only(permitted, demo, client):
    from accounts.services import organisation_create
    from audit.models import AuditEvent

    owner = demo["owner"]
    holder = owner.memberships.get(role="steward").organisation
    other = organisation_create(actor=None, name="Elsewhere B.V.", country="NL", kind="company")
    client.force_login(owner)
    page = client.get("/reports/").content.decode()
    assert f">{holder.name}</option>" in page
    assert "Elsewhere B.V." not in page  # offered their own organisation only
    before = (Report.objects.count(), AuditEvent.objects.count())

    # another organisation's, or the whole hub's: not found, and nothing asked
    for organisation in (other, None):
        response = client.post("/reports/", _period_form(organisation))
        assert response.status_code in (400, 404), response.status_code
        assert (Report.objects.count(), AuditEvent.objects.count()) == before
    # their own: asked, for them and that organisation
    response = client.post("/reports/", _period_form(holder))
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.requested_by, report.organisation) == (owner, holder)


def test_a_member_who_is_no_steward_gets_no_period_report_by_page_or_api(
    permitted, demo, client, token_client
):
    from audit.models import AuditEvent

    requester = demo["requester"]
    organisation = requester.memberships.get().organisation
    api = token_client(requester)
    before = (Report.objects.count(), AuditEvent.objects.count())
    client.force_login(requester)
    assert client.post("/reports/", _period_form(organisation)).status_code == 404
    response = api.post("/api/v1/reports", _period_form(organisation), format="json")
    assert response.status_code == 404
    assert (Report.objects.count(), AuditEvent.objects.count()) == before


def test_a_stewards_period_report_counts_only_the_requests_they_may_see(permitted, demo):
    from tests.requests.conftest import fill_draft

    request, _permit = permitted
    owner = demo["owner"]
    holder = owner.memberships.get(role="steward").organisation
    # a draft for the holder's data, not submitted: the steward may not see it
    draft = fill_draft(demo["requester"], [request.requested_datasets.get().dataset.slug])
    assert draft.state == "draft"
    today = timezone.localdate()

    def figures(asker):
        report = Report(
            kind="period",
            organisation=holder,
            period_start=today - dt.timedelta(days=30),
            period_end=today,
            requested_by=asker,
        )
        return period(report, head_seq=10**9, progress=lambda *_: None)

    as_steward, as_auditor = figures(owner), figures(demo["auditor"])
    assert as_steward["total"] == 1  # the permitted request, not the draft
    assert as_auditor["total"] == 2
    assert as_steward["issued"] == as_auditor["issued"] == 1
