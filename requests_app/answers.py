"""The answers of a request, read through its application form (``application_form``): what
submission requires, the snapshot kept per round, the diff between rounds, what is private,
and how answers read in words."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.utils.translation import gettext_lazy as _

from requests_app.application_form import (
    ApplicationForm,
    Question,
    answer_of,
    context_of,
    form_for_request,
    is_shown,
    validation_errors,
)
from requests_app.models import AccessRequest, AttachmentKind, QuestionType

# Attachments of these kinds are private like the private answers (the DPIA itself, and files
# whose content nobody classified); ethics letters and protocols go to every reader.
PRIVATE_ATTACHMENT_KINDS = frozenset({AttachmentKind.DPIA, AttachmentKind.OTHER})


def current_answers(request: AccessRequest, form: ApplicationForm) -> dict[str, Any]:
    """Every question's current answer, by key: what conditions and validation read."""
    return {q.key: answer_of(request, q) for q in form.questions}


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def snapshot(request: AccessRequest, form: ApplicationForm | None = None) -> dict[str, Any]:
    """Every answer as plain JSON, in a stable shape: what the boards review for this round.
    The request's own columns are always kept (the Five Safes shape of earlier rounds); a
    template's further question only while it is shown."""
    form = form or form_for_request(request)
    answers = current_answers(request, form)
    context = context_of(request)
    kept: dict[str, Any] = {}
    for question in form.questions:
        if question.type in (QuestionType.ALGORITHMS,):
            continue
        if not question.is_column and not is_shown(form, question, answers, context):
            continue
        kept[question.key] = _plain(answers[question.key])
    return {
        **kept,
        "organisation": request.organisation.name,
        "team": [{"email": m.email, "role": m.role} for m in request.team.order_by("email")],
        "datasets": sorted(request.datasets.values_list("slug", flat=True)),
        "algorithms": [
            f"{a.name} {a.version} ({a.digest})"
            for a in request.algorithms.order_by("name", "version")
        ],
        "attachments": [
            {"kind": a.kind, "name": a.original_name, "sha256": a.sha256}
            for a in request.attachments.filter(is_current=True).order_by("uploaded_at")
        ],
    }


def answers_digest(answers: dict[str, Any]) -> str:
    canonical = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def diff(
    before: dict[str, Any], after: dict[str, Any], form: ApplicationForm
) -> list[dict[str, Any]]:
    """The answers that changed between two rounds, in the order of ``form`` (the later
    round's form: a question a custodian added shows up as new)."""
    order = [q.key for q in form.questions] + ["organisation", "attachments"]
    keys = order + sorted((set(before) | set(after)) - set(order))
    return [
        {
            "field": key,
            "section": form.section_of(key),
            "before": before.get(key),
            "after": after.get(key),
        }
        for key in keys
        if before.get(key) != after.get(key)
    ]


def redact(
    answers: dict[str, Any], *, can_see_private: bool, private: frozenset[str]
) -> dict[str, Any]:
    """The answers without what is private: ``private`` are the keys the round's form marks
    private, ``visibility`` decides who may see them."""
    if can_see_private:
        return answers
    shown = {k: ("(private)" if k in private else v) for k, v in answers.items()}
    if isinstance(shown.get("attachments"), list):
        shown["attachments"] = [
            a
            for a in shown["attachments"]
            if not (isinstance(a, dict) and a.get("kind") in PRIVATE_ATTACHMENT_KINDS)
        ]
    return shown


def missing_answers(
    request: AccessRequest, form: ApplicationForm | None = None
) -> dict[str, list[str]]:
    """What submission still needs, per question, in words. Empty when the request is complete.
    The form decides: required, "required when", "show when" (hidden: not required) and rules."""
    form = form or form_for_request(request)
    return validation_errors(form, current_answers(request, form), context_of(request))


def missing_by_section(
    errors: dict[str, list[str]], form: ApplicationForm
) -> dict[str, dict[str, list[str]]]:
    grouped: dict[str, dict[str, list[str]]] = {key: {} for key in form.section_keys}
    for field, messages in errors.items():
        grouped.setdefault(form.section_of(field), {})[field] = messages
    return grouped


