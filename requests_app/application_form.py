"""The application form a request answers: its templates merged, and what follows from them.

Every reader of the questions goes through here: the wizard (``forms.section_form``), the API's
answers serializer and its schema, the drafting service (which keys may be written), validation
on submit (``answers.missing_answers``), the snapshot per round, the diff and the dossier.

The form of a request is the default template (the Five Safes form) plus the template each
custodian attached to one of the requested datasets, merged: a section key shared by several
templates is one section, and a question key shared by several templates is asked once (required
if any template requires it, private if any template keeps it private, the shortest length
limit, every template's choices, and shown unconditionally if any template asks it
unconditionally). Templates merge in the order default first, then by key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from requests_app.form_models import FormTemplate, QuestionType
from requests_app.models import AccessRequest, AttachmentKind, Submission

# Questions answered through their own endpoints or relations, never through ``changes``.
RELATION_TYPES = frozenset(
    {QuestionType.DATASETS, QuestionType.ALGORITHMS, QuestionType.TEAM, QuestionType.ATTACHMENT}
)
# The request's own columns that hold answers: a question with one of these keys stores there.
ANSWER_COLUMNS = frozenset(
    f.name
    for f in AccessRequest._meta.concrete_fields
    if f.name
    not in {
        "id",
        "reference",
        "state",
        "round",
        "requester",
        "organisation",
        "extra_answers",
        "created_at",
        "updated_at",
        "submitted_at",
        "decided_at",
    }
)


def _localized(english: str, dutch: str) -> str:
    """The Dutch text for Dutch readers when the template has one; else the English text,
    through the translation catalogue (the default template's texts are msgids there)."""
    if (get_language() or "").startswith("nl") and dutch:
        return dutch
    return _(english) if english else ""


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    section: str
    label_en: str
    label_nl: str = ""
    help_en: str = ""
    help_nl: str = ""
    required: bool = False
    required_when: dict | None = None
    show_when: dict | None = None
    required_message_en: str = ""
    required_message_nl: str = ""
    is_private: bool = False
    max_length: int | None = None
    choices: tuple = ()
    choices_from: str = ""
    columns: tuple = ()
    attachment_kind: str = ""
    rules: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return _localized(self.label_en, self.label_nl)

    @property
    def help(self) -> str:
        return _localized(self.help_en, self.help_nl)

    @property
    def required_message(self) -> str:
        if self.required_message_en:
            return _localized(self.required_message_en, self.required_message_nl)
        return _("Answer “%(question)s”.") % {"question": self.label}

    @property
    def show_when_text(self) -> str:
        return describe_condition(self.show_when)

    @property
    def is_column(self) -> bool:
        return self.key in ANSWER_COLUMNS

    @property
    def is_writable(self) -> bool:
        return self.type not in RELATION_TYPES

    def choice_list(self) -> list[tuple[str, str]]:
        """(value, label) pairs: the template's own, or a vocabulary's."""
        if self.choices_from:
            return vocabulary_choices(self.choices_from)
        pairs = []
        for item in self.choices:
            if isinstance(item, (list, tuple)):
                value = str(item[0])
                english = str(item[1]) if len(item) > 1 else value
                dutch = str(item[2]) if len(item) > 2 else ""
                pairs.append((value, _localized(english, dutch)))
            else:
                pairs.append((str(item), str(item)))
        return pairs


def vocabulary_choices(name: str) -> list[tuple[str, str]]:
    from consent import vocabulary
    from consent.duo import PRIMARY_PURPOSES, RESEARCH_TYPES_IN_ORDER
    from consent.legal import EhdsCategory, GdprArt6Basis, GdprArt9Basis

    def duo(codes: Iterable[str], *, is_ordered: bool = False) -> list[tuple[str, str]]:
        pairs = []
        # A set has no order of its own: sort it, so the checkboxes never move between runs.
        for code in codes if is_ordered else sorted(codes):
            term = vocabulary.duo_term(code)
            short = f"{term.shorthand}, " if term.shorthand else ""
            pairs.append((code, f"{_(term.label)} ({short}{code})"))  # consent/duo_i18n
        return pairs

    sources = {
        "ehds_category": lambda: list(EhdsCategory.choices),
        "gdpr_art6": lambda: list(GdprArt6Basis.choices),
        "gdpr_art9": lambda: list(GdprArt9Basis.choices),
        "duo_purpose": lambda: duo(PRIMARY_PURPOSES),
        "duo_research_types": lambda: duo(RESEARCH_TYPES_IN_ORDER, is_ordered=True),
    }
    if name not in sources:
        raise KeyError(f"Unknown vocabulary '{name}'.")
    return [(str(v), str(label)) for v, label in sources[name]()]


VOCABULARIES = ("ehds_category", "gdpr_art6", "gdpr_art9", "duo_purpose", "duo_research_types")


@dataclass(frozen=True)
class Section:
    key: str
    title_en: str
    title_nl: str
    intro_en: str
    intro_nl: str
    questions: tuple[Question, ...]

    @property
    def title(self) -> str:
        return _localized(self.title_en, self.title_nl)

    @property
    def intro(self) -> str:
        return _localized(self.intro_en, self.intro_nl)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.questions)


