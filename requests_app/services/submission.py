"""Submitting, routing to the boards, withdrawing, and the automated checks in between."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import audit_record
from lifes.errors import InvalidInput, NotFound
from requests_app.answers import answers_digest, missing_answers, snapshot
from requests_app.models import (
    AccessRequest,
    CheckResult,
    DatasetReviewStage,
    RequestState,
    ReviewStage,
    StageState,
    Submission,
)
from requests_app.notifications import board_addresses, notify, owner_addresses, team_addresses
from requests_app.services.bars import barred_datasets
from requests_app.services.common import Locked, grant_view, lock_and_authorize, record


def _submit(locked: Locked, *, actor: Any, action: str) -> AccessRequest:
    request = locked.request
    errors = missing_answers(request)
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
            code="incomplete",
            errors=errors,
        )
    before = request.state
    now = timezone.now()
    request.round += 1
    request.state = RequestState.SUBMITTED
    request.submitted_at = now
    answers = snapshot(request)
    Submission.objects.create(
        request=request,
        round=request.round,
        answers=answers,
        digest=answers_digest(answers),
        submitted_by=actor,
        submitted_at=now,
    )
    request.save(update_fields=["round", "state", "submitted_at", "updated_at"])
    grant_view(
        request,
        users=list(
            User.objects.filter(stewarded_datasets__requested_in__request=request).distinct()
        ),
    )
    record(
        actor=actor,
        action=action,
        request=request,
        before=before,
        answers_digest=answers_digest(answers),
    )
    notify(template="submitted", request=request, recipients=team_addresses(request))
    from requests_app.tasks import run_checks_task

    request_id, round_number = request.pk, request.round
    transaction.on_commit(lambda: run_checks_task.delay(request_id, round_number))
    return request


def request_submit(*, actor: Any, request_id: int) -> AccessRequest:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="submit")
        return _submit(locked, actor=actor, action="submit")


def request_resubmit(*, actor: Any, request_id: int) -> AccessRequest:
    """A new round: the old answers, votes and checks stay as they were."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="resubmit")
        return _submit(locked, actor=actor, action="resubmit")


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
        recipients=board_addresses(stage.board),
        context={"stage": stage},
    )


def request_route(*, actor: Any, request_id: int) -> AccessRequest:
    """After the checks: open the first board's stage (or go straight to the owners)."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="route")
        request = locked.request
        before = request.state
        stages = [
            ReviewStage.objects.create(
                request=request, board_id=board_id, round=request.round, order=index
            )
            for index, board_id in enumerate(_board_order(request), start=1)
        ]
        request.state = RequestState.IN_REVIEW
        request.save(update_fields=["state", "updated_at"])
        if stages:
            open_stage_now(stages[0])
        else:
            notify(template="owners_decide", request=request, recipients=owner_addresses(request))
        record(
            actor=actor,
            action="route",
            request=request,
            before=before,
            boards=[s.board.name for s in stages],
        )
    return request


def request_amend(*, actor: Any, request_id: int, reason: str = "") -> AccessRequest:
    """Extension or amendment of a permitted request: it goes back to the requester for a new
    round; the permit stays valid until a new one supersedes it."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="amend")
        request = locked.request
        before = request.state
        request.state = RequestState.CHANGES_REQUESTED
        request.requested_datasets.update(decision="pending", decided_by=None, decided_at=None)
        request.save(update_fields=["state", "updated_at"])
        record(actor=actor, action="amend", request=request, before=before, reason=reason[:2000])
    return request


def request_withdraw(*, actor: Any, request_id: int, reason: str = "") -> AccessRequest:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="withdraw")
        request = locked.request
        before = request.state
        open_boards = [
            s.board
            for s in request.stages.filter(
                round=request.round, state=StageState.OPEN
            ).select_related("board")
        ]
        request.stages.filter(
            round=request.round, state__in=[StageState.OPEN, StageState.WAITING]
        ).update(state=StageState.CANCELLED, closed_at=timezone.now())
        request.state = RequestState.WITHDRAWN
        request.decided_at = timezone.now()
        request.save(update_fields=["state", "decided_at", "updated_at"])
        record(actor=actor, action="withdraw", request=request, before=before, reason=reason[:2000])
        for board in open_boards:
            notify(template="withdrawn", request=request, recipients=board_addresses(board))
    return request


def checks_run(*, request_id: int, round_number: int | None = None) -> list[CheckResult]:
    """Run the automated consent and legal checks for the request's current round and store
    their explained results (replacing earlier results of the same round). Then route a freshly
    submitted request to the boards. Safe to run twice."""
    from requests_app.checks import evaluate

    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound(_("No such request."))
        if round_number is not None and round_number != request.round:
            return []  # a newer round superseded this run
        if request.round == 0:
            return []
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
        should_route = request.state == RequestState.SUBMITTED
    if should_route:
        request_route(actor=None, request_id=request_id)
    return results
