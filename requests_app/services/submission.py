"""Submitting, routing to the boards, withdrawing, and the automated checks in between."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

import outbox
from accounts.models import User
from audit.services import audit_record
from lifes.errors import InvalidInput, NotFound
from requests_app.answers import answers_digest, missing_answers, snapshot
from requests_app.application_form import form_for_request
from requests_app.errors import Code
from requests_app.fees import fee_record
from requests_app.models import (
    AccessRequest,
    CheckResult,
    DatasetReviewStage,
    RequestState,
    ReviewStage,
    StageState,
    StatutoryClock,
    Submission,
)
from requests_app.notifications import board_addresses, notify, owner_addresses, team_addresses
from requests_app.services.bars import barred_datasets
from requests_app.services.common import Locked, apply, grant_view, lock_and_authorize


def _submit(
    locked: Locked, *, actor: Any, submitted_by: Any = None, **payload: Any
) -> AccessRequest:
    request = locked.request
    form = form_for_request(request)  # validation and snapshot read the same template versions
    errors = missing_answers(request, form)
    barred = barred_datasets(request.requester, list(request.datasets.all()))
    if barred:
        errors.setdefault("datasets", []).extend(
            _("You are barred from asking for %(title)s after a revoked permit.")
            % {"title": d.title}
            for d in barred
        )
    if errors:
        raise InvalidInput(
            _("The request is not complete yet; nothing was submitted."),
            code=Code.INCOMPLETE,
            errors=errors,
        )
    now = timezone.now()
    request.round += 1
    request.submitted_at = now
    answers = snapshot(request, form)
    submission = Submission.objects.create(
        request=request,
        round=request.round,
        answers=answers,
        digest=answers_digest(answers),
        submitted_by=submitted_by or actor,
        submitted_at=now,
    )
    submission.templates.set([pk for pk, _key, _version in form.templates])
    apply(
        locked,
        actor=actor,
        target=RequestState.SUBMITTED,
        fields=("round", "submitted_at"),
        answers_digest=answers_digest(answers),
        **payload,
    )
    fee_record(request)  # the first submission fixes the fee (Art. 62); later rounds keep it
    grant_view(
        request,
        users=list(
            User.objects.filter(stewarded_datasets__requested_in__request=request).distinct()
        ),
    )
    notify(template="submitted", request=request, recipients=team_addresses(request))
    outbox.add(
        "requests.checks_run",
        key=f"request:{request.pk}",
        request_id=request.pk,
        round_number=request.round,
    )
    return request


def request_submit(*, actor: Any, request_id: int) -> AccessRequest:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="submit")
        return _submit(locked, actor=actor)


def request_resubmit(*, actor: Any, request_id: int) -> AccessRequest:
    """A new round: the old answers, votes and checks stay as they were."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="resubmit")
        return _submit(locked, actor=actor)


def _board_order(request: AccessRequest) -> list[int]:
    """The union of the requested datasets' boards, in their order (earliest position wins)."""
    position: dict[int, int] = {}
    for stage in DatasetReviewStage.objects.filter(dataset__requested_in__request=request):
        position[stage.board_id] = min(position.get(stage.board_id, stage.order), stage.order)
    return sorted(position, key=lambda board_id: (position[board_id], board_id))


def open_stage_now(stage: ReviewStage) -> None:
    now = timezone.now()
    stage.state = StageState.OPEN
    stage.opened_at = now
    stage.deadline = now + timezone.timedelta(days=stage.board.deadline_days)
    stage.save(update_fields=["state", "opened_at", "deadline"])
    grant_view(stage.request, groups=[stage.board.group])
    notify(
        template="review_open",
        request=stage.request,
        recipients=board_addresses(stage.board, stage.request),
        context={"stage": stage},
    )


