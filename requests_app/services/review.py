"""The boards' review and the owners' decisions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lifes.errors import InvalidInput, InvalidTransition, NotAllowed
from requests_app.models import (
    AccessRequest,
    Comment,
    ConflictDeclaration,
    OwnerDecision,
    QuorumRule,
    RequestState,
    ReviewStage,
    StageState,
    Vote,
    VoteChoice,
)
from requests_app.notifications import (
    board_addresses,
    chair_addresses,
    notify,
    owner_addresses,
    team_addresses,
)
from requests_app.permissions import is_recused, open_stage
from requests_app.services.common import lock_and_authorize, record
from requests_app.services.submission import open_stage_now
from requests_app.workflow import Role


def _open_stage_for(request: AccessRequest) -> ReviewStage:
    stage = open_stage(request)
    if stage is None:  # the table allowed the action, so the request is in its boards phase
        raise InvalidTransition(_("No board is reviewing this request now."), code="invalid_state")
    return ReviewStage.objects.select_for_update().select_related("board").get(pk=stage.pk)


def conflict_declare(
    *, actor: Any, request_id: int, has_conflict: bool, statement: str = ""
) -> ConflictDeclaration:
    """Declare once per stage. A conflict recuses the member: no vote, no private answers."""
    if has_conflict and not statement.strip():
        raise InvalidInput(
            _("Say what the conflict is."),
            errors={"statement": [_("Describe the conflict of interest.")]},
        )
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="declare_conflict")
        stage = _open_stage_for(locked.request)
        if stage.declarations.filter(member=actor).exists():
            raise InvalidTransition(
                _("You already declared for this review."), code="already_declared"
            )
        if has_conflict and stage.votes.filter(voter=actor).exists():
            raise InvalidTransition(
                _("You already voted; ask the chair to handle the conflict."), code="already_voted"
            )
        declaration = ConflictDeclaration.objects.create(
            stage=stage,
            member=actor,
            has_conflict=has_conflict,
            statement=statement.strip()[:2000],
            declared_at=timezone.now(),
        )
        record(
            actor=actor,
            action="conflict_declare",
            request=locked.request,
            before=locked.request.state,
            board=stage.board.name,
            has_conflict=has_conflict,
        )
    return declaration


def vote_cast(*, actor: Any, request_id: int, choice: str, comment: str = "") -> Vote:
    if choice not in VoteChoice.values:
        raise InvalidInput(
            _("Choose approve, reject or request changes."),
            errors={"choice": [_("'%(choice)s' is not a valid vote.") % {"choice": choice}]},
        )
    if choice != VoteChoice.APPROVE and not comment.strip():
        raise InvalidInput(
            _("Explain a rejection or a request for changes."),
            errors={"comment": [_("Say why, so the requester can act on it.")]},
        )
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="vote")
        stage = _open_stage_for(locked.request)
        if is_recused(actor, stage):
            raise NotAllowed(
                _(
                    "You declared a conflict of interest on this request and are "
                    "recused from voting."
                ),
                code="recused",
            )
        try:
            with transaction.atomic():
                vote = Vote.objects.create(
                    stage=stage,
                    voter=actor,
                    choice=choice,
                    comment=comment.strip()[:5000],
                    cast_at=timezone.now(),
                )
        except IntegrityError:
            raise InvalidTransition(
                _("You already voted in this round."), code="already_voted"
            ) from None
        record(
            actor=actor,
            action="vote",
            request=locked.request,
            before=locked.request.state,
            board=stage.board.name,
            choice=choice,
        )
        notify(
            template="vote_cast",
            request=locked.request,
            recipients=chair_addresses(stage.board),
            context={"vote": vote, "stage": stage},
        )
    return vote


def comment_add(*, actor: Any, request_id: int, body: str, is_internal: bool = False) -> Comment:
    if not body.strip():
        raise InvalidInput(_("Write a comment."), errors={"body": [_("The comment is empty.")]})
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="comment")
        request = locked.request
        is_board = bool(locked.roles & {Role.MEMBER, Role.CHAIR})
        if is_internal and not is_board:
            raise NotAllowed(_("Only board members can write internal notes."))
        comment = Comment.objects.create(
            request=request,
            author=actor,
            body=body.strip()[:5000],
            round=request.round,
            is_internal=is_internal,
            created_at=timezone.now(),
        )
        record(
            actor=actor,
            action="comment",
            request=request,
            before=request.state,
            internal=is_internal,
        )
        stage = open_stage(request)
        if is_board and not is_internal:
            notify(
                template="comment",
                request=request,
                recipients=team_addresses(request),
                context={"comment": comment},
            )
        elif not is_board and stage is not None:
            notify(
                template="comment",
                request=request,
                recipients=board_addresses(stage.board),
                context={"comment": comment},
            )
    return comment


def quorum_outcome(stage: ReviewStage, decision: str | None) -> str:
    """What the board decided under its quorum rule, or why it cannot close yet."""
    board = stage.board
    votes = list(
        stage.votes.exclude(voter__in=stage.declarations.filter(has_conflict=True).values("member"))
    )
    if board.quorum_rule == QuorumRule.CHAIR:
        if decision not in VoteChoice.values:
            raise InvalidInput(
                _("The chair decides for this board: choose the decision."),
                errors={"decision": [_("Choose approve, reject or request changes.")]},
            )
        return decision
    if len(votes) < board.min_votes:
        raise InvalidTransition(
            _("The quorum is not met: %(votes)d of %(needed)d votes.")
            % {"votes": len(votes), "needed": board.min_votes},
            code="quorum_not_met",
        )
    tally = Counter(v.choice for v in votes)
    if board.quorum_rule == QuorumRule.THRESHOLD:
        if tally[VoteChoice.APPROVE] * 100 >= board.approval_threshold * len(votes):
            outcome = VoteChoice.APPROVE
        elif tally[VoteChoice.REJECT] > tally[VoteChoice.REQUEST_CHANGES]:
            outcome = VoteChoice.REJECT
        else:
            outcome = VoteChoice.REQUEST_CHANGES
    else:
        # Majority; without one, the safer outcome: the requester is asked for changes.
        top, count = tally.most_common(1)[0]
        outcome = top if count * 2 > len(votes) else VoteChoice.REQUEST_CHANGES
    if decision and decision != outcome:
        raise InvalidInput(
            _("The votes decide this board's outcome."),
            errors={"decision": [_("The votes say '%(outcome)s'.") % {"outcome": outcome}]},
        )
    return outcome


def round_close(
    *, actor: Any, request_id: int, decision: str | None = None, note: str = ""
) -> ReviewStage:
    """The chair closes the open stage: the next board, the owners, changes, or rejection."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="close_round")
        request = locked.request
        before = request.state
        stage = _open_stage_for(request)
        outcome = quorum_outcome(stage, decision)
        now = timezone.now()
        stage.closed_at, stage.closed_by, stage.decision_note = now, actor, note.strip()[:5000]
        if outcome == VoteChoice.APPROVE:
            stage.state = StageState.APPROVED
            stage.save(update_fields=["state", "closed_at", "closed_by", "decision_note"])
            following = (
                request.stages.filter(round=request.round, state=StageState.WAITING)
                .select_related("board")
                .order_by("order")
                .first()
            )
            if following is not None:
                open_stage_now(following)
            else:
                notify(
                    template="owners_decide", request=request, recipients=owner_addresses(request)
                )
        else:
            stage.state = (
                StageState.REJECTED
                if outcome == VoteChoice.REJECT
                else StageState.CHANGES_REQUESTED
            )
            stage.save(update_fields=["state", "closed_at", "closed_by", "decision_note"])
            request.stages.filter(round=request.round, state=StageState.WAITING).update(
                state=StageState.CANCELLED, closed_at=now
            )
            if outcome == VoteChoice.REJECT:
                request.state, request.decided_at = RequestState.REJECTED, now
                request.save(update_fields=["state", "decided_at", "updated_at"])
            else:
                request.state = RequestState.CHANGES_REQUESTED
                request.save(update_fields=["state", "updated_at"])
        record(
            actor=actor,
            action="close_round",
            request=request,
            before=before,
            board=stage.board.name,
            outcome=outcome,
            note=stage.decision_note,
        )
        notify(
            template="round_closed",
            request=request,
            recipients=team_addresses(request),
            context={"stage": stage, "outcome": outcome},
        )
    return stage


