"""A request as CSV: the rows of one person's ``RequestView``, nothing read around it."""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from requests_app.visibility import RequestView

HEADER = ("part", "item", "value", "detail")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """Text people typed must not run as a spreadsheet formula when the file is opened."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_rows(view: RequestView) -> list[tuple[str, str, str, str]]:
    request = view.request
    rows: list[tuple[str, str, str, str]] = [
        ("view", "prepared for", view.viewer_label, view.sight.describe()),
        ("request", "reference", request.reference, ""),
        ("request", "state", request.state, f"round {request.round}"),
    ]
    latest = view.latest
    if latest is not None:
        for section, answers in latest.sections:
            for label, value in answers:
                rows.append(("answer", label, value, section))
    for attachment in view.attachments:
        rows.append(("attachment", attachment.kind, attachment.original_name, attachment.sha256))
    if view.team is not None:
        for member in view.team:
            rows.append(("team", member.email, member.role, ""))
    for item in view.stages:
        stage = item.stage
        rows.append(
            (
                "board decision",
                f"{stage.board.name} (round {stage.round})",
                stage.state,
                stage.decision_note,
            )
        )
        for vote in item.votes or []:
            rows.append(("vote", vote.voter.email, vote.choice, vote.comment))
        for declaration in item.declarations or []:
            rows.append(
                (
                    "conflict declaration",
                    declaration.member.email,
                    "conflict" if declaration.has_conflict else "no conflict",
                    declaration.statement,
                )
            )
    for decision in view.decisions:
        rows.append(
            (
                "owner decision",
                decision.dataset.slug,
                decision.decision,
                decision.reason or decision.conditions,
            )
        )
    for comment in view.comments:
        rows.append(
            (
                "internal note" if comment.is_internal else "comment",
                comment.author.email,
                comment.body,
                comment.created_at.isoformat(),
            )
        )
    return rows


def csv_text(view: RequestView) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in csv_rows(view):
        writer.writerow([_cell(cell) for cell in row])
    return out.getvalue()


def csv_filename(view: RequestView) -> str:
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return f"{view.request.reference}-{stamp}.csv"
