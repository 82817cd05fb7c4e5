"""Generated from the transition table: every role tries every action in every situation.

Allowed attempts succeed and land where the table says; all others are refused and change
nothing: no row, no audit event, no email queued. The actors include the separation-of-duties
cases: an *insider* who is on the request's team and also chairs the reviewing board and
stewards the dataset (self-review, self-close, self-grant, self-issue), and board members
before and after their conflict declaration (vote-before-declaration).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core import mail
from django.db import transaction
from django.urls import clear_url_caches

from accounts.services import user_create
from audit.models import AuditEvent
from catalogue.models import Dataset
from catalogue.services import dataset_stewards_set
from lifes.errors import DomainError
from requests_app import services, workflow
from requests_app.models import AccessRequest, RequestState
from requests_app.permissions import roles_of, situation_of
from requests_app.selectors import waiting_for
from requests_app.services.common import apply, lock_and_authorize
from requests_app.views import done_message
from requests_app.workflow import SITUATIONS, TRANSITIONS, Role, resolve
from tests.requests.conftest import fill_draft


class Rollback(Exception):
    pass


# Each actor and the roles the table should see in them, by situation.
def expected_roles(actor: str, situation: str) -> set[Role]:
    reviewing = situation == "in_review:boards"
    return {
        # Accepting the terms (before the permit, in ``build``) names the requester on the team.
        "requester": {Role.REQUESTER}
        | ({Role.TEAM} if situation in ("permitted", "closed") else set()),
        "team_member": {Role.TEAM},
        "board_member": {Role.MEMBER} if reviewing else set(),
        "cleared_member": {Role.MEMBER, Role.CLEARED} if reviewing else set(),
        "board_chair": {Role.MEMBER, Role.CHAIR} if reviewing else set(),
        "insider": {Role.TEAM, Role.OWNER}
        | ({Role.MEMBER, Role.CHAIR, Role.RECUSED} if reviewing else set()),
        "data_owner": {Role.OWNER},
        "auditor": {Role.AUDITOR},
        "staff": {Role.STAFF},
        "outsider": set(),
        "system": {Role.SYSTEM},
    }[actor]


ACTORS = (
    "requester",
    "team_member",
    "board_member",
    "cleared_member",
    "board_chair",
    "insider",
    "data_owner",
    "auditor",
    "staff",
    "outsider",
    "system",
)


# Test input for the actions that take some (the rest take none). The commands themselves
# are the table's services: a new row is tried here with no change to this file.
# Far enough ahead that every completion window has passed (the lapse refuses before).
AFTER_THE_WINDOW = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
INPUTS: dict[str, dict[str, Any]] = {
    "edit": {"changes": {"lay_summary": "Edited."}},
    "comment": {"body": "A question."},
    "declare_conflict": {"has_conflict": False},
    "vote": {"choice": "approve"},
    "decide_dataset": {"dataset_slug": "leiden-diabetes-cohort", "decision": "granted"},
    "return_incomplete": {"missing_items": ["The DPIA."]},
    "lapse": {"now": AFTER_THE_WINDOW},
    "extend_clock": {"reason": "Complex linkage."},
    "amend": {
        "kind": "renewal",
        "changes": "Six more months.",
        "reason": "The follow-up takes longer.",
        "new_period_end": dt.date(2099, 12, 31),
    },
    "appeal": {"reasons": "The refusal misread the protocol."},
    "decide_appeal": {"outcome": "dismissed", "reasons": "The refusal stands."},
}


def commands() -> dict[str, Callable[..., Any]]:
    def command(transition):
        return lambda a, r: resolve(transition.service)(
            actor=a, request_id=r, **INPUTS.get(transition.action, {})
        )

    return {t.action: command(t) for t in workflow.TRANSITIONS}


@pytest.fixture
def people(review):
    return matrix_people(review)


def matrix_people(review: dict) -> dict[str, Any]:
    """The matrix's actors (``ACTORS``), from the ``review`` world."""
    make = lambda email, **flags: user_create(  # noqa: E731
        actor=None, email=email, password="a-long-test-password", **flags
    )
    voter_a, voter_b = make("voter.a@demo.lifes.test"), make("voter.b@demo.lifes.test")
    for voter in (voter_a, voter_b):
        services.board_member_add(actor=review["admin"], board=review["ethics"], user=voter)
    team = make("team@demo.lifes.test")
    insider = make("insider@demo.lifes.test")
    services.board_member_add(
        actor=review["admin"], board=review["ethics"], user=insider, role="chair"
    )
    dataset_stewards_set(
        actor=review["admin"], dataset=review["diabetes"], stewards=[review["owner"], insider]
    )
    return {
        "requester": review["requester"],
        "team_member": team,
        "board_member": review["member1"],
        "cleared_member": review["member2"],
        "board_chair": review["chair"],
        "insider": insider,
        "data_owner": review["owner"],
        "auditor": review["auditor"],
        "staff": make("staff@demo.lifes.test", is_staff=True),
        "outsider": review["industry"],
        "system": None,
        "voters": (voter_a, voter_b),
    }