def dataset_decide(
    *,
    actor: Any,
    request_id: int,
    dataset_slug: str,
    decision: str,
    conditions: str = "",
    reason: str = "",
) -> AccessRequest:
    """An owner grants or refuses one dataset. When every owner has decided, the request is
    approved (at least one dataset granted) or rejected (none)."""
    if decision not in (OwnerDecision.GRANTED, OwnerDecision.REFUSED):
        raise InvalidInput(
            _("Grant or refuse."), errors={"decision": [_("Choose grant or refuse.")]}
        )
    if decision == OwnerDecision.REFUSED and not reason.strip():
        raise InvalidInput(
            _("Tell the requester why."), errors={"reason": [_("A refusal needs a reason.")]}
        )
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="decide_dataset")
        request = locked.request
        before = request.state
        item = (
            request.requested_datasets.select_for_update()
            .select_related("dataset")
            .filter(dataset__slug=dataset_slug)
            .first()
        )
        if item is None:
            raise InvalidInput(
                _("That dataset is not part of this request."),
                errors={
                    "dataset": [_("'%(dataset)s' is not requested.") % {"dataset": dataset_slug}]
                },
            )
        if not item.dataset.stewards.filter(pk=actor.pk).exists():
            raise NotAllowed(_("Only the dataset's owner can decide on it."))
        if item.decision != OwnerDecision.PENDING:
            raise InvalidTransition(_("This dataset was already decided."), code="already_decided")
        now = timezone.now()
        item.decision, item.decided_by, item.decided_at = decision, actor, now
        item.conditions, item.reason = conditions.strip()[:5000], reason.strip()[:5000]
        item.save(update_fields=["decision", "decided_by", "decided_at", "conditions", "reason"])
        decisions = list(request.requested_datasets.values_list("decision", flat=True))
        if OwnerDecision.PENDING not in decisions:
            is_granted = OwnerDecision.GRANTED in decisions
            request.state = RequestState.APPROVED if is_granted else RequestState.REJECTED
            request.decided_at = now
            request.save(update_fields=["state", "decided_at", "updated_at"])
            refused = list(
                request.requested_datasets.filter(decision=OwnerDecision.REFUSED).select_related(
                    "dataset"
                )
            )
            notify(
                template="decided",
                request=request,
                recipients=team_addresses(request),
                context={"refused": refused},
            )
        record(
            actor=actor,
            action="decide_dataset",
            request=request,
            before=before,
            dataset=dataset_slug,
            decision=decision,
            conditions=item.conditions,
            reason=item.reason,
        )
    if request.state == RequestState.APPROVED:
        _after_approval(request)
    return request


