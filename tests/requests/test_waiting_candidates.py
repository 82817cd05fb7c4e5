"""The bounded reads that stand in for the old whole-table ones answer exactly what the old rule
did, for every role, on a world with a request in every situation of the transition table:

- ``_waiting_candidates`` (a UNION of small indexed branches, each cut to ``take`` rows) gives
  the same requests in the same order as the one OR of joins it replaced, and its first
  ``take`` are the old rule's first ``take``, for every ``take``;
- ``requests_visible_to`` and ``request_pks_visible_to`` (guardian's grants read by index,
  ``object_pk`` cast to the pk) give the same requests as guardian's ``get_objects_for_user``,
  and a permit list the permits of exactly those requests;
- the "waiting for you" count is exact up to the cap and says when it stopped there."""

from __future__ import annotations

import pytest
from django.db.models import Q
from guardian.shortcuts import get_objects_for_user

from permits.models import Permit
from permits.selectors import permits_visible_to
from requests_app.models import (
    AccessRequest,
    BoardMembership,
    OwnerDecision,
    RequestState,
    StageState,
)
from requests_app.permissions import boards_phase_filter
from requests_app.selectors import (
    _waiting_candidates,
    request_pks_visible_to,
    requests_visible_to,
    waiting_page,
)
from requests_app.services.common import VIEW_PERM
from requests_app.workflow import SITUATIONS
from tests.conftest import module_data
from tests.requests.conftest import review_world
from tests.requests.test_transition_matrix import ACTORS, build, matrix_people

ROLES = [actor for actor in ACTORS if actor != "system"]  # the matrix's people


def old_waiting_rule(user) -> list[int]:
    """The rule as it was written before it became a UNION (one OR of joins over all requests),
    kept here as the reference the new query must equal."""
    live = [RequestState.REJECTED, RequestState.WITHDRAWN, RequestState.CLOSED]
    own = Q(requester=user) | Q(team__email__iexact=user.email)
    boards = Q(
        stages__state=StageState.OPEN,
        stages__board__in=BoardMembership.objects.filter(user=user).values("board"),
    )
    datasets = (
        Q(
            state=RequestState.IN_REVIEW,
            requested_datasets__dataset__stewards=user,
            requested_datasets__decision=OwnerDecision.PENDING,
        )
        & ~boards_phase_filter()
    )
    completeness = Q(state=RequestState.SUBMITTED) if user.is_staff else Q(pk__in=[])
    appeals = Q(state=RequestState.APPEALED) if user.is_staff else Q(pk__in=[])
    pks = AccessRequest.objects.filter(own | boards | datasets | completeness | appeals).exclude(
        state__in=live
    )
    rows = AccessRequest.objects.filter(pk__in=pks.values("pk")).order_by("-updated_at", "pk")
    return list(rows.values_list("pk", flat=True))


@pytest.fixture(scope="module")
def _situations(django_db_setup, django_db_blocker):
    """The matrix's people and a request in every situation, twice (so the cut at ``take``
    falls inside a branch): 26 requests walked through the services, built once for the
    module's tests, which only read them (``module_data``)."""
    from tests.factories import demo_cast

    with module_data(django_db_blocker):
        people = matrix_people(review_world(demo_cast()))
        yield people, [build(situation, people) for situation in SITUATIONS for _ in range(2)]


@pytest.fixture
def people(db, _situations):
    return _situations[0]


@pytest.fixture
def every_situation(db, _situations):
    return _situations[1]


@pytest.mark.django_db
def test_the_waiting_candidates_are_the_old_rule_for_every_role_and_every_cut(
    people,
    every_situation,
):
    for role in ROLES:
        user = people[role]
        # given what the old rule answered
        expected = old_waiting_rule(user)
        # then the union gives the same requests in the same order ...
        whole = _waiting_candidates(user, take=len(every_situation) + 1)
        assert list(whole.values_list("pk", flat=True)) == expected, role
        # ... and its first ``take`` are the old rule's first ``take``, whatever ``take``
        for take in range(1, len(expected) + 2):
            cut = _waiting_candidates(user, take=take)[:take]
            assert list(cut.values_list("pk", flat=True)) == expected[:take], (role, take)
            unordered = _waiting_candidates(user, take=take, ordered=False)[:take]
            assert unordered.count() == min(take, len(expected)), (role, take)


@pytest.mark.django_db
def test_the_roles_wait_on_what_they_should(people, every_situation):
    # The comparison above is only worth something if the roles differ: they do.
    sizes = {role: len(old_waiting_rule(people[role])) for role in ROLES}
    assert sizes["outsider"] == 0
    assert sizes["auditor"] == 0
    assert 0 < sizes["data_owner"] < sizes["requester"]
    assert 0 < sizes["board_chair"] < sizes["requester"]
    assert sizes["staff"] > 0
    assert sizes["team_member"] == sizes["requester"]


@pytest.mark.django_db
def test_visibility_is_what_guardian_grants_for_every_role(people, every_situation):
    for role in [*ROLES, "voters"]:
        users = people[role] if role == "voters" else [people[role]]
        for user in users:
            seen = set(requests_visible_to(user).values_list("pk", flat=True))
            pks = request_pks_visible_to(user)
            permits = set(permits_visible_to(user).values_list("pk", flat=True))
            assert permits == set(
                Permit.objects.filter(request__in=seen).values_list("pk", flat=True)
            ), role
            if user.is_auditor or user.is_staff or user.is_superuser:
                assert seen == set(AccessRequest.objects.values_list("pk", flat=True)), role
                assert pks is None, role
                continue
            assert seen == set(
                AccessRequest.objects.filter(pk__in=pks).values_list("pk", flat=True)
            )
            granted = get_objects_for_user(
                user,
                VIEW_PERM,
                klass=AccessRequest,
                accept_global_perms=False,
                with_superuser=False,
            )
            assert seen == set(granted.values_list("pk", flat=True)), role
    # Board members see through their board's group, stewards and the team through their own.
    assert requests_visible_to(people["board_member"]).exists()
    assert not requests_visible_to(people["outsider"]).exists()
    assert permits_visible_to(people["requester"]).exists()


@pytest.mark.django_db
def test_the_waiting_count_is_exact_up_to_the_cap(people, every_situation, settings):
    requester, chair = people["requester"], people["board_chair"]
    mine = len(old_waiting_rule(requester))
    settings.PAGINATION_COUNT_CAP = mine
    page = waiting_page(requester)
    assert (page.count, page.count_exact) == (mine, True)
    settings.PAGINATION_COUNT_CAP = mine - 1
    page = waiting_page(requester)
    assert (page.count, page.count_exact) == (mine - 1, False)
    settings.PAGINATION_COUNT_CAP = 1000
    assert waiting_page(chair).count == len(old_waiting_rule(chair))
    assert waiting_page(people["outsider"]).count == 0