def request_route(*, actor: Any, request_id: int) -> AccessRequest:
    """After the checks: open the first board's stage (or go straight to the owners)."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="route")
        return route_locked(locked, actor=actor)


def route_locked(locked: Locked, *, actor: Any, **payload: Any) -> AccessRequest:
    """Open the first board's stage (or go straight to the owners) under the lock of the
    transition that routes: ``route`` after the checks, or the completeness check's
    ``accept_complete`` (services/ehds.py)."""
    request = locked.request
    stages = [
        ReviewStage.objects.create(
            request=request, board_id=board_id, round=request.round, order=index
        )
        for index, board_id in enumerate(_board_order(request), start=1)
    ]
    apply(
        locked,
        actor=actor,
        target=RequestState.IN_REVIEW,
        boards=[s.board.name for s in stages],
        **payload,
    )
    if stages:
        open_stage_now(stages[0])
    else:
        notify(template="owners_decide", request=request, recipients=owner_addresses(request))
    return request


def request_withdraw(*, actor: Any, request_id: int, reason: str = "") -> AccessRequest:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="withdraw")
        request = locked.request
        open_boards = [
            s.board
            for s in request.stages.filter(
                round=request.round, state=StageState.OPEN
            ).select_related("board")
        ]
        request.stages.filter(
            round=request.round, state__in=[StageState.OPEN, StageState.WAITING]
        ).update(state=StageState.CANCELLED, closed_at=timezone.now())
        request.decided_at = timezone.now()
        from requests_app.services.after import amendment_settle

        # Withdrawing an amendment withdraws only it: the permit it would replace stays.
        is_amendment = amendment_settle(request, outcome="withdrawn")
        apply(
            locked,
            actor=actor,
            target=RequestState.PERMITTED if is_amendment else RequestState.WITHDRAWN,
            fields=("decided_at",),
            reason=reason[:2000],
        )
        for board in open_boards:
            notify(
                template="withdrawn", request=request, recipients=board_addresses(board, request)
            )
    return request


def checks_run(*, request_id: int, round_number: int | None = None) -> list[CheckResult]:
    """Run the automated consent and legal checks for the request's current round and store
    their explained results (replacing earlier results of the same round). A resubmission (its
    clock started already) is routed back to the boards in the same transaction; a first
    submission waits for the completeness check. Safe to run twice: a run for a given
    ``round_number`` that finds that round checked does nothing."""
    from requests_app.checks import evaluate

    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound(_("No such request."))
        if round_number is not None and round_number != request.round:
            return []  # a newer round superseded this run
        if request.round == 0:
            return []
        if round_number is not None and request.checks.filter(round=round_number).exists():
            return []  # the submission's run came twice (outbox re-delivery): done already
        now = timezone.now()
        outcomes = evaluate(request)
        request.checks.filter(round=request.round).delete()
        results = CheckResult.objects.bulk_create(
            [
                CheckResult(
                    request=request,
                    round=request.round,
                    name=o.name,
                    dataset=o.dataset_obj,
                    status=o.status,
                    explanation=o.explanation,
                    details=o.details,
                    checked_at=now,
                )
                for o in outcomes
            ]
        )
        audit_record(
            actor=None,
            action="request.checks_run",
            target=request,
            payload={
                "reference": request.reference,
                "round": request.round,
                "results": [
                    {"name": o.name, "dataset": o.dataset, "status": o.status} for o in outcomes
                ],
            },
        )
        # Routing commits with the checks, under the same lock: a crash between the two cannot
        # strand a checked request in `submitted`, and a concurrent run waits and then skips.
        # A first submission waits for the completeness check by a person (EHDS Art. 68,
        # services/ehds.py); an answer to a request for information (the clock started
        # already) goes straight back to the boards.
        if (
            request.state == RequestState.SUBMITTED
            and StatutoryClock.objects.filter(request=request).exists()
        ):
            request_route(actor=None, request_id=request_id)
    return results


def checks_rerun_for_dataset(*, dataset_id: int) -> int:
    """Consent or conditions of a dataset changed: queue a fresh checks run of every request
    still under review on it (one outbox row each, in one transaction)."""
    from requests_app.selectors import requests_under_review_for_dataset

    with transaction.atomic():
        request_ids = list(
            requests_under_review_for_dataset(dataset_id).values_list("pk", flat=True)
        )
        for request_id in request_ids:
            outbox.add("requests.checks_run", key=f"request:{request_id}", request_id=request_id)
    return len(request_ids)


def requests_redrive(
    *,
    state: str,
    waiting_since: str,
    effect: str,
    effect_args: Callable[[AccessRequest], dict[str, Any]],
    batch_size: int = 100,
    exclude: Q | None = None,
) -> list[str]:
    """Beat: re-drive requests that have waited in ``state`` (since their ``waiting_since``
    field) for an ``effect`` that never came; returns the references re-driven.

    Only requests waiting more than ``SWEEP_GRACE`` seconds, and not re-driven within
    ``SWEEP_REDRIVE_EVERY`` (an effect refused for a lasting reason is not retried every
    minute); each under its row lock (``SKIP LOCKED`` where the database has it), so two
    sweepers at once re-drive a request once. Each re-drive is an audit event.
    """
    from outbox.services import outbox_has_recent

    cutoff = timezone.now() - timezone.timedelta(seconds=settings.SWEEP_GRACE)
    candidates = list(
        AccessRequest.objects.filter(state=state, **{f"{waiting_since}__lt": cutoff})
        .exclude(exclude if exclude is not None else Q(pk__in=[]))
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    redriven = []
    for request_id in candidates:
        with transaction.atomic():
            rows = AccessRequest.objects.filter(pk=request_id, state=state)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            else:
                rows = rows.select_for_update()
            request = rows.first()
            key = f"request:{request_id}"
            if request is None or outbox_has_recent(
                name=effect, key=key, since_seconds=settings.SWEEP_REDRIVE_EVERY
            ):
                continue
            args = effect_args(request)
            audit_record(
                actor=None,
                action="request.redriven",
                target=request,
                payload={
                    "reference": request.reference,
                    "state": request.state,
                    **({"round": args["round_number"]} if "round_number" in args else {}),
                    "effect": effect,
                },
            )
            outbox.add(effect, key=key, request_id=request.pk, **args)
            redriven.append(request.reference)
    return redriven


def requests_redrive_stuck(*, batch_size: int = 100) -> list[str]:
    """Beat: re-drive requests left in ``submitted`` without their checks run (the effect was
    lost, or failed past its retries)."""
    return requests_redrive(
        state=RequestState.SUBMITTED,
        waiting_since="submitted_at",
        # Checked and waiting for the completeness check is not stuck: a person acts next.
        exclude=Q(checks__round=F("round")),
        effect="requests.checks_run",
        effect_args=lambda request: {"round_number": request.round},
        batch_size=batch_size,
    )