def build(situation: str, people: dict[str, Any]) -> AccessRequest:
    requester, chair = people["requester"], people["board_chair"]
    request = fill_draft(requester, ["leiden-diabetes-cohort"])
    for member in ("team_member", "insider"):
        services.team_member_invite(
            actor=requester, request_id=request.pk, email=people[member].email
        )
    if situation == "draft":
        return request
    if situation == "withdrawn":
        services.request_withdraw(actor=requester, request_id=request.pk)
        return request
    services.request_submit(actor=requester, request_id=request.pk)
    services.checks_run(request_id=request.pk)  # checked: waiting for the completeness check
    if situation == "submitted":
        return request
    if situation in ("incomplete", "lapsed"):
        services.completeness_return(
            actor=people["staff"], request_id=request.pk, missing_items=["The DPIA."]
        )
        if situation == "lapsed":
            services.request_lapse(actor=None, request_id=request.pk, now=AFTER_THE_WINDOW)
        return request
    services.completeness_accept(actor=people["staff"], request_id=request.pk)
    choice = {
        "changes_requested": "request_changes",
        "rejected": "reject",
        "appealed": "reject",
    }.get(situation, "approve")
    for voter in people["voters"]:
        services.conflict_declare(actor=voter, request_id=request.pk, has_conflict=False)
        services.vote_cast(actor=voter, request_id=request.pk, choice=choice, comment="Because.")
    if situation == "in_review:boards":
        services.conflict_declare(
            actor=people["cleared_member"], request_id=request.pk, has_conflict=False
        )
        return request
    services.round_close(actor=chair, request_id=request.pk)
    if situation in ("in_review:owners", "changes_requested", "rejected"):
        return request
    if situation == "appealed":
        services.appeal_lodge(actor=requester, request_id=request.pk, reasons="Please look again.")
        return request
    services.dataset_decide(
        actor=people["data_owner"],
        request_id=request.pk,
        dataset_slug="leiden-diabetes-cohort",
        decision="granted",
    )
    if situation == "approved":
        return request
    from permits.services import permit_issue

    # Every named team member accepts the datasets' terms, so the permit is active at issue
    # (EHDS Art. 68; without it the permit waits, which has its own tests).
    for person in (requester, people["team_member"], people["insider"]):
        services.terms_accept(actor=person, request_id=request.pk)
    permit_issue(actor=None, request_id=request.pk)
    if situation == "permitted":
        return request
    services.request_close(actor=requester, request_id=request.pk)
    assert situation == "closed"
    return request