def _after_approval(request: AccessRequest) -> None:
    """Hook for the permits app (it connects to this signal and issues the permit)."""
    from requests_app.signals import request_approved

    transaction.on_commit(
        lambda: request_approved.send(sender=AccessRequest, request_id=request.pk)
    )


def request_close(*, actor: Any, request_id: int, reason: str = "") -> AccessRequest:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="close")
        request = locked.request
        before = request.state
        request.state = RequestState.CLOSED
        request.save(update_fields=["state", "updated_at"])
        record(actor=actor, action="close", request=request, before=before, reason=reason[:2000])
        from requests_app.signals import request_closed

        # The permits app ends a permit the request still has (it connects to this signal).
        transaction.on_commit(
            lambda: request_closed.send(sender=AccessRequest, request_id=request.pk)
        )
    return request


def stage_reminders_send(*, batch_size: int = 200) -> int:
    """Remind, once per stage, the members who have not voted when its deadline is near.

    Each stage is its own transaction; the row lock and the ``reminded_at`` filter make a second
    run (or a second beat) skip stages already reminded.
    """
    from audit.services import audit_record

    now = timezone.now()
    sent = 0
    due = (
        ReviewStage.objects.filter(
            state=StageState.OPEN, reminded_at__isnull=True, deadline__isnull=False
        )
        .select_related("board", "request")
        .order_by("deadline")[:batch_size]
    )
    for stage in due:
        if stage.deadline - timezone.timedelta(days=stage.board.reminder_days) > now:
            continue
        with transaction.atomic():
            locked = (
                ReviewStage.objects.select_for_update()
                .filter(pk=stage.pk, reminded_at__isnull=True)
                .first()
            )
            if locked is None:
                continue  # another run reminded them already
            voted = set(stage.votes.values_list("voter_id", flat=True))
            recipients = [
                m.user.email
                for m in stage.board.memberships.select_related("user")
                if m.user_id not in voted
            ]
            locked.reminded_at = now
            locked.save(update_fields=["reminded_at"])
            audit_record(
                actor=None,
                action="request.reminder",
                target=stage.request,
                payload={
                    "reference": stage.request.reference,
                    "board": stage.board.name,
                    "deadline": stage.deadline.isoformat(),
                    "recipients": len(recipients),
                },
            )
            notify(
                template="reminder",
                request=stage.request,
                recipients=recipients,
                context={"stage": stage},
            )
            sent += 1
    return sent