@dataclass(frozen=True)
class ApplicationForm:
    sections: tuple[Section, ...]
    templates: tuple[tuple[int, str, int], ...]  # (pk, key, version) of each merged template

    @property
    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    @property
    def by_key(self) -> dict[str, Question]:
        return {q.key: q for q in self.questions}

    @property
    def section_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections)

    @property
    def private_keys(self) -> frozenset[str]:
        return frozenset(q.key for q in self.questions if q.is_private)

    @property
    def writable_keys(self) -> frozenset[str]:
        return frozenset(q.key for q in self.questions if q.is_writable)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def section_of(self, key: str) -> str:
        for section in self.sections:
            if key in section.fields:
                return section.key
        return self.sections[0].key if self.sections else "project"


# --- building a form from templates ---------------------------------------------------------


def _question(row: Any, section_key: str) -> Question:
    return Question(
        key=row.key,
        type=row.type,
        section=section_key,
        label_en=row.label_en,
        label_nl=row.label_nl,
        help_en=row.help_en,
        help_nl=row.help_nl,
        required=row.required,
        required_when=row.required_when or None,
        show_when=row.show_when or None,
        required_message_en=row.required_message_en,
        required_message_nl=row.required_message_nl,
        is_private=row.is_private,
        max_length=row.max_length,
        choices=tuple(tuple(c) if isinstance(c, list) else c for c in row.choices or ()),
        choices_from=row.choices_from,
        columns=tuple(row.columns or ()),
        attachment_kind=row.attachment_kind,
        rules=dict(row.rules or {}),
    )


def _merge_question(first: Question, other: Question) -> Question:
    limits = [n for n in (first.max_length, other.max_length) if n]
    values = {str(c[0]) if isinstance(c, tuple) else str(c) for c in first.choices}
    choices = first.choices + tuple(
        c for c in other.choices if (str(c[0]) if isinstance(c, tuple) else str(c)) not in values
    )
    return replace(
        first,
        choices=choices,  # every custodian's options
        required=first.required or other.required,
        required_when=first.required_when if not first.required else None,
        is_private=first.is_private or other.is_private,
        max_length=min(limits) if limits else None,
        show_when=None if first.show_when is None or other.show_when is None else first.show_when,
    )


def merge(templates: Iterable[FormTemplate]) -> ApplicationForm:
    """One form from several templates, each question asked once (module docstring)."""
    ordered = sorted(templates, key=lambda t: (not t.is_default, t.key, t.version))
    sections: dict[str, dict[str, Any]] = {}
    placed: dict[str, str] = {}  # question key → section key it is asked in
    for template in ordered:
        rows = sorted(template.sections.all(), key=lambda s: (s.order, s.pk))
        questions = sorted(template.questions.all(), key=lambda q: (q.order, q.pk))
        for row in rows:
            entry = sections.setdefault(
                row.key,
                {
                    "key": row.key,
                    "title_en": row.title_en,
                    "title_nl": row.title_nl,
                    "intro_en": row.intro_en,
                    "intro_nl": row.intro_nl,
                    "questions": {},
                },
            )
            for q in questions:
                if q.section_id != row.pk:
                    continue
                question = _question(q, row.key)
                if q.key in placed:
                    home = sections[placed[q.key]]["questions"]
                    home[q.key] = _merge_question(home[q.key], question)
                else:
                    entry["questions"][q.key] = question
                    placed[q.key] = row.key
    return ApplicationForm(
        sections=tuple(
            Section(
                key=s["key"],
                title_en=s["title_en"],
                title_nl=s["title_nl"],
                intro_en=s["intro_en"],
                intro_nl=s["intro_nl"],
                questions=tuple(s["questions"].values()),
            )
            for s in sections.values()
        ),
        templates=tuple((t.pk, t.key, t.version) for t in ordered),
    )


def _with_content(queryset: Any) -> Any:
    return queryset.prefetch_related("sections", "questions")


def latest_versions(queryset: Any) -> list[FormTemplate]:
    """The newest version of each template key in ``queryset``."""
    keys = set(queryset.values_list("key", flat=True))
    latest = []
    for key in sorted(keys):
        newest = _with_content(FormTemplate.objects.filter(key=key)).order_by("-version").first()
        if newest is not None:
            latest.append(newest)
    return latest


def current_templates(datasets: Iterable[Any] = ()) -> list[FormTemplate]:
    """The default template and those attached to ``datasets``, each at its newest version."""
    templates = latest_versions(FormTemplate.objects.filter(is_default=True))
    ids = [d.pk for d in datasets]
    if ids:
        templates += [
            t
            for t in latest_versions(FormTemplate.objects.filter(datasets__in=ids))
            if not t.is_default
        ]
    return templates


def form_for_request(request: AccessRequest) -> ApplicationForm:
    """The form a request answers now (drafts and the wizard)."""
    return merge(current_templates(request.datasets.all()))