def footprint(request_id: int) -> tuple:
    request = AccessRequest.objects.get(pk=request_id)
    return (
        request.state,
        request.round,
        request.lay_summary,
        request.submissions.count(),
        request.stages.count(),
        tuple(request.stages.values_list("state", flat=True).order_by("pk")),
        request.comments.count(),
        request.team.filter(accepted_terms_at__isnull=False).count(),
        request.checks.count(),
        tuple(request.requested_datasets.values_list("decision", flat=True)),
        sum(s.votes.count() + s.declarations.count() for s in request.stages.all()),
        AuditEvent.objects.count(),
    )


# Accepting terms one has already accepted writes nothing (it is idempotent): ``build`` had
# the whole team accept before the permit was issued, so here no event is the right outcome.
ALREADY_DONE = {("permitted", "accept_terms"), ("closed", "accept_terms")}


@pytest.mark.django_db
@pytest.mark.parametrize("situation", SITUATIONS)
def test_every_role_tries_every_action(situation, people, django_capture_on_commit_callbacks):
    request = build(situation, people)
    request.refresh_from_db()  # the services changed the row, not this instance
    assert situation_of(request) == situation
    run = commands()
    assert set(run) == {t.action for t in TRANSITIONS}, "every action needs a command here"
    problems: list[str] = []
    for actor_name in ACTORS:
        if actor_name != "system":
            assert roles_of(people[actor_name], request) == expected_roles(actor_name, situation)
    # Every attempt is rolled back, so each starts from this footprint (checked again at the
    # end): taken once, not before each of the ~300 attempts, where it was half the test's time.
    before = footprint(request.pk)
    for transition in TRANSITIONS:
        for actor_name in ACTORS:
            actor = people[actor_name]
            roles = expected_roles(actor_name, situation)
            # The table, read independently: a role allows it, and no role held bars it.
            allowed = (
                situation in transition.sources
                and bool(roles & transition.roles)
                and not roles & set(transition.barred)
            )
            outcome = ""
            try:
                with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
                    try:
                        run[transition.action](actor, request.pk)
                    except DomainError as exc:
                        outcome = f"refused ({exc.code}: {exc.message})"
                        after = footprint(request.pk)
                    else:
                        outcome = "done"
                        after = footprint(request.pk)
                    raise Rollback
            except Rollback:
                pass
            where = f"{situation} × {transition.action} × {actor_name}"
            if allowed:
                if outcome != "done":
                    problems.append(f"{where}: allowed by the table but {outcome}")
                    continue
                if transition.targets and after[0] not in transition.targets:
                    problems.append(f"{where}: ended in {after[0]}, not {transition.targets}")
                if after[-1] <= before[-1] and (situation, transition.action) not in ALREADY_DONE:
                    problems.append(f"{where}: no audit event")
            else:
                if outcome == "done":
                    problems.append(f"{where}: refused by the table but it succeeded")
                elif after != before:
                    problems.append(f"{where}: refused but changed {before} → {after}")
                elif callbacks:
                    problems.append(f"{where}: refused but queued {len(callbacks)} side effects")
    assert problems == [], "\n".join(problems)
    assert footprint(request.pk) == before, "an attempt's change outlived its rollback"
    assert Dataset.objects.filter(slug="leiden-diabetes-cohort").exists()


# Separation of duties, named: who tries what, where, and the refusal they get.
DUTY_CASES = (
    ("in_review:boards", "insider", "declare_conflict", "own_request"),  # self-review
    ("in_review:boards", "insider", "vote", "own_request"),  # self-review
    ("in_review:boards", "requester", "vote", "own_request"),
    ("in_review:boards", "insider", "close_round", "own_request"),  # self-close
    ("in_review:owners", "insider", "decide_dataset", "own_request"),  # self-grant
    ("approved", "insider", "issue_permit", "own_request"),  # self-grant
    ("in_review:boards", "board_member", "vote", "declaration_required"),
    ("in_review:boards", "board_chair", "vote", "declaration_required"),
    ("in_review:boards", "cleared_member", "declare_conflict", "already_declared"),
)


