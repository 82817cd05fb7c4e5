"""Fees (EHDS Art. 62) and appeals against a refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from catalogue.models import Dataset
from lifes.errors import DomainError, InvalidTransition, NotAllowed, NotFound
from requests_app import services
from requests_app.fees import fee_quote
from requests_app.models import Appeal, FeeSchedule, RequestFee, RequestState
from requests_app.selectors import waiting_for
from tests.requests.conftest import fill_draft
from tests.requests.test_transition_matrix import build, people  # noqa: F401 - fixture

DIABETES = "leiden-diabetes-cohort"


@pytest.fixture
def schedule(review):
    lumc = Dataset.objects.get(slug=DIABETES).owner
    return FeeSchedule.objects.create(
        organisation=lumc,
        base_fee=Decimal("1000.00"),
        reduction_public_body=50,
        reduction_university=30,
        reduction_small_enterprise=20,
        note="Per application.",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "amount"),
    [
        ("public_body", "500.00"),
        ("academic", "700.00"),
        ("small_enterprise", "800.00"),
        ("company", "1000.00"),
        ("hospital", "1000.00"),
    ],
)
def test_the_fee_has_each_reduction_by_the_kind_of_organisation(
    schedule, review, kind, amount, settings
):
    organisation = review["requester"].memberships.get().organisation
    organisation.kind = kind

    quote = fee_quote(organisation=organisation, datasets=[Dataset.objects.get(slug=DIABETES)])

    assert quote.amount == Decimal(amount)
    assert quote.currency == settings.EHDS_FEE_CURRENCY == "EUR"
    assert [line.access_body for line in quote.lines] == [schedule.organisation.name]


@pytest.mark.django_db
def test_the_fee_is_shown_before_submission_and_recorded_at_it_unchanged_after(
    schedule, review, client
):
    requester = review["requester"]
    organisation = requester.memberships.get().organisation
    organisation.kind = "academic"
    organisation.save()
    request = fill_draft(requester, [DIABETES])
    client.force_login(requester)

    page = client.get(f"/requests/{request.reference}/edit/review/")
    assert "EUR 700.00" in page.content.decode()
    assert not RequestFee.objects.filter(request=request).exists()

    services.request_submit(actor=requester, request_id=request.pk)
    schedule.base_fee = Decimal("5000.00")  # a later change of the schedule
    schedule.save()

    fee = RequestFee.objects.get(request=request)
    assert (fee.amount, fee.currency) == (Decimal("700.00"), "EUR")
    assert fee.lines[0]["reduction_percent"] == 30
    api = client.get(f"/api/v1/requests/{request.reference}").json()
    assert api["fee"]["amount"] == "700.00"
    assert "EUR 700.00" in client.get(request.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_only_the_requester_appeals_and_only_staff_decide(people, client):  # noqa: F811
    request = build("rejected", people)
    events = AuditEvent.objects.count()

    for name in ("team_member", "board_chair", "data_owner", "staff", "outsider"):
        with pytest.raises((NotAllowed, NotFound)):
            services.appeal_lodge(actor=people[name], request_id=request.pk, reasons="Unfair.")
    assert AuditEvent.objects.count() == events
    assert not Appeal.objects.exists()

    client.force_login(people["requester"])
    answer = client.post(
        f"/api/v1/requests/{request.reference}/appeal",
        {"reasons": "The refusal misread the protocol."},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == RequestState.APPEALED
    with pytest.raises(DomainError):  # appealed already: the state is no longer rejected
        services.appeal_lodge(actor=people["requester"], request_id=request.pk, reasons="x")

    assert "decide_appeal" in [item.why for item in waiting_for(people["staff"])]
    assert "decide_appeal" not in [item.why for item in waiting_for(people["requester"])]
    for name in ("requester", "team_member", "board_chair", "insider", "outsider"):
        with pytest.raises((NotAllowed, NotFound)):
            services.appeal_decide(
                actor=people[name], request_id=request.pk, outcome="upheld", reasons="Yes."
            )
    client.force_login(people["staff"])
    answer = client.post(
        f"/api/v1/requests/{request.reference}/decide-appeal",
        {"outcome": "dismissed", "reasons": "The protocol was read correctly."},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    request.refresh_from_db()
    assert request.state == RequestState.REJECTED
    appeal = Appeal.objects.get(request=request)
    assert (appeal.outcome, appeal.decided_by) == ("dismissed", people["staff"])
    assert answer.json()["appeals"][0]["outcome_reasons"] == "The protocol was read correctly."
    actions = list(
        AuditEvent.objects.filter(action__in=["request.appeal", "request.decide_appeal"])
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["request.appeal", "request.decide_appeal"]
    # one appeal per refusal
    with pytest.raises(InvalidTransition) as again:
        services.appeal_lodge(actor=people["requester"], request_id=request.pk, reasons="Again.")
    assert again.value.code == "already_appealed"
    page = client.get(request.get_absolute_url()).content.decode()
    assert "The protocol was read correctly." in page


@pytest.mark.django_db
def test_an_upheld_appeal_sends_the_request_to_review_again(people):  # noqa: F811
    request = build("appealed", people)

    services.appeal_decide(
        actor=people["staff"], request_id=request.pk, outcome="upheld", reasons="Look again."
    )

    request.refresh_from_db()
    assert request.state == RequestState.SUBMITTED
    assert request.round == 2
    assert request.submissions.get(round=2).submitted_by == people["requester"]