def form_for_submission(submission: Submission) -> ApplicationForm:
    """The form a round answered: the exact template versions it used."""
    cache = getattr(submission, "_prefetched_objects_cache", None) or {}
    if "templates" in cache:  # the request page read them with their sections and questions
        used = list(cache["templates"])
    else:
        used = list(_with_content(submission.templates.all()))
    return merge(used) if used else merge(current_templates())


# --- answers and conditions -----------------------------------------------------------------


def is_empty(value: Any) -> bool:
    return value in (None, "", [], {}) or (
        isinstance(value, dict) and not any(v not in (None, "") for v in value.values())
    )


def answer_of(request: AccessRequest, question: Question) -> Any:
    """The current answer to one question (the attachment question: its current file)."""
    if question.type == QuestionType.DATASETS:
        return sorted(request.datasets.values_list("slug", flat=True))
    if question.type == QuestionType.ALGORITHMS:
        return [f"{a.name} {a.version}" for a in request.algorithms.order_by("name", "version")]
    if question.type == QuestionType.TEAM:
        return [{"email": m.email, "role": m.role} for m in request.team.order_by("email")]
    if question.type == QuestionType.ATTACHMENT:
        kind = question.attachment_kind or AttachmentKind.OTHER
        letter = (
            request.attachments.filter(kind=kind, is_current=True).order_by("-uploaded_at").first()
        )
        return {"name": letter.original_name, "sha256": letter.sha256} if letter else None
    if question.is_column:
        return getattr(request, question.key)
    return (request.extra_answers or {}).get(question.key)


@dataclass(frozen=True)
class Context:
    """What conditions may refer to besides the answers."""

    personal_data: bool


def context_of(request: AccessRequest) -> Context:
    return Context(personal_data=request.datasets.filter(contains_personal_data=True).exists())


def condition_holds(condition: dict | None, answers: dict[str, Any], context: Context) -> bool:
    """The small condition language of ``show_when`` and ``required_when``:
    ``{"question": key, "equals": value}``, ``{"question": key, "in": [values]}``,
    ``{"question": key, "not_empty": true}`` and ``{"personal_data": true}``."""
    if not condition:
        return True
    if "personal_data" in condition:
        return context.personal_data == bool(condition["personal_data"])
    value = answers.get(condition.get("question", ""))
    if "equals" in condition:
        return value == condition["equals"]
    if "in" in condition:
        return value in condition["in"]
    if "not_empty" in condition:
        return (not is_empty(value)) == bool(condition["not_empty"])
    return True


def describe_condition(condition: dict | None) -> str:
    """A condition in a stable, readable form (the database may store its keys in any order)."""
    if not condition:
        return ""
    if "personal_data" in condition:
        return (
            "the datasets hold personal data"
            if condition["personal_data"]
            else ("the datasets hold no personal data")
        )
    key = condition.get("question", "")
    if "equals" in condition:
        return f"{key} = {json.dumps(condition['equals'])}"
    if "in" in condition:
        return f"{key} in {json.dumps(condition['in'])}"
    if "not_empty" in condition:
        return f"{key} is answered" if condition["not_empty"] else f"{key} is not answered"
    return json.dumps(condition, sort_keys=True)


def is_shown(
    form: ApplicationForm, question: Question, answers: dict[str, Any], context: Context
) -> bool:
    seen: set[str] = set()
    current: Question | None = question
    # A question shown when a hidden question has some answer is hidden as well.
    while current is not None and current.key not in seen:
        seen.add(current.key)
        if not condition_holds(current.show_when, answers, context):
            return False
        parent = (current.show_when or {}).get("question")
        current = form.by_key.get(parent) if parent else None
    return True


#: What the public register (EHDS Art. 57/58) publishes of every permit and refusal: required
#: in every application, whatever a template edited by staff says.
REGISTER_KEYS = frozenset({"title", "lay_summary"})


def is_required(
    form: ApplicationForm, question: Question, answers: dict[str, Any], context: Context
) -> bool:
    if not is_shown(form, question, answers, context):
        return False
    if question.required or question.key in REGISTER_KEYS:
        return True
    return bool(question.required_when) and condition_holds(
        question.required_when, answers, context
    )


def validation_errors(
    form: ApplicationForm, answers: dict[str, Any], context: Context
) -> dict[str, list[str]]:
    """What submission still needs, per question, in words (required, rules)."""
    errors: dict[str, list[str]] = {}
    for question in form.questions:
        if not is_shown(form, question, answers, context):
            continue
        value = answers.get(question.key)
        if is_required(form, question, answers, context) and is_empty(value):
            errors.setdefault(question.key, []).append(question.required_message)
            continue
        rules = question.rules or {}
        message = _localized(rules.get("message_en", ""), rules.get("message_nl", ""))
        if "must_be" in rules and value != rules["must_be"]:
            errors.setdefault(question.key, []).append(message or question.required_message)
        other = answers.get(rules.get("after", ""))
        if "after" in rules and value and other and value <= other:
            errors.setdefault(question.key, []).append(
                message or _("This must come after “%(other)s”.") % {"other": rules["after"]}
            )
    return errors