@pytest.mark.django_db
@pytest.mark.parametrize(("situation", "actor_name", "action", "code"), DUTY_CASES)
def test_separation_of_duties_refusals_change_nothing(
    situation, actor_name, action, code, people, django_capture_on_commit_callbacks
):
    request = build(situation, people)
    before = footprint(request.pk)
    emails = len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(DomainError) as refused:
            commands()[action](people[actor_name], request.pk)

    assert refused.value.code == code
    assert footprint(request.pk) == before  # no row, no audit event
    assert callbacks == []
    assert len(mail.outbox) == emails


@pytest.mark.django_db
def test_vote_before_declaration_is_refused_on_the_api_as_on_the_page(people, client):
    request = build("in_review:boards", people)
    before = footprint(request.pk)
    client.force_login(people["board_member"])

    api = client.post(
        f"/api/v1/requests/{request.reference}/votes",
        {"choice": "approve"},
        content_type="application/json",
    )
    page = client.post(
        f"/requests/{request.reference}/act/vote/", {"choice": "approve", "confirmed": "yes"}
    )

    assert (api.status_code, api.json()["code"]) == (403, "declaration_required")
    assert page.status_code == 302
    assert footprint(request.pk) == before
    detail = client.get(f"/requests/{request.reference}/").content.decode()
    assert "Declare your conflicts of interest before you vote." in detail
    assert "Cast your vote" not in detail


# The same inputs as a page posts them (a form's own spelling) and as the API takes them.
PAGE_INPUTS: dict[str, dict[str, str]] = {
    "comment": {"body": "A question."},
    "declare_conflict": {"has_conflict": "no"},
    "vote": {"choice": "approve"},
    "decide_dataset": {"dataset_slug": "leiden-diabetes-cohort", "decision": "granted"},
    "return_incomplete": {"missing_items": "The DPIA."},
    "extend_clock": {"reason": "Complex linkage."},
    "amend": {
        "kind": "renewal",
        "changes": "Six more months.",
        "reason": "The follow-up takes longer.",
        "new_period_end": "2099-12-31",
    },
    "appeal": {"reasons": "The refusal misread the protocol."},
    "decide_appeal": {"outcome": "dismissed", "reasons": "The refusal stands."},
}
# Rows without an API command or page form, and where people take them instead.
ELSEWHERE = {
    "edit": "PATCH /api/v1/requests/{reference} and the wizard's pages (test_journey_http)",
    "route": "the system only, after the automated checks (no person takes it)",
    "lapse": "the system only, when the completion window passed (beat: tests/requests/test_ehds)",
    "issue_permit": "POST /api/v1/permits/issue and /permits/issue/{reference}/ (tests/permits)",
}


def first_chance(transition) -> tuple[str, str]:
    """The first situation and actor (not the system) the table allows ``transition`` for."""
    for situation in SITUATIONS:
        if situation not in transition.sources:
            continue
        for actor_name in ACTORS[:-1]:
            roles = expected_roles(actor_name, situation)
            if roles & transition.roles and not roles & set(transition.barred):
                return situation, actor_name
    raise AssertionError(f"nobody may take {transition.action}")


def _audited(transition, since: int) -> bool:
    return AuditEvent.objects.filter(seq__gt=since, action=transition.audit_action).exists()


def _landed(transition, request_id: int, before: str) -> bool:
    state = AccessRequest.objects.get(pk=request_id).state
    return state in transition.targets if transition.targets else state == before


def test_every_row_is_reachable_through_the_api_and_a_page_or_says_where():
    for transition in workflow.TRANSITIONS:
        has_both = transition.api is not None and transition.html and transition.service
        assert has_both or transition.action in ELSEWHERE, transition.action


