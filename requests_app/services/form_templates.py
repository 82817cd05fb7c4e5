"""Form templates: a template a submission used is immutable; editing it makes a new version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from lifes.errors import InvalidInput, NotAllowed
from requests_app.application_form import VOCABULARIES
from requests_app.form_models import FormQuestion, FormSection, FormTemplate, QuestionType
from requests_app.models import AttachmentKind


def form_template_is_used(template: FormTemplate) -> bool:
    """Used: some round's answers were given to exactly this version."""
    return template.submissions.exists()


def form_template_new_version(*, actor: Any, template: FormTemplate) -> FormTemplate:
    """A copy of ``template`` as the next version of its key, with the same sections,
    questions and datasets: what staff edit instead of a used template. Requests answer the
    newest version from now on; rounds already submitted keep the version they answered."""
    if actor is None or not getattr(actor, "is_staff", False):
        raise NotAllowed(_("Only staff edit application forms."))
    with transaction.atomic():
        newest = (
            FormTemplate.objects.select_for_update().filter(key=template.key).order_by("-version")
        ).first()
        copy = FormTemplate.objects.create(
            key=template.key,
            version=newest.version + 1,
            title=template.title,
            organisation=template.organisation,
            is_default=template.is_default,
        )
        copy.datasets.set(template.datasets.all())
        sections = {}
        for section in template.sections.all():
            old_pk = section.pk
            section.pk = None
            section.template = copy
            section.save()
            sections[old_pk] = section
        for question in template.questions.all():
            question.pk = None
            question.template = copy
            question.section = sections[question.section_id]
            question.save()
        audit_record(
            actor=actor,
            action="form_template.new_version",
            target=copy,
            payload={"key": copy.key, "version": copy.version, "from_version": template.version},
        )
    return copy


def form_template_edit(*, actor: Any, template: FormTemplate) -> FormTemplate:
    """The template staff may change: ``template`` itself while no round used it, else a new
    version of it (the used one stays exactly as answered)."""
    if form_template_is_used(template):
        return form_template_new_version(actor=actor, template=template)
    if actor is None or not getattr(actor, "is_staff", False):
        raise NotAllowed(_("Only staff edit application forms."))
    return template


def _check_spec(sections: list[dict], questions: list[dict]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    section_keys = {s.get("key") for s in sections}
    keys = [q.get("key") for q in questions]

    def need(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    for spec in questions:
        key = str(spec.get("key"))
        if keys.count(key) > 1:
            need(key, _("Ask each question once per template."))
        if spec.get("type") not in QuestionType.values:
            need(key, _("Unknown question type '%(type)s'.") % {"type": spec.get("type")})
        if spec.get("section") not in section_keys:
            need(key, _("No section '%(section)s'.") % {"section": spec.get("section")})
        if spec.get("choices_from") and spec["choices_from"] not in VOCABULARIES:
            need(key, _("Unknown vocabulary '%(name)s'.") % {"name": spec["choices_from"]})
        if spec.get("type") == QuestionType.ATTACHMENT and (
            spec.get("attachment_kind") not in AttachmentKind.values
        ):
            need(key, _("Name the kind of attachment."))
        if spec.get("type") == QuestionType.TABLE_ROWS and not spec.get("columns"):
            need(key, _("A table needs its columns."))
        for condition in ("show_when", "required_when"):
            asked = (spec.get(condition) or {}).get("question")
            if asked and asked not in keys and asked not in _default_keys():
                need(key, _("The condition refers to no question '%(key)s'.") % {"key": asked})
    return errors


def _default_keys() -> set[str]:
    return set(FormQuestion.objects.filter(template__is_default=True).values_list("key", flat=True))


def form_template_create(
    *,
    actor: Any,
    key: str,
    title: str,
    organisation: Any,
    sections: list[dict],
    questions: list[dict],
    datasets: list[Any] = (),
) -> FormTemplate:
    """A custodian's own template (version 1), attached to datasets it holds. ``sections``:
    dicts of FormSection fields; ``questions``: dicts of FormQuestion fields with the key of
    their section as ``section``. ``actor`` None: the demo seed."""
    if actor is not None and not getattr(actor, "is_staff", False):
        raise NotAllowed(_("Only staff edit application forms."))
    errors = _check_spec(sections, questions)
    foreign = [d.slug for d in datasets if d.owner_id != organisation.pk]
    if foreign:
        errors["datasets"] = [
            _("%(slug)s is not held by this custodian.") % {"slug": slug} for slug in foreign
        ]
    if errors:
        raise InvalidInput(_("The form template has mistakes; nothing was saved."), errors=errors)
    with transaction.atomic():
        if FormTemplate.objects.filter(key=key).exists():
            raise InvalidInput(
                _("A template with this key exists; make a new version of it instead."),
                errors={"key": [_("Already taken.")]},
            )
        template = FormTemplate.objects.create(key=key, title=title, organisation=organisation)
        template.datasets.set(datasets)
        made = {}
        for order, spec in enumerate(sections, start=1):
            made[spec["key"]] = FormSection.objects.create(
                template=template,
                order=spec.get("order", order),
                **{k: v for k, v in spec.items() if k != "order"},
            )
        for order, spec in enumerate(questions, start=1):
            fields = {k: v for k, v in spec.items() if k not in ("section", "order")}
            FormQuestion.objects.create(
                template=template,
                section=made[spec["section"]],
                order=spec.get("order", order),
                **fields,
            )
        audit_record(
            actor=actor,
            action="form_template.create",
            target=template,
            payload={
                "key": key,
                "organisation": organisation.name,
                "questions": [q["key"] for q in questions],
                "datasets": sorted(d.slug for d in datasets),
            },
        )
    return template
