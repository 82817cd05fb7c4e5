"""Every list page and API list runs the same number of queries with 1× and 10× the data, so an
N+1 cannot come back unnoticed. The routes come from the URLconf: a new route must be named here
as a list (and is then measured) or as something else (with the reason), or this test fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.requests.test_transition_matrix import build, people  # noqa: F401 - the fixture


def NO_ARGS(world: dict) -> dict:  # noqa: N802 - reads like the constant it stands for
    return {}


# Every list: url name → (who asks, the URL's arguments from the world). ``None`` is anonymous,
# "node" the demo node's API token.
LISTS: dict[str, tuple[str | None, Callable[[dict], dict]]] = {
    "requests:dashboard": ("requester", NO_ARGS),
    "requests:board_queue": ("board_chair", lambda w: {"board_id": w["board"].pk}),
    "requests:bars": ("data_owner", NO_ARGS),
    "requests:detail": ("requester", lambda w: {"reference": w["fixed"].reference}),
    "audit:explorer": ("auditor", NO_ARGS),
    "reports:list": ("auditor", NO_ARGS),
    "reports:metrics": ("auditor", NO_ARGS),
    "permits:register": (None, NO_ARGS),
    "catalogue:dataset_list": (None, NO_ARGS),
    "consent:dataset_list": ("data_owner", NO_ARGS),
    "requests": ("requester", NO_ARGS),
    "waiting": ("board_chair", NO_ARGS),
    "board_queue": ("board_chair", lambda w: {"board_id": w["board"].pk}),
    "bars": ("data_owner", NO_ARGS),
    "permits_api:list": ("requester", NO_ARGS),
    "permits_api:receipts": ("requester", lambda w: {"number": w["permit"].number}),
    "permits_api:node_permits": ("node", NO_ARGS),
    "permits_api:register": (None, NO_ARGS),
    "audit-events": ("auditor", NO_ARGS),
    "api:datasets": (None, NO_ARGS),
    "api:algorithms": (None, NO_ARGS),
    "api:nodes": (None, NO_ARGS),
    "api:tokens": ("requester", NO_ARGS),
    "permits:results_overdue": ("staff", NO_ARGS),
    "permits:reports_overdue": ("staff", NO_ARGS),
    "permits_api:results": ("requester", lambda w: {"number": w["permit"].number}),
    "permits_api:run_outputs": ("requester", lambda w: {"number": w["permit"].number}),
}
# The same lists as other people see them (their lists differ in what they hold).
ALSO = [
    ("requests:dashboard", "board_chair"),
    ("requests:dashboard", "data_owner"),
    ("requests:dashboard", "auditor"),
    ("requests", "auditor"),
    ("permits_api:list", "auditor"),
    ("waiting", "requester"),
]
NOT_LISTS = {
    "one object or its page": [
        "api:me",
        "api:dataset",
        "catalogue:dataset_detail",
        "consent:dataset_overview",
        "consent:participant_detail",
        "consent_api:participant",
        "permits_api:detail",
        "permits_api:odrl",
        "permits:detail",
        "permits:register_entry",
        "request",
        "request_attachment",
        "request_diff",
        "requests:diff",
        "requests:edit",
        "requests:attachment_download",
        "reports:detail",
        "reports:status",
        "reports:download",
        "reports:permit_certificate",
        "reports_api:detail",
        "reports_api:download",
        "audit-tree-head",
        "audit-inclusion-proof",
        "audit-consistency",
        "permits_api:node_cohort",
        "consent_api:cohort",
        "permits_api:revocations",
        "permits_api:node_keys",
        "jwks",
        "visa_jwks",
        "permits_api:passport",
        "accounts:token_created",
        "api:dataset_dictionary",
        "api:dataset_terms",
        "permits:run_output",
        "permits_api:run_output_download",
        "reports:decision_letter",
        "reports:decision_letter_pdf",
        "requests:invitation",
    ],
    "bounded by design": [
        "consent_api:mondo_search",  # at most 20 terms of a fixed ontology file
    ],
    "exports that stream every row by design (CSV, the harvest feed)": [
        "audit:export_csv",
        "audit-events-csv",
        "request_export_csv",
        "requests:export_csv",
        "catalogue_feed",
    ],
    "commands and forms (POST), sign-in and static pages": [
        "home",
        "healthz",
        "set_language",
        "schema",
        "api-docs",
        "accounts:login",
        "accounts:logout",
        "accounts:profile",
        "accounts:two_factor_verify",
        "accounts:two_factor_setup",
        "accounts:two_factor_qr",
        "accounts:recovery_codes",
        "accounts:token_create",
        "accounts:token_revoke",
        "accounts:password_reset",
        "accounts:password_reset_done",
        "accounts:password_reset_confirm",
        "accounts:password_reset_complete",
        "api:token_revoke",
        "consent:import",
        "consent:conditions_edit",
        "consent:participant_find",
        "consent:participant_withdraw",
        "consent:participant_opt_out",
        "consent_api:match",
        "consent_api:dataset_match",
        "consent_api:conditions_set",
        "consent_api:import",
        "consent_api:participant_withdraw",
        "consent_api:participant_opt_out",
        "permits_api:issue",
        "permits_api:node_receipts",
        "permits_api:ga4gh_token",
        "permits:act",
        "permits:issue",
        "request_attachments",
        "bar_lift",
        "requests:new",
        "requests:bar_lift",
        "requests:team_invite",
        "requests:attachment_upload",
        "requests:act",
        "reports:create",
        "reports_api:create",
        "audit:verify_now",
        "permits:finding_add",
        "permits:result_add",
        "permits_api:file_report",
        "permits_api:findings",
        "permits_api:node_run_outputs",
        "requests:attachment_remove",
        "requests:minimisation",
    ],
}
# Command routes generated from the transition tables (request_submit, permits_api:revoke, …).
COMMAND_PREFIXES = ("request_", "permits_api:suspend", "permits_api:resume", "permits_api:revoke")


def route_names(patterns: Any = None, namespace: str = "") -> Iterator[str]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if pattern.namespace == "admin":
                continue  # Django's admin, staff only, its own paginated change lists
            yield from route_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_route_is_either_a_measured_list_or_named_as_something_else():
    named = set(LISTS) | {name for names in NOT_LISTS.values() for name in names}
    unclassified = {
        name
        for name in route_names()
        if name not in named and not name.startswith(COMMAND_PREFIXES)
    }
    assert unclassified == set(), "classify these routes in LISTS or NOT_LISTS"
    assert set(LISTS) <= set(route_names())


def grow(people: dict, times: int) -> None:  # noqa: F811
    """``times`` more of everything the lists show: drafts, requests waiting at the board,
    permitted ones (permits, register entries, node permits), closed ones; audit events come
    with them."""
    for _ in range(times):
        for situation in ("draft", "in_review:boards", "permitted", "closed"):
            build(situation, people)


def client_for(who: str | None, people: dict) -> Client:  # noqa: F811
    from demo.world import DEMO_NODE_TOKEN

    client = Client()
    if who == "node":
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {DEMO_NODE_TOKEN}"
    elif who is not None:
        client.force_login(people[who])
    return client


def query_counts(people: dict, world: dict) -> dict[tuple[str, str | None], int]:  # noqa: F811
    counts = {}
    for name, who in [(name, spec[0]) for name, spec in LISTS.items()] + ALSO:
        client = client_for(who, people)
        url = reverse(name, kwargs=LISTS[name][1](world))
        first = client.get(url)  # warm: sessions, caches, the first sign-in's bookkeeping
        assert first.status_code == 200, (name, who, first.status_code)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, who, response.status_code)
        counts[(name, who)] = len(queries.captured_queries)
    return counts


@pytest.mark.django_db
def test_every_list_runs_the_same_queries_with_ten_times_the_data(people, settings):  # noqa: F811
    # "Waiting for you" weighs up to 4 × WAITING_PAGE_SIZE candidates, with what its rules
    # read (roles, stages, terms) loaded for all of them at once: at its full size here, so
    # the 1× world shows fewer items than the 10× one, in the same queries.
    from reports.services import metrics_refresh
    from requests_app.models import ReviewBoard

    # given 1× the data
    fixed = build("permitted", people)
    grow(people, 1)
    metrics_refresh()
    world = {
        "board": ReviewBoard.objects.get(memberships__user=people["board_chair"]),
        "fixed": fixed,
        "permit": fixed.permits.get(),
    }
    small = query_counts(people, world)

    # when there is ten times as much
    grow(people, 9)
    metrics_refresh()
    large = query_counts(people, world)

    # then every list runs the same queries
    grown = {key: (small[key], large[key]) for key in small if small[key] != large[key]}
    assert grown == {}, "queries at 1× and 10× the data"
