"""Issuing a permit: the last transition of an approved request (``issue_permit``).

Lock order, the same in every permits service so concurrent writers queue instead of
deadlocking: the request row, then its live permits, then the cached
revocation list, then the signing key row (``note_signed_until``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from catalogue.models import Dataset
from consent.cohort import Cohort, CohortChanged, cohort_for
from consent.duo import DUTY_CODES, TS
from consent.matcher import (
    MatcherInputError,
    Purpose,
    dataset_conditions,
    match,
)
from lifes.errors import InvalidTransition
from permits.errors import Code
from permits.models import (
    ISSUE_EVENT,
    LIVE_STATUSES,
    Permit,
    PermitAlgorithm,
    PermitDataset,
    PermitStatus,
)
from permits.services.acceptance import permit_sign, terms_snapshot
from permits.services.common import (
    notify_team,
    revocations_changed,
)
from permits.services.lifecycle import transition_apply
from permits.workflow import PermitRole
from requests_app.after_models import AmendmentOutcome
from requests_app.checks import request_purpose
from requests_app.models import AccessRequest, OwnerDecision, RequestedDataset, RequestState
from requests_app.selectors import terms_status
from requests_app.services import team_invitations_send
from requests_app.services.after import amendment_settle
from requests_app.services.common import apply, lock_and_authorize


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
                    f"the {months}-month time limit on {dataset.slug} ({TS})",
                )
            )
    if request.ethics_expires_on:
        limits.append((_end_of(request.ethics_expires_on), _("the end of the ethics approval")))
    valid_until, why = min(limits, key=lambda item: item[0])
    valid_from, valid_until = valid_from.replace(microsecond=0), valid_until.replace(microsecond=0)
    if valid_until <= valid_from:
        raise InvalidTransition(
            _(
                "No permit can be issued: %(why)s (%(until)s) is not after the start of its"
                " validity (%(start)s)."
            )
            % {"why": why, "until": f"{valid_until:%Y-%m-%d}", "start": f"{valid_from:%Y-%m-%d}"},
            code=Code.NO_VALIDITY,
        )
    return valid_from, valid_until


def _dataset_conditions(purpose: Purpose, item: RequestedDataset) -> dict[str, Any]:
    """The DUO duties the matcher derives for this dataset, their values, the owner's text."""
    dataset = item.dataset
    conditions = dataset_conditions(dataset)
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
            _("The request's purpose cannot select a cohort: %(why)s") % {"why": exc},
            code=Code.PURPOSE_UNUSABLE,
        ) from exc
    except CohortChanged as exc:
        raise InvalidTransition(
            _("Consent in this dataset keeps changing; try again."), code=Code.COHORT_CHANGING
        ) from exc


VERSIONED = re.compile(r"(?P<base>.+?)(?:-v(?P<version>\d+))?")


def versioned_number(previous: Permit | None, *, pk: int, now: dt.datetime) -> str:
    """A first permit is ``LIFES-P-<year>-<pk>``; each permit issued after it on the same
    request (an amendment or renewal) is the next version of that number: ``…-v2``, ``…-v3``."""
    if previous is None:
        return f"LIFES-P-{now.year}-{pk:06d}"
    match = VERSIONED.fullmatch(previous.number)
    base, version = match["base"], int(match["version"] or 1)
    return f"{base}-v{version + 1}"


def permit_issue(*, actor: Any, request_id: int) -> Permit:
    """Issue the permit of an approved request and move it to ``permitted``.

    Only the request's data owners or the system (``actor=None``, on approval), only in
    ``approved`` (the transition table decides). Any live permit of the same request (after an
    amendment) is superseded and goes onto the revocation list. Only granted datasets go in.
    """
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="issue_permit")
        request = locked.request
        granted = list(
            request.requested_datasets.filter(decision=OwnerDecision.GRANTED)
            .select_related("dataset__node")
            .order_by("dataset__slug")
        )
        if not granted:
            raise InvalidTransition(
                _("No dataset of this request was granted."), code=Code.NOTHING_GRANTED
            )
        algorithms = list(request.algorithms.order_by("name", "version"))
        if not algorithms:
            raise InvalidTransition(
                _("The request names no algorithm to permit."), code=Code.NO_ALGORITHM
            )
        previous = list(
            Permit.objects.select_for_update()
            .filter(request=request, status__in=LIVE_STATUSES)
            .order_by("pk")
        )
        # The permit waits (unsigned) for the team's acceptance of the current terms, unless
        # everyone accepted them already (EHDS Art. 68); a waiting one of an earlier round lapses.
        pending = terms_status(request).pending
        waiting = list(
            Permit.objects.select_for_update()
            .filter(request=request, status=PermitStatus.AWAITING_ACCEPTANCE)
            .order_by("pk")
        )
        now = timezone.now().replace(microsecond=0)
        for old in waiting:
            transition_apply(
                old,
                "lapse",
                actor=actor,
                roles={PermitRole.SYSTEM},
                status_reason="replaced by a new permit before it was accepted",
                now=now,
                request=request.reference,
            )
        valid_from, valid_until = validity(request, [item.dataset for item in granted], now)
        purpose = request_purpose(request)
        cohorts = {item.pk: _cohort(item.dataset, purpose) for item in granted}
        by_dataset = [_dataset_conditions(purpose, item) for item in granted]
        conditions = {
            "duties": sorted({d for entry in by_dataset for d in entry["duties"]}),
            "datasets": by_dataset,
        }
        for old in previous:
            # Through the permit's table, as the system: the amendment supersedes, not the actor.
            transition_apply(
                old,
                "supersede",
                actor=actor,
                roles={PermitRole.SYSTEM},
                status_reason="superseded after an amendment",
                now=now,
                # The new permit's issue event names the permits it supersedes.
                request=request.reference,
                round=request.round,
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
            status=PermitStatus.AWAITING_ACCEPTANCE if pending else PermitStatus.ACTIVE,
            acceptance_due_at=(
                now + dt.timedelta(days=settings.PERMIT_ACCEPTANCE_DAYS) if pending else None
            ),
            accepted_at=None if pending else now,
            terms=[] if pending else terms_snapshot(request),
            status_changed_at=now,
            supersedes=previous[-1] if previous else None,
        )
        permit.number = versioned_number(
            Permit.objects.filter(request=request).exclude(pk=permit.pk).order_by("-pk").first(),
            pk=permit.pk,
            now=now,
        )
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
        if pending:
            permit.save(update_fields=["number"])  # signed once the whole team accepted
            team_invitations_send(request=request)
        else:
            permit_sign(permit)

        amendment_settle(request, outcome=AmendmentOutcome.GRANTED, permit_number=permit.number)
        apply(locked, actor=actor, target=RequestState.PERMITTED, permit=permit.number)
        audit_record(
            actor=actor,
            action=ISSUE_EVENT,
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
                "status": permit.status,
                "acceptance_due_at": permit.acceptance_due_at,
                "pending_acceptance": pending,
            },
        )
        notify_team(permit, template="awaiting_acceptance" if pending else "issued")
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
