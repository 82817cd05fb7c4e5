"""Issuing a permit: the last transition of an approved request (``issue_permit``).

Lock order, the same in every permits service so concurrent writers queue instead of
deadlocking: the request row, then its live permits, then the audit chain head, then the cached
revocation list, then the signing key row (``note_signed_until``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import uuid
from typing import Any

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, chain_lock
from catalogue.models import Dataset
from consent.cohort import Cohort, CohortChanged, cohort_for
from consent.matcher import DUTY_CODES, TS, Conditions, MatcherInputError, Purpose, match
from lifes.errors import InvalidTransition
from permits import keys
from permits.models import (
    LIVE_STATUSES,
    Permit,
    PermitAlgorithm,
    PermitDataset,
    PermitStatus,
)
from permits.services.common import (
    PERMIT_TYP,
    notify_team,
    permit_claims,
    revocations_changed,
)
from requests_app.checks import request_purpose
from requests_app.models import AccessRequest, OwnerDecision, RequestedDataset, RequestState
from requests_app.services.common import lock_and_authorize, record


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the hub's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _end_of(day: dt.date) -> dt.datetime:
    """A requested period or an ethics approval includes its last day: it ends at midnight."""
    return _start_of(day + dt.timedelta(days=1))


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Calendar months (DUO TS is "a number of months"); the 31st becomes the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _time_limit_months(dataset: Dataset) -> int | None:
    value = (dataset.duo_values or {}).get(TS)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def validity(
    request: AccessRequest,
    datasets: list[Dataset],
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """``(valid_from, valid_until)``: from the requested start (or now, if that has passed) to the
    earliest of the requested end, each dataset's DUO time limit counted from issue, and the end
    of the ethics approval. Whole seconds, so the stored times equal the token's."""
    start = _start_of(request.period_start) if request.period_start else now
    valid_from = max(start, now)
    limits: list[tuple[dt.datetime, str]] = [
        (
            _end_of(request.period_end)
            if request.period_end
            else now + dt.timedelta(days=settings.PERMIT_DEFAULT_VALIDITY_DAYS),
            "the end of the requested period",
        )
    ]
    for dataset in datasets:
        months = _time_limit_months(dataset)
        if months is not None:
            limits.append(
                (
                    add_months(now, months),
                    f"the {months}-month time limit on {dataset.slug} (DUO:0000025)",
                )
            )
    if request.ethics_expires_on:
        limits.append((_end_of(request.ethics_expires_on), "the end of the ethics approval"))
    valid_until, why = min(limits, key=lambda item: item[0])
    valid_from, valid_until = valid_from.replace(microsecond=0), valid_until.replace(microsecond=0)
    if valid_until <= valid_from:
        raise InvalidTransition(
            f"No permit can be issued: {why} ({valid_until:%Y-%m-%d}) is not after the start of "
            f"its validity ({valid_from:%Y-%m-%d}).",
            code="no_validity",
        )
    return valid_from, valid_until


def _dataset_conditions(purpose: Purpose, item: RequestedDataset) -> dict[str, Any]:
    """The DUO duties the matcher derives for this dataset, their values, the owner's text."""
    dataset = item.dataset
    conditions = Conditions(
        codes=tuple(dataset.duo_codes),
        diseases=tuple(dataset.duo_diseases),
        values=dict(dataset.duo_values or {}),
    )
    try:
        duties = match(purpose, conditions).duties
    except MatcherInputError:
        # Stored conditions the current vocabulary no longer accepts: the duties are still the
        # duty codes the dataset carries (what the matcher would return for them).
        duties = sorted(code for code in dataset.duo_codes if code in DUTY_CODES)
    values = {
        code: (dataset.duo_values or {})[code]
        for code in duties
        if code in (dataset.duo_values or {})
    }
    return {"id": dataset.slug, "duties": list(duties), "values": values, "owner": item.conditions}


def _cohort(dataset: Dataset, purpose: Purpose) -> Cohort:
    try:
        return cohort_for(dataset=dataset, purpose=purpose)
    except MatcherInputError as exc:
        raise InvalidTransition(
            f"The request's purpose cannot select a cohort: {exc}", code="purpose_unusable"
        ) from exc
    except CohortChanged as exc:
        raise InvalidTransition(
            "Consent in this dataset keeps changing; try again.", code="cohort_changing"
        ) from exc


