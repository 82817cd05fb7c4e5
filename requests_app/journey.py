"""The request as people live it: the timeline in words, what happens next, the quorum a chair
sees before closing, and which wizard sections are really complete.

Reads only. Everything here works on what ``visibility`` already let the viewer see (the
``RequestView`` and its timeline entries), so no new path reaches a vote or a private answer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lifes.errors import DomainError
from requests_app.answers import PRIVATE_ATTACHMENT_KINDS, dataset_titles
from requests_app.models import (
    OwnerDecision,
    RequestState,
    ReviewStage,
    StageState,
    VoteChoice,
)
from requests_app.visibility import RequestView, TimelineEntry

#: The timeline's words for each recorded action (past tense: what happened). An action not
#: named here falls back to its transition's label, then to its name in words.
TIMELINE_LABELS: dict[str, Any] = {
    "create": gettext_lazy("Request created"),
    "edit": gettext_lazy("Answers saved"),
    "team_invite": gettext_lazy("Team member invited"),
    "team_remove": gettext_lazy("Team member removed"),
    "attachment_add": gettext_lazy("File attached"),
    "attachment_remove": gettext_lazy("File removed"),
    "submit": gettext_lazy("Request submitted"),
    "resubmit": gettext_lazy("Request resubmitted"),
    "checks_run": gettext_lazy("Automated checks ran"),
    "route": gettext_lazy("Sent to the review boards"),
    "accept_terms": gettext_lazy("Dataset terms accepted"),
    "comment": gettext_lazy("Comment posted"),
    "declare_conflict": gettext_lazy("Conflict of interest declared"),
    "vote": gettext_lazy("Vote cast"),
    "close_round": gettext_lazy("Board round closed"),
    "decide_dataset": gettext_lazy("Data owner decided"),
    "issue_permit": gettext_lazy("Permit issued"),
    "amend": gettext_lazy("Amendment asked for"),
    "close": gettext_lazy("Request closed"),
    "withdraw": gettext_lazy("Request withdrawn"),
    "reminder": gettext_lazy("Board reminded of its deadline"),
    "redriven": gettext_lazy("Processing resumed"),
    "minimisation_set": gettext_lazy("Data minimisation answered"),
    "team_invitation_use": gettext_lazy("Team member joined by invitation"),
    # the EHDS decision deadline (services/ehds.py, recorded by the system)
    "clock_paused": gettext_lazy("Decision deadline paused"),
    "clock_resumed": gettext_lazy("Decision deadline resumed"),
    "clock_stopped": gettext_lazy("Decision deadline stopped"),
    "clock_reminder": gettext_lazy("Decision deadline reminder sent"),
    "clock_escalation": gettext_lazy("Decision deadline escalated"),
}


@dataclass
class TimelineLine:
    at: Any
    label: str
    actor: str
    detail: str = ""
    state: str = ""  # the state it led to, in words ("" when it stayed)
    count: int = 1  # collapsed autosaves
    until: Any = None  # the last collapsed save
    seqs: list[int] = field(default_factory=list)


def timeline_label(action: str) -> str:
    if action in TIMELINE_LABELS:
        return str(TIMELINE_LABELS[action])
    from requests_app.workflow import BY_ACTION

    if action in BY_ACTION:
        return str(BY_ACTION[action].label)
    return action.replace("_", " ").capitalize()


def _detail(entry: TimelineEntry, titles: dict[str, str], *, can_see_private: bool) -> str:
    """The payload in words: datasets by title, outcomes and decisions by label."""
    payload = entry.payload
    if entry.action == "decide_dataset":
        dataset = titles.get(payload.get("dataset", ""), payload.get("dataset", ""))
        decision = dict(OwnerDecision.choices).get(payload.get("decision", ""), "")
        return f"{dataset}: {decision}" if decision else str(dataset)
    if entry.action == "close_round":
        outcome = dict(VoteChoice.choices).get(payload.get("outcome", ""), "")
        board = payload.get("board", "")
        return f"{board}: {outcome}" if outcome else str(board)
    if entry.action in ("edit", "create") and payload.get("datasets"):
        return _("Datasets: %(titles)s") % {
            "titles": ", ".join(titles.get(s, s) for s in payload["datasets"])
        }
    if entry.action in ("attachment_add", "attachment_remove"):
        # a private file (DPIA, other) is named only to those who may open it
        if payload.get("kind") in PRIVATE_ATTACHMENT_KINDS and not can_see_private:
            return ""
        return str(payload.get("name", ""))
    return ""


def timeline_lines(
    entries: list[TimelineEntry],
    *,
    can_see_private: bool = False,
    titles: dict[str, str] | None = None,
) -> list[TimelineLine]:
    """The timeline in words, with a person's run of saves collapsed into one line (autosave
    writes one event per change; people think of it as one editing session). The entries are
    already what the viewer may read (``RequestView.timeline``); ``can_see_private`` (the
    viewer's sight of private answers) decides whether private files are named."""
    slugs = {
        s
        for e in entries
        for s in [e.payload.get("dataset"), *(e.payload.get("datasets") or [])]
        if isinstance(s, str)
    }
    titles = dataset_titles(sorted(slugs), titles)  # ``titles``: those already read
    states = dict(RequestState.choices)
    lines: list[TimelineLine] = []
    for entry in entries:
        previous = lines[-1] if lines else None
        if (
            entry.action == "edit"
            and previous is not None
            and previous.seqs
            and previous.label == timeline_label("edit")
            and previous.actor == entry.actor
        ):
            previous.count += 1
            previous.until = entry.at
            previous.seqs.append(entry.seq)
            if entry.payload.get("datasets"):
                previous.detail = _detail(entry, titles, can_see_private=can_see_private)
            continue
        to = entry.payload.get("to")
        moved = to and entry.payload.get("from") != to
        lines.append(
            TimelineLine(
                at=entry.at,
                label=timeline_label(entry.action),
                # the audit log's label for what the hub did by itself, in the reader's words
                actor=_("system") if entry.actor == "system" else entry.actor,
                detail=_detail(entry, titles, can_see_private=can_see_private),
                state=str(states.get(to, to)) if moved else "",
                seqs=[entry.seq] if entry.action == "edit" else [],
            )
        )
    return lines


@dataclass(frozen=True)
class NextStep:
    """One stage of the journey: where the request is, and who it waits for."""

    label: str
    status: str  # "done", "current", "later", "skipped"
    waiting_for: str = ""
    deadline: Any = None


def next_steps(view: RequestView) -> list[NextStep]:
    """The stages of the request from the requester's side, with who it waits for now: a role
    or a board, never a person's name or vote."""
    request = view.request
    state = request.state
    stages = [s.stage for s in view.stages if s.stage.round == request.round] or []
    pending_owners = [
        d.dataset.title for d in view.decisions if d.decision == OwnerDecision.PENDING
    ]
    boards_done = bool(stages) and all(s.state == StageState.APPROVED for s in stages)
    after = state in (RequestState.APPROVED, RequestState.PERMITTED, RequestState.CLOSED)
    steps: list[NextStep] = []
    # 1. the requester prepares and submits
    if state == RequestState.DRAFT:
        steps.append(
            NextStep(_("Prepare and submit"), "current", _("you: finish the answers and submit"))
        )
    elif state == RequestState.CHANGES_REQUESTED:
        steps.append(
            NextStep(
                _("Make the requested changes"),
                "current",
                _("you: change the answers and resubmit (a new round)"),
            )
        )
    else:
        steps.append(NextStep(_("Prepare and submit"), "done"))
    # 2. the automated checks
    if state == RequestState.SUBMITTED:
        steps.append(
            NextStep(_("Automated consent and legal checks"), "current", _("the hub's checks"))
        )
    else:
        steps.append(
            NextStep(
                _("Automated consent and legal checks"),
                "later" if state == RequestState.DRAFT else "done",
            )
        )
    # 3. each board of the round, in order
    for stage in stages:
        status = {
            StageState.OPEN: "current",
            StageState.WAITING: "later",
            StageState.CANCELLED: "skipped",
        }.get(stage.state, "done")
        waiting = ""
        if status == "current":
            waiting = _(
                "the members of %(board)s (they declare conflicts and vote; the chair closes "
                "the round)"
            ) % {"board": stage.board.name}
        label = _("Review by %(board)s") % {"board": stage.board.name}
        if status == "done":
            label += f" — {stage.get_state_display()}"
        steps.append(
            NextStep(label, status, waiting, stage.deadline if status == "current" else None)
        )
    if not stages:
        steps.append(
            NextStep(
                _("Review by the boards"),
                "skipped" if state in (RequestState.WITHDRAWN,) else "later",
            )
        )
    # 4. the data owners
    owners_now = state == RequestState.IN_REVIEW and boards_done and pending_owners
    steps.append(
        NextStep(
            _("Decision of the data owners"),
            "current" if owners_now else "done" if after else "later",
            _("the owners of %(datasets)s") % {"datasets": ", ".join(pending_owners)}
            if owners_now
            else "",
        )
    )
    # 5. the permit
    steps.append(
        NextStep(
            _("Permit issued"),
            "current"
            if state == RequestState.APPROVED
            else "done"
            if state in (RequestState.PERMITTED, RequestState.CLOSED)
            else "later",
            _("the hub issues the permit") if state == RequestState.APPROVED else "",
        )
    )
    if state in (RequestState.REJECTED, RequestState.WITHDRAWN):
        steps = [
            NextStep(s.label, "skipped") if s.status in ("current", "later") else s for s in steps
        ]
    return steps


@dataclass(frozen=True)
class QuorumPreview:
    """What closing the round would decide now, for the chair to see before confirming."""

    votes: int
    needed: int
    tally: list[tuple[str, int]]  # (label, count) for every choice
    outcome: str  # the label of the outcome, or ""
    problem: str  # why it cannot close yet, or ""
    chair_decides: bool


def quorum_preview(stage: ReviewStage | None) -> QuorumPreview | None:
    """The tally and outcome under the board's rule, computed by the same function the close
    uses (``quorum_outcome``), so what the chair reads is what the close will do."""
    from requests_app.models import QuorumRule
    from requests_app.services.review import counted_votes, quorum_outcome

    if stage is None:
        return None
    votes = counted_votes(stage)
    counts = Counter(v.choice for v in votes)
    chair_decides = stage.board.quorum_rule == QuorumRule.CHAIR
    outcome, problem = "", ""
    if not chair_decides:
        try:
            outcome = str(dict(VoteChoice.choices)[quorum_outcome(stage, None, votes)])
        except DomainError as exc:
            problem = str(exc.message)
    return QuorumPreview(
        votes=sum(counts.values()),
        needed=stage.board.min_votes,
        tally=[(str(label), counts.get(value, 0)) for value, label in VoteChoice.choices],
        outcome=outcome,
        problem=problem,
        chair_decides=chair_decides,
    )


def saved_keys(request: Any) -> set[str]:
    """The questions the person has saved at least once (from the request's own audit events):
    a section prefilled for them (the PI is the requester) is not one they have checked."""
    from audit.selectors import events_for_object

    keys: set[str] = set()
    events = events_for_object(request).filter(
        action__in=["request.edit", "request.team_invite", "request.attachment_add"]
    )
    for action, payload in events.values_list("action", "payload"):
        payload = payload or {}
        if action == "request.edit":
            keys.update(payload.get("fields") or [])
            if "datasets" in payload:
                keys.add("datasets")
            if "algorithms" in payload:
                keys.add("algorithms")
        elif action == "request.team_invite":
            keys.add("team")
        else:
            keys.add("attachments")
    return keys


def complete_sections(
    section_keys: list[str], missing: dict[str, dict], saved: set[str], form: Any
) -> set[str]:
    """Sections to mark complete: nothing missing *and* saved by the person at least once. A
    section nothing is required in, or one prefilled for them, is not "complete" before they
    have been there."""
    from requests_app.models import QuestionType

    done = set()
    for key in section_keys:
        if missing.get(key):
            continue
        section = form.section(key)
        keys = {q.key for q in section.questions} if section else set()
        if section and any(q.type == QuestionType.ATTACHMENT for q in section.questions):
            keys.add("attachments")
        if keys & saved:
            done.add(key)
    return done


@dataclass(frozen=True)
class SummarySection:
    key: str  # "" for answers no section holds (no link back)
    title: str
    rows: list[tuple[str, str]]
    missing: bool = False


def answer_summary(answers: dict[str, Any], form: Any) -> list[SummarySection]:
    """Every answer of the draft by section, in words, for the "check and submit" page (each
    section links back to its wizard step). Uses the same display as the submitted round."""
    from requests_app.answers import display

    shown = display(answers, form)
    keys = form.section_keys
    summary = []
    for index, (title, rows) in enumerate(shown):
        key = keys[index] if index < len(keys) else ""
        summary.append(SummarySection(key=key, title=str(title), rows=rows))
    return summary


def decision_letter_available(request: Any, stages: list[ReviewStage] | None = None) -> bool:
    """A letter exists once a board requested changes or refused, or the request was refused
    (by a board or by every data owner). ``stages``: the request's stages when already loaded."""
    against = (StageState.CHANGES_REQUESTED, StageState.REJECTED)
    if request.state == RequestState.REJECTED:
        return True
    if stages is not None:
        return any(stage.state in against for stage in stages)
    return request.stages.filter(state__in=against).exists()
