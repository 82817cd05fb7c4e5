"""The boards' review and the owners' decisions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import outbox
from lifes.errors import InvalidInput, InvalidTransition, NotAllowed
from requests_app.errors import Code
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
from requests_app.permissions import may_write_internal_notes, open_stage
from requests_app.services.common import apply, lock_and_authorize
from requests_app.services.submission import open_stage_now
from requests_app.visibility import addresses_seeing_deliberation


def _open_stage_for(request: AccessRequest) -> ReviewStage:
    stage = open_stage(request)
    if stage is None:  # the table allowed the action, so the request is in its boards phase
        raise InvalidTransition(
            _("No board is reviewing this request now."), code=Code.INVALID_STATE
        )
    return (
        ReviewStage.objects.select_for_update(of=("self",)).select_related("board").get(pk=stage.pk)
    )


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
                _("You already declared for this review."), code=Code.ALREADY_DECLARED
            )
        if has_conflict and stage.votes.filter(voter=actor).exists():
            raise InvalidTransition(
                _("You already voted; ask the chair to handle the conflict."),
                code=Code.ALREADY_VOTED,
            )
        declaration = ConflictDeclaration.objects.create(
            stage=stage,
            member=actor,
            has_conflict=has_conflict,
            statement=statement.strip()[:2000],
            declared_at=timezone.now(),
        )
        apply(locked, actor=actor, board=stage.board.name, has_conflict=has_conflict)
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
        # The table refused the recused, the team and whoever has not declared yet.
        stage = _open_stage_for(locked.request)
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
                _("You already voted in this round."), code=Code.ALREADY_VOTED
            ) from None
        apply(locked, actor=actor, board=stage.board.name, choice=choice)
        notify(
            template="vote_cast",
            request=locked.request,
            recipients=chair_addresses(stage.board, locked.request),
            context={"vote": vote, "stage": stage},
        )
    return vote


def comment_add(*, actor: Any, request_id: int, body: str, is_internal: bool = False) -> Comment:
    if not body.strip():
        raise InvalidInput(_("Write a comment."), errors={"body": [_("The comment is empty.")]})
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="comment")
        request = locked.request
        is_board = may_write_internal_notes(locked.roles)
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
        apply(locked, actor=actor, internal=is_internal)
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
                recipients=board_addresses(stage.board, request),
                context={"comment": comment},
            )
    return comment


def counted_votes(stage: ReviewStage) -> list[Any]:
    """The stage's votes that count: those of members who did not declare a conflict (read
    from the stage's prefetched votes and declarations when the page has them)."""
    cache = getattr(stage, "_prefetched_objects_cache", None) or {}
    if "votes" in cache and "declarations" in cache:
        recused = {d.member_id for d in cache["declarations"] if d.has_conflict}
        return [v for v in cache["votes"] if v.voter_id not in recused]
    return list(
        stage.votes.exclude(voter__in=stage.declarations.filter(has_conflict=True).values("member"))
    )


def quorum_outcome(stage: ReviewStage, decision: str | None, votes: list[Any] | None = None) -> str:
    """What the board decided under its quorum rule, or why it cannot close yet. ``votes``:
    the counted votes when the caller has them (``counted_votes``)."""
    board = stage.board
    votes = counted_votes(stage) if votes is None else votes
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
            code=Code.QUORUM_NOT_MET,
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


def refusal_target(request: AccessRequest) -> str:
    """``rejected``, or ``permitted`` for a refused amendment (``services.after``)."""
    from requests_app.services.after import refusal_target as target

    return target(request)


def round_close(
    *, actor: Any, request_id: int, decision: str | None = None, note: str = ""
) -> ReviewStage:
    """The chair closes the open stage: the next board, the owners, changes, or rejection."""
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="close_round")
        request = locked.request
        stage = _open_stage_for(request)
        outcome = quorum_outcome(stage, decision)
        now = timezone.now()
        stage.closed_at, stage.closed_by, stage.decision_note = now, actor, note.strip()[:5000]
        target, fields = None, ()  # approved: the next board or the owners, still in review
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
                request.decided_at = now
                target, fields = refusal_target(request), ("decided_at",)
            else:
                target, fields = RequestState.CHANGES_REQUESTED, ()
        apply(
            locked,
            actor=actor,
            target=target,
            fields=fields,
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
        item = (
            request.requested_datasets.select_for_update(of=("self",))  # not the joined dataset
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
            raise InvalidTransition(
                _("This dataset was already decided."), code=Code.ALREADY_DECIDED
            )
        now = timezone.now()
        item.decision, item.decided_by, item.decided_at = decision, actor, now
        item.conditions, item.reason = conditions.strip()[:5000], reason.strip()[:5000]
        item.save(update_fields=["decision", "decided_by", "decided_at", "conditions", "reason"])
        decisions = list(request.requested_datasets.values_list("decision", flat=True))
        target = None
        if OwnerDecision.PENDING not in decisions:
            is_granted = OwnerDecision.GRANTED in decisions
            target = RequestState.APPROVED if is_granted else refusal_target(request)
            request.decided_at = now
        apply(
            locked,
            actor=actor,
            target=target,
            fields=("decided_at",) if target else (),
            dataset=dataset_slug,
            decision=decision,
            conditions=item.conditions,
            reason=item.reason,
        )
        if target is not None:
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
        if request.state == RequestState.APPROVED:
            _after_approval(request)
    return request


def _after_approval(request: AccessRequest) -> None:
    """The permits app issues the permit (its ``permits.issue`` effect)."""
    outbox.add("permits.issue", key=f"request:{request.pk}", request_id=request.pk)


def request_close(*, actor: Any, request_id: int, reason: str = "") -> AccessRequest:
    with transaction.atomic():
        locked = lock_and_authorize(actor=actor, request_id=request_id, action="close")
        request = locked.request
        apply(locked, actor=actor, target=RequestState.CLOSED, reason=reason[:2000])
        # The permits app ends a permit the request still has.
        outbox.add("permits.close_with_request", key=f"request:{request.pk}", request_id=request.pk)
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
            # Only those who may still vote: not the recused, nor members on the team.
            recipients = addresses_seeing_deliberation(
                stage.request,
                [
                    m.user
                    for m in stage.board.memberships.select_related("user").order_by("pk")
                    if m.user_id not in voted
                ],
            )
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