def permit_issue(*, actor: Any, request_id: int) -> Permit:
    """Issue the permit of an approved request and move it to ``permitted``.

    Only the request's data owners or the system (``actor=None``, on approval), only in
    ``approved`` (the transition table decides). Any live permit of the same request (after an
    amendment) is superseded and goes onto the revocation list. Only granted datasets go in.
    """
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="issue_permit")
        request = locked.request
        before = request.state
        granted = list(
            request.requested_datasets.filter(decision=OwnerDecision.GRANTED)
            .select_related("dataset__node")
            .order_by("dataset__slug")
        )
        if not granted:
            raise InvalidTransition(
                "No dataset of this request was granted.", code="nothing_granted"
            )
        algorithms = list(request.algorithms.order_by("name", "version"))
        if not algorithms:
            raise InvalidTransition(
                "The request names no algorithm to permit.", code="no_algorithm"
            )
        previous = list(
            Permit.objects.select_for_update()
            .filter(request=request, status__in=LIVE_STATUSES)
            .order_by("pk")
        )
        now = timezone.now().replace(microsecond=0)
        valid_from, valid_until = validity(request, [item.dataset for item in granted], now)
        purpose = request_purpose(request)
        cohorts = {item.pk: _cohort(item.dataset, purpose) for item in granted}
        by_dataset = [_dataset_conditions(purpose, item) for item in granted]
        conditions = {
            "duties": sorted({d for entry in by_dataset for d in entry["duties"]}),
            "datasets": by_dataset,
        }
        chain_lock()

        for old in previous:
            old.status = PermitStatus.SUPERSEDED
            old.status_reason = "superseded after an amendment"
            old.status_changed_at, old.status_changed_by = now, actor
            old.save(
                update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"]
            )
        permit = Permit.objects.create(
            number=f"pending-{uuid.uuid4().hex[:24]}",  # replaced below, once the pk exists
            request=request,
            holder=request.requester,
            holder_organisation=request.organisation,
            principal_investigator=request.pi_name,
            purpose_codes=list(purpose.codes),
            purpose_diseases=list(purpose.diseases),
            is_commercial=bool(request.is_commercial),
            is_for_profit=bool(request.organisation.is_for_profit),
            is_aggregate_only=True,
            min_cell_count=settings.PERMIT_MIN_CELL_COUNT,
            conditions=conditions,
            issued_at=now,
            valid_from=valid_from,
            valid_until=valid_until,
            issued_by=actor,
            status=PermitStatus.ACTIVE,
            status_changed_at=now,
            supersedes=previous[-1] if previous else None,
        )
        permit.number = f"LIFES-P-{now.year}-{permit.pk:06d}"
        PermitDataset.objects.bulk_create(
            [
                PermitDataset(
                    permit=permit,
                    dataset=item.dataset,
                    node_identifier=item.dataset.node.identifier,
                    cohort_version=cohorts[item.pk].version,
                    cohort_digest=cohorts[item.pk].digest,
                    cohort_count=cohorts[item.pk].count,
                    owner_conditions=item.conditions,
                )
                for item in granted
            ]
        )
        PermitAlgorithm.objects.bulk_create(
            [
                PermitAlgorithm(
                    permit=permit, algorithm=a, name=a.name, version=a.version, digest=a.digest
                )
                for a in algorithms
            ]
        )
        if previous:
            revocations_changed()  # before signing: the list row comes before the key row
        token = keys.sign_jws(permit_claims(permit), typ=PERMIT_TYP)
        permit.kid = jwt.get_unverified_header(token)["kid"]
        keys.note_signed_until(permit.kid, valid_until)  # the JWKS keeps the key until then
        permit.token = token
        permit.token_sha256 = hashlib.sha256(token.encode("ascii")).hexdigest()
        permit.save(update_fields=["number", "token", "kid", "token_sha256"])

        request.state = RequestState.PERMITTED
        request.save(update_fields=["state", "updated_at"])
        record(
            actor=actor, action="issue_permit", request=request, before=before, permit=permit.number
        )
        audit_record(
            actor=actor,
            action="permit.issue",
            target=permit,
            payload={
                "number": permit.number,
                "jti": str(permit.jti),
                "request": request.reference,
                "holder": request.requester.email,
                "organisation": request.organisation.name,
                "datasets": [
                    {
                        "id": item.dataset.slug,
                        "node": item.dataset.node.identifier,
                        "cohort_version": cohorts[item.pk].version,
                        "cohort_digest": cohorts[item.pk].digest,
                        "cohort_count": cohorts[item.pk].count,
                    }
                    for item in granted
                ],
                "algorithms": [
                    {"name": a.name, "version": a.version, "digest": a.digest} for a in algorithms
                ],
                "valid_from": valid_from,
                "valid_until": valid_until,
                "kid": permit.kid,
                "token_sha256": permit.token_sha256,
                "supersedes": [old.number for old in previous],
            },
        )
        for old in previous:
            audit_record(
                actor=actor,
                action="permit.supersede",
                target=old,
                payload={"number": old.number, "jti": str(old.jti), "superseded_by": permit.number},
            )
        notify_team(permit, template="issued")
    return permit


def permit_issue_if_due(*, request_id: int) -> Permit | None:
    """What the ``issue_permit_task`` does: issue as the system when the request is still
    approved; otherwise (already permitted, closed, gone) do nothing. Safe to run twice: two runs
    queue on the request row lock and the second finds the request permitted."""
    state = AccessRequest.objects.filter(pk=request_id).values_list("state", flat=True).first()
    if state != RequestState.APPROVED:
        return None
    try:
        return permit_issue(actor=None, request_id=request_id)
    except InvalidTransition as exc:
        if exc.code == "invalid_state":
            return None  # another run issued it between our read and our lock
        raise
