"""The cohort: who is in it for a purpose, its digest and version, withdrawal and opt-out."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from consent.cohort import CohortChanged, cohort_queryset, digest_of
from consent.matcher import MatcherInputError, Purpose
from consent.models import ConsentRecord, DatasetConsentState, Participant
from consent.selectors import cohort_for
from consent.services import consent_import, consent_withdraw, participant_opt_out_record
from consent.signals import consent_changed
from lifes.errors import DomainError, NotAllowed
from tests.consent import fhir_examples as ex
from tests.consent.conftest import (
    BREAST,
    CANCER,
    COLORECTAL,
    DIABETES,
    DS,
    GRU,
    HMB,
    MDS,
    POA,
    POPULATION,
    T1D,
    T2D,
    make_dataset,
)

EMPTY_DIGEST = "sha256:" + hashlib.sha256(b"").hexdigest()


def sha(ids: list[str]) -> str:
    return "sha256:" + hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


@pytest.fixture
def examples(dataset, world):
    """The eight R4 and R5 example consents imported into ``dataset``."""
    consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=json.dumps(ex.bundle(ex.R4_EXAMPLES + ex.R5_EXAMPLES)),
    )
    return dataset


def ids(dataset, purpose, at=None) -> list[str]:
    return cohort_for(dataset=dataset, purpose=purpose, at=at).ids()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("purpose", "expected"),
    [
        # GRU permits (P-R5-01) cover everything; HMB permits (P-R4-01, P-R5-04) cover HMB and DS.
        (
            Purpose(codes=(HMB,), commercial=False, for_profit=False),
            ["P-R4-01", "P-R5-01", "P-R5-04"],
        ),
        # P-R5-04's permit is NPUNCU: not for commercial use or for-profit requesters.
        (Purpose(codes=(HMB,), commercial=True, for_profit=False), ["P-R4-01", "P-R5-01"]),
        (Purpose(codes=(HMB,), commercial=False, for_profit=True), ["P-R4-01", "P-R5-01"]),
        (Purpose(codes=(HMB,)), ["P-R4-01", "P-R5-01"]),  # not said: treated as commercial
        # P-R4-01 and P-R5-01 deny methods development.
        (Purpose(codes=(HMB, MDS), commercial=False, for_profit=False), ["P-R5-04"]),
        (Purpose(codes=(GRU,), commercial=False, for_profit=False), ["P-R5-01"]),
        # DS diabetes permit (P-R4-03) covers type 2 diabetes, a narrower disease.
        (
            Purpose(codes=(DS,), diseases=(T2D,), commercial=False, for_profit=False),
            ["P-R4-01", "P-R4-03", "P-R5-01", "P-R5-04"],
        ),
        # Cancer permit with a breast cancer exception (P-R5-02).
        (
            Purpose(codes=(DS,), diseases=(COLORECTAL,), commercial=False, for_profit=False),
            ["P-R4-01", "P-R5-01", "P-R5-02", "P-R5-04"],
        ),
        (
            Purpose(codes=(DS,), diseases=(BREAST,), commercial=False, for_profit=False),
            ["P-R4-01", "P-R5-01", "P-R5-04"],
        ),
        # A broader purpose disease overlaps the denied narrower one: excluded too.
        (
            Purpose(codes=(DS,), diseases=(CANCER,), commercial=False, for_profit=False),
            ["P-R4-01", "P-R5-01", "P-R5-04"],
        ),
        # Every purpose disease must be covered: cancer permit does not cover diabetes.
        (
            Purpose(codes=(DS,), diseases=(COLORECTAL, T2D), commercial=False, for_profit=False),
            ["P-R4-01", "P-R5-01", "P-R5-04"],
        ),
        # P-R5-01 denies POA; nobody else permits GRU or POA.
        (Purpose(codes=(POA,), commercial=False, for_profit=False), []),
        (Purpose(codes=(GRU, POPULATION), commercial=False, for_profit=False), []),
    ],
)
def test_who_is_in_the_cohort(examples, purpose, expected):
    # Inactive (P-R4-02, P-R5-03) and expired (P-R4-04) consents are never in it.
    cohort = cohort_for(dataset=examples, purpose=purpose)

    assert cohort.ids() == expected
    assert (cohort.count, cohort.digest, cohort.version) == (len(expected), sha(expected), 1)


@pytest.mark.django_db
def test_consent_periods_are_read_at_the_given_time(examples):
    later = dt.datetime(2031, 6, 1, tzinfo=dt.UTC)  # after the diabetes permit (to 2030) ends
    much_later = dt.datetime(2036, 6, 1, tzinfo=dt.UTC)  # after P-R4-01's period (to 2035)
    purpose = Purpose(codes=(DS,), diseases=(T2D,), commercial=False, for_profit=False)

    assert ids(examples, purpose, at=later) == ["P-R4-01", "P-R5-01", "P-R5-04"]
    assert ids(examples, purpose, at=much_later) == ["P-R5-01", "P-R5-04"]


@pytest.mark.django_db
def test_a_withdrawal_removes_the_participant_and_changes_digest_and_version(examples, world):
    purpose = Purpose(codes=(HMB,), commercial=False, for_profit=False)
    before = cohort_for(dataset=examples, purpose=purpose)
    withdrawn_records = ConsentRecord.objects.count()

    record = consent_withdraw(
        actor=world["owner"], dataset=examples, pseudonym="P-R5-01", note="Letter of 24 November"
    )

    after = cohort_for(dataset=examples, purpose=purpose)
    assert (before.count, before.version) == (3, 1)
    assert after.ids() == ["P-R4-01", "P-R5-04"]
    assert (after.count, after.digest, after.version) == (2, sha(["P-R4-01", "P-R5-04"]), 2)
    assert after.digest != before.digest
    # Nothing deleted: the old consent is kept, superseded; the withdrawal is a new record.
    assert ConsentRecord.objects.count() == withdrawn_records + 1
    history = ConsentRecord.objects.filter(participant__pseudonym="P-R5-01").order_by("pk")
    assert [
        (r.status, r.source, r.is_current, r.superseded_at == record.recorded_at) for r in history
    ] == [("active", "fhir-r5", False, True), ("inactive", "withdrawal", True, False)]
    assert record.note == "Letter of 24 November"
    # The cohort as it was before the withdrawal can still be recomputed.
    assert ids(examples, purpose, at=before.at) == ["P-R4-01", "P-R5-01", "P-R5-04"]
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.payload["participant"], event.payload["version"]) == (
        "consent.withdraw",
        "P-R5-01",
        2,
    )


@pytest.mark.django_db
def test_withdrawing_twice_is_refused_and_changes_nothing(examples, world):
    consent_withdraw(actor=world["owner"], dataset=examples, pseudonym="P-R4-01")
    events, records = AuditEvent.objects.count(), ConsentRecord.objects.count()

    with pytest.raises(DomainError) as caught:
        consent_withdraw(actor=world["owner"], dataset=examples, pseudonym="P-R4-01")

    assert caught.value.code == "already_withdrawn"
    assert (AuditEvent.objects.count(), ConsentRecord.objects.count()) == (events, records)
    assert DatasetConsentState.objects.get(dataset=examples).version == 2


@pytest.mark.django_db
def test_a_new_consent_after_a_withdrawal_brings_the_participant_back(examples, world):
    consent_withdraw(actor=world["owner"], dataset=examples, pseudonym="P-R4-01")
    consent_import(
        actor=world["owner"], dataset=examples, content="participant,permit\nP-R4-01,DUO:0000042\n"
    )

    purpose = Purpose(codes=(GRU,), commercial=False, for_profit=False)
    assert ids(examples, purpose) == ["P-R4-01", "P-R5-01"]
    assert DatasetConsentState.objects.get(dataset=examples).version == 3


@pytest.mark.django_db
def test_an_opted_out_participant_is_never_in_a_cohort(examples, world):
    participant_opt_out_record(actor=world["owner"], dataset=examples, pseudonym="P-R5-01")

    for purpose in (
        Purpose(codes=(GRU,), commercial=False, for_profit=False),
        Purpose(codes=(HMB,), commercial=False, for_profit=False),
        Purpose(codes=(DS,), diseases=(COLORECTAL,), commercial=False, for_profit=False),
    ):
        assert "P-R5-01" not in ids(examples, purpose)
    # Even a new consent does not bring them back.
    consent_import(
        actor=world["owner"], dataset=examples, content="participant,permit\nP-R5-01,DUO:0000004\n"
    )
    assert ids(examples, Purpose(codes=(GRU,), commercial=False, for_profit=False)) == []
    assert Participant.objects.get(pseudonym="P-R5-01").opted_out_at is not None
    assert DatasetConsentState.objects.get(dataset=examples).version == 3
    with pytest.raises(DomainError) as caught:
        participant_opt_out_record(actor=world["owner"], dataset=examples, pseudonym="P-R5-01")
    assert caught.value.code == "already_opted_out"


@pytest.mark.django_db
def test_digest_is_sha256_of_the_sorted_ids_in_code_point_order(dataset, world):
    names = ["b", "B", "a", "a_x", "aB", "1", "Z.9", "a-b", "a.b", "a:b", "A_1", "a0"]
    csv = "participant,permit\n" + "".join(f"{n},DUO:0000042\n" for n in names)
    consent_import(actor=world["owner"], dataset=dataset, content=csv)

    cohort = cohort_for(
        dataset=dataset, purpose=Purpose(codes=(GRU,), commercial=False, for_profit=False)
    )

    assert cohort.ids() == sorted(names)
    expected = "sha256:" + hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()
    assert cohort.digest == digest_of(names) == expected
    assert cohort.count == 12


@pytest.mark.django_db
def test_an_empty_cohort_has_the_digest_of_nothing(dataset):
    cohort = cohort_for(dataset=dataset, purpose=Purpose(codes=(HMB,)))
    assert (cohort.count, cohort.digest, cohort.version, cohort.ids()) == (0, EMPTY_DIGEST, 0, [])


@pytest.mark.django_db
def test_cohorts_of_other_datasets_are_separate(examples, world):
    other = make_dataset("other-cohort", world["owner"])
    consent_import(
        actor=world["owner"],
        dataset=other,
        content="participant,permit\nP-R5-01,DUO:0000042\nO-1,DUO:0000042\n",
    )
    purpose = Purpose(codes=(GRU,), commercial=False, for_profit=False)

    assert ids(other, purpose) == ["O-1", "P-R5-01"]
    assert ids(examples, purpose) == ["P-R5-01"]
    assert cohort_for(dataset=other, purpose=purpose).version == 1


@pytest.mark.django_db
def test_a_cohort_is_one_query_whatever_its_size(dataset, world, django_assert_num_queries):
    csv = "participant,permit,deny\n" + "".join(
        f"P{i:04d},DUO:0000006,{'DUO:0000031' if i % 3 == 0 else ''}\n" for i in range(300)
    )
    consent_import(actor=world["owner"], dataset=dataset, content=csv)
    purpose = Purpose(codes=(HMB, MDS), commercial=False, for_profit=False)

    with django_assert_num_queries(1):
        assert len(list(cohort_queryset(dataset=dataset, purpose=purpose))) == 200
    # cohort_for: version before and after, and the count + digest query (on PostgreSQL one
    # more: SET LOCAL of the query's settings).
    with django_assert_num_queries(3 + (connection.vendor == "postgresql")):
        cohort = cohort_for(dataset=dataset, purpose=purpose)
    assert cohort.count == 200


@pytest.mark.django_db
def test_ids_notice_a_change_since_the_cohort_was_computed(examples, world):
    purpose = Purpose(codes=(GRU,), commercial=False, for_profit=False)
    cohort = cohort_for(dataset=examples, purpose=purpose)
    consent_import(
        actor=world["owner"], dataset=examples, content="participant,permit\nlate,DUO:0000042\n"
    )
    late = cohort_for(dataset=examples, purpose=purpose)
    consent_withdraw(actor=world["owner"], dataset=examples, pseudonym="late")

    # Read at its own time, the first cohort is unchanged; a cohort computed "now" was not.
    assert cohort.ids() == ["P-R5-01"]
    assert late.ids() == ["P-R5-01", "late"]
    late_now = cohort_for(dataset=examples, purpose=purpose)
    assert late_now.ids() == ["P-R5-01"]
    tampered = type(late)(**{**late.__dict__, "digest": EMPTY_DIGEST})
    with pytest.raises(CohortChanged):
        tampered.ids()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("purpose", "field"),
    [
        (Purpose(codes=()), "purpose.codes"),
        (Purpose(codes=(MDS,)), "purpose.codes"),
        (Purpose(codes=(DS,)), "purpose.diseases"),
        (Purpose(codes=(DS,), diseases=("MONDO:9999999",)), "purpose.diseases"),
    ],
)
def test_a_cohort_needs_a_usable_primary_purpose(dataset, purpose, field):
    with pytest.raises(MatcherInputError) as caught:
        cohort_for(dataset=dataset, purpose=purpose)
    assert field in caught.value.errors


@pytest.mark.django_db
def test_every_consent_change_signals_after_commit(
    examples, world, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    consent_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            consent_withdraw(actor=world["owner"], dataset=examples, pseudonym="P-R4-01")
            participant_opt_out_record(actor=world["owner"], dataset=examples, pseudonym="P-R4-03")
    finally:
        consent_changed.disconnect(receiver)
    assert len(callbacks) == 2
    assert [(k["dataset_id"], k["version"]) for k in received] == [
        (examples.pk, 2),
        (examples.pk, 3),
    ]


@pytest.mark.django_db
def test_only_stewards_and_staff_change_consent_and_refusals_change_nothing(examples, world):
    before = (
        ConsentRecord.objects.count(),
        AuditEvent.objects.count(),
        DatasetConsentState.objects.get(dataset=examples).version,
    )
    for user in (world["requester"], world["auditor"], world["chair"]):
        with pytest.raises(NotAllowed):
            consent_withdraw(actor=user, dataset=examples, pseudonym="P-R4-01")
        with pytest.raises(NotAllowed):
            participant_opt_out_record(actor=user, dataset=examples, pseudonym="P-R4-01")
        with pytest.raises(NotAllowed):
            consent_import(
                actor=user, dataset=examples, content="participant,permit\nX-1,DUO:0000042\n"
            )
    assert (
        ConsentRecord.objects.count(),
        AuditEvent.objects.count(),
        DatasetConsentState.objects.get(dataset=examples).version,
    ) == before
    assert Participant.objects.get(pseudonym="P-R4-01").opted_out_at is None

    consent_withdraw(actor=world["admin"], dataset=examples, pseudonym="P-R4-01")  # staff
    assert DatasetConsentState.objects.get(dataset=examples).version == 2


@pytest.mark.django_db
def test_deny_overrides_permit_within_one_consent(dataset, world):
    consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=(
            "participant,permit,permit_diseases,deny,deny_diseases\n"
            "both,DUO:0000042,,DUO:0000006,\n"
            "ds-deny,DUO:0000007,MONDO:0005015,DUO:0000007,MONDO:0005147\n"
        ),
    )

    assert ids(dataset, Purpose(codes=(HMB,), commercial=False, for_profit=False)) == []
    assert ids(dataset, Purpose(codes=(POA,), commercial=False, for_profit=False)) == ["both"]
    assert ids(
        dataset, Purpose(codes=(DS,), diseases=(T2D,), commercial=False, for_profit=False)
    ) == ["ds-deny"]
    assert (
        ids(dataset, Purpose(codes=(DS,), diseases=(T1D,), commercial=False, for_profit=False))
        == []
    )
    assert (
        ids(dataset, Purpose(codes=(DS,), diseases=(DIABETES,), commercial=False, for_profit=False))
        == []
    )


@pytest.mark.django_db
def test_a_consent_that_is_not_yet_in_force_is_not_counted(dataset, world):
    start = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    consent_import(
        actor=world["owner"],
        dataset=dataset,
        content=f"participant,permit,period_start\nsoon,DUO:0000042,{start}\n",
    )
    purpose = Purpose(codes=(GRU,), commercial=False, for_profit=False)

    assert ids(dataset, purpose) == []
    assert ids(dataset, purpose, at=timezone.now() + dt.timedelta(days=31)) == ["soon"]