_EXTRA_LABELS = {
    "attachments": _("Attachments"),
    "organisation": _("Organisation"),
}


def _label(field: str, form: ApplicationForm) -> str:
    question = form.by_key.get(field)
    if question is not None:
        return question.label
    if field in _EXTRA_LABELS:
        return str(_EXTRA_LABELS[field])
    # an answer of an older round may name a question its form no longer has
    return field.replace("_", " ").capitalize()


def dataset_titles(slugs: Any, known: dict[str, str] | None = None) -> dict[str, str]:
    """The titles of the datasets named by ``slugs``; ``known`` (slug → title, e.g. the
    request's own datasets already read) spares the query for those."""
    from catalogue.models import Dataset

    known = known or {}
    titles = {slug: known[slug] for slug in slugs if slug in known}
    missing = [slug for slug in slugs if slug not in known]
    if missing:
        titles.update(Dataset.objects.filter(slug__in=missing).values_list("slug", "title"))
    return titles


def _text(question: Question | None, value: Any, titles: dict[str, str] | None = None) -> str:
    from consent import vocabulary
    from consent.duo_i18n import duo_label

    if value in (None, "", [], {}):
        return "—"
    if value == "(private)":
        return str(_("(private)"))
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    kind = question.type if question else ""
    if kind in (QuestionType.DUO_PURPOSE,) or (
        question is not None and question.choices_from.startswith("duo_")
    ):
        codes = value if isinstance(value, list) else [value]
        return "; ".join(f"{duo_label(c)} ({c})" if vocabulary.is_duo(c) else c for c in codes)
    if question is not None and kind in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE):
        labels = dict(question.choice_list())
        values = value if isinstance(value, list) else [value]
        return "; ".join(str(labels.get(v, v)) for v in values)
    if kind == QuestionType.DATE_RANGE and isinstance(value, dict):
        return f"{value.get('start') or '…'} – {value.get('end') or '…'}"
    if kind == QuestionType.TABLE_ROWS and isinstance(value, list):
        return "; ".join(" | ".join(str(c) for c in row) for row in value)
    if kind == QuestionType.MONDO_DISEASES:
        return "; ".join(
            f"{vocabulary.mondo_label(c)} ({c})" if vocabulary.is_mondo(c) else c for c in value
        )
    if kind == QuestionType.DATASETS and isinstance(value, list):
        # named by title, as people know them (a slug is the machine's name)
        names = dataset_titles(value, titles)
        return "; ".join(names.get(slug, str(slug)) for slug in value)
    if isinstance(value, dict):
        # the file by its name: readers open it from the request's attachments
        return str(value.get("name", ""))
    if isinstance(value, list):
        kinds = dict(AttachmentKind.choices)
        parts = []
        for item in value:
            if isinstance(item, dict) and "kind" in item and "name" in item:
                parts.append(f"{kinds.get(item['kind'], item['kind'])}: {item['name']}")
            elif isinstance(item, dict):
                parts.append(" ".join(str(v) for k, v in item.items() if k != "sha256" and v))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(value)


def display(
    answers: dict[str, Any], form: ApplicationForm, titles: dict[str, str] | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Submitted answers by the form's sections, with labels and readable values (``titles``:
    dataset titles already known, see ``dataset_titles``)."""
    shown: set[str] = set()
    sections = []
    by_key = form.by_key
    for section in form.sections:
        rows = [
            (_label(f, form), _text(by_key.get(f), answers.get(f), titles))
            for f in section.fields
            if f in answers
        ]
        shown.update(section.fields)
        sections.append((section.title, rows))
    rest = [
        (_label(f, form), _text(by_key.get(f), v, titles))
        for f, v in answers.items()
        if f not in shown
    ]
    if rest:
        sections.append((str(_("Other")), rest))
    return sections


def readable_diff(changes: list[dict[str, Any]], form: ApplicationForm) -> list[dict[str, Any]]:
    """``diff`` with each answer's question and values in words (the diff page)."""
    by_key = form.by_key
    return [
        {
            **change,
            "label": _label(change["field"], form),
            "before_text": _text(by_key.get(change["field"]), change["before"]),
            "after_text": _text(by_key.get(change["field"]), change["after"]),
        }
        for change in changes
    ]