@pytest.mark.django_db
@pytest.mark.parametrize("action", [t.action for t in TRANSITIONS if t.api is not None and t.html])
@pytest.mark.parametrize("channel", ["api", "page"])
def test_every_command_works_through_the_api_and_the_page(action, channel, people, client):
    transition = workflow.find(action)
    situation, actor_name = first_chance(transition)
    request = build(situation, people)
    before_state = AccessRequest.objects.get(pk=request.pk).state
    since = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    client.force_login(people[actor_name])

    if channel == "api":
        response = client.post(
            f"/api/v1/requests/{request.reference}/{transition.api}",
            INPUTS.get(action, {}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["state"] == AccessRequest.objects.get(pk=request.pk).state
    else:
        response = client.post(
            f"/requests/{request.reference}/act/{action}/",
            {**PAGE_INPUTS.get(action, {}), "confirmed": "yes"},
        )
        assert response.status_code == 302
        shown = [str(m) for m in get_messages(response.wsgi_request)]
        # what happened, in words (#18 point 13), not "Done: <the row's label>."
        assert shown == [done_message(action, PAGE_INPUTS.get(action, {}))]
        assert not shown[0].startswith("Done:")

    assert _landed(transition, request.pk, before_state)
    assert _audited(transition, since)


# A throwaway row: one service, one row, nothing else (no view, URL, template or docs edit).
def ping(*, actor: Any, request_id: int, reason: str = "") -> AccessRequest:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="ping")
        return apply(locked, actor=actor, reason=reason)


PING = workflow.Transition(
    action="ping",
    sources=frozenset({RequestState.DRAFT}),
    targets=(),
    roles=frozenset({Role.REQUESTER}),
    label="Ping the data steward",
    service="tests.requests.test_transition_matrix.ping",
    api="ping",
    api_input="requests_app.api.ReasonSerializer",
    form="requests_app.forms.ReasonForm",
    waiting=(("*", workflow.Waiting("ping", "ping the data steward")),),
)


def _reload_urls() -> None:
    importlib.reload(importlib.import_module("requests_app.api_urls"))
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()


@pytest.fixture
def with_ping(monkeypatch):
    monkeypatch.setattr(workflow, "TRANSITIONS", (*workflow.TRANSITIONS, PING))
    _reload_urls()
    yield PING
    monkeypatch.undo()
    _reload_urls()


@pytest.mark.django_db
def test_a_new_row_appears_in_the_api_the_page_the_docs_and_the_dashboard(
    with_ping, people, client
):
    request = build("draft", people)
    client.force_login(people["requester"])

    detail = client.get(f"/requests/{request.reference}/").content.decode()
    assert 'data-action="ping"' in detail
    assert "Ping the data steward" in detail
    assert "ping the data steward" in client.get("/requests/").content.decode()
    assert [i.why for i in waiting_for(people["requester"])] == ["draft", "ping"]
    api = client.get(f"/api/v1/requests/{request.reference}").json()
    assert "ping" in api["your_actions"]
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/requests/{reference}/ping" in schema["paths"]
    assert "| `ping` | `draft` | (stays) | requester | — |" in workflow.markdown_table()
    assert "| `ping` | `tests.requests.test_transition_matrix.ping` | `ping` |" in (
        workflow.markdown_table()
    )

    since = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    by_api = client.post(
        f"/api/v1/requests/{request.reference}/ping",
        {"reason": "By API."},
        content_type="application/json",
    )
    by_page = client.post(f"/requests/{request.reference}/act/ping/", {"reason": "By page."})

    assert by_api.status_code == 200
    assert by_page.status_code == 302
    events = AuditEvent.objects.filter(seq__gt=since).order_by("seq")
    assert [(e.action, e.payload["reason"]) for e in events] == [
        ("request.ping", "By API."),
        ("request.ping", "By page."),
    ]
    # and the table still refuses it where the row does not allow it
    client.force_login(people["staff"])  # sees every request, may not ping
    refused = client.post(
        f"/api/v1/requests/{request.reference}/ping", {}, content_type="application/json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert AuditEvent.objects.filter(seq__gt=since).count() == 2


def test_without_the_throwaway_row_nothing_of_it_remains():
    assert "ping" not in {t.action for t in workflow.TRANSITIONS}
    assert "`ping`" not in workflow.markdown_table()
