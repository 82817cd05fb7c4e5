"""The answers in the OpenAPI document, generated from the form templates.

The request body of the answers (``AnswersSerializer``) is documented from the default
template, and the postprocessing hook adds one component per template version
(``AnswersFiveSafesV1``, ``AnswersUmcuBiobankV1``, …): the API takes the keys of the default
template plus those of each template attached to the requested datasets. The schema is built
when it is asked for, so it follows the templates staff edit. When the document is built
without a database (``manage.py spectacular`` in a build step) the answers are documented as
an object keyed by question key, and the per-template components are left out.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiSerializerExtension

from requests_app.application_form import (
    ApplicationForm,
    Question,
    current_templates,
    describe_condition,
    merge,
)
from requests_app.form_models import FormTemplate, QuestionType

ORCID_PATTERN = r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$"
MONDO_PATTERN = r"^MONDO:\d{7}$"


def question_schema(question: Question, *, enums: bool = True) -> dict[str, Any] | None:
    """One question as an OpenAPI schema object (team and attachments: own endpoints).
    ``enums=False`` names the choices in the description instead: drf-spectacular's enum hook
    would give one choice set (a-f: both the EHDS purposes and the GDPR Art. 6 bases) two
    names in the request bodies; the per-template components, added after it, keep enums."""
    kind = question.type
    schema: dict[str, Any]
    if kind in (QuestionType.TEXT, QuestionType.LONG_TEXT):
        schema = {"type": "string"}
    elif kind == QuestionType.EMAIL:
        schema = {"type": "string", "format": "email"}
    elif kind == QuestionType.ORCID:
        schema = {"type": "string", "pattern": ORCID_PATTERN}
    elif kind in (QuestionType.CHOICE, QuestionType.DUO_PURPOSE):
        schema = {"type": "string"}
        if enums:
            schema["enum"] = ["", *[v for v, _ in question.choice_list()]]
    elif kind == QuestionType.MULTI_CHOICE:
        item: dict[str, Any] = {"type": "string"}
        if enums:
            item["enum"] = [v for v, _ in question.choice_list()]
        schema = {"type": "array", "items": item}
    elif kind == QuestionType.DATE:
        schema = {"type": "string", "format": "date", "nullable": True}
    elif kind == QuestionType.DATE_RANGE:
        schema = {
            "type": "object",
            "nullable": True,
            "properties": {
                "start": {"type": "string", "format": "date", "nullable": True},
                "end": {"type": "string", "format": "date", "nullable": True},
            },
        }
    elif kind == QuestionType.YES_NO:
        schema = {"type": "boolean"}
    elif kind == QuestionType.NUMBER:
        schema = {"type": "number", "nullable": True}
    elif kind == QuestionType.MONDO_DISEASES:
        schema = {"type": "array", "items": {"type": "string", "pattern": MONDO_PATTERN}}
    elif kind == QuestionType.DATASETS:
        schema = {"type": "array", "items": {"type": "string"}}
    elif kind == QuestionType.ALGORITHMS:
        schema = {"type": "array", "items": {"type": "string", "pattern": r"^[a-z0-9-]+ [^ ]+$"}}
    elif kind == QuestionType.TABLE_ROWS:
        width = len(question.columns)
        schema = {
            "type": "array",
            "items": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": width,
                "maxItems": width,
            },
        }
    else:
        return None
    if question.max_length and schema.get("type") == "string":
        schema["maxLength"] = question.max_length
    description = question.label_en
    if kind == QuestionType.TABLE_ROWS:
        description += f" Columns: {', '.join(question.columns)}."
    if question.is_private:
        description += " Private."
    if question.show_when:
        description += f" Asked when {describe_condition(question.show_when)}."
    if not enums and kind in (
        QuestionType.CHOICE,
        QuestionType.DUO_PURPOSE,
        QuestionType.MULTI_CHOICE,
    ):
        description += " One of: " + ", ".join(v for v, _ in question.choice_list()) + "."
    schema["description"] = description
    return schema


def form_schema(
    form: ApplicationForm | None, *, title_required: bool = False, enums: bool = True
) -> dict:
    if form is None:
        return {
            "type": "object",
            "description": "Answers keyed by question key (see the Answers… components).",
            "additionalProperties": True,
        }
    properties = {}
    for question in form.questions:
        schema = question_schema(question, enums=enums)
        if schema is not None:
            properties[question.key] = schema
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required_on_submit = [q.key for q in form.questions if q.required and q.key in properties]
    if required_on_submit:
        schema["x-required-on-submit"] = required_on_submit
    if title_required and "title" in properties:
        schema["required"] = ["title"]
    return schema


def _default_form() -> ApplicationForm | None:
    try:
        return merge(current_templates())
    except (DatabaseError, RuntimeError):
        # no database (a build step), or one a test run forbids: the generic description
        return None


def component_name(template: FormTemplate) -> str:
    words = re.split(r"[^A-Za-z0-9]+", template.key)
    return "Answers" + "".join(w[:1].upper() + w[1:] for w in words if w) + f"V{template.version}"


class AnswersSerializerExtension(OpenApiSerializerExtension):
    target_class = "requests_app.api.AnswersSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict:
        creating = getattr(self.target_class, "__name__", "") == "InputSerializer"
        return form_schema(
            _default_form(), title_required=creating and direction == "request", enums=False
        )


def answers_components(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Postprocessing hook: one component per template version, from its questions."""
    try:
        templates = list(FormTemplate.objects.prefetch_related("sections", "questions"))
    except (DatabaseError, RuntimeError):
        return result
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for template in templates:
        schema = form_schema(merge([template]))
        schema["description"] = (
            f"Answers to the form template '{template.title}' ({template.key}, version "
            f"{template.version})"
            + (f" of {template.organisation.name}" if template.organisation_id else "")
            + ". A request answers the default template and those of its datasets' custodians."
        )
        schemas[component_name(template)] = schema
    return result
