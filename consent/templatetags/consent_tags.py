"""Data-use conditions in plain words, with their codes: ``{% load consent_tags %}``.

``{% conditions_in_words dataset as items %}`` gives one item per DUO code of a dataset (or of
any object with ``duo_codes``/``duo_diseases``/``duo_values``): ``text`` (a sentence), ``code``,
``shorthand`` and ``label`` (DUO's own). ``{{ code|duo_label }}`` and ``{{ id|mondo_label }}``
name single terms; ``{{ row|provision_words }}`` describes a stored consent provision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.utils.translation import gettext as _

from consent import vocabulary as vocab
from consent.rules import describe

register = template.Library()


@dataclass(frozen=True)
class ConditionItem:
    code: str
    shorthand: str
    label: str
    text: str


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _disease_names(diseases: list[str]) -> str:
    names = []
    for disease in diseases:
        try:
            names.append(f"{vocab.mondo_label(disease)} ({disease})")
        except KeyError:
            names.append(disease)
    return ", ".join(names) if names else _("(no disease named)")


def _sentence(code: str, diseases: list[str], values: dict[str, Any]) -> str | None:
    value = values.get(code)
    shown = _value_text(value) if value not in (None, "", []) else ""
    sentences = {
        "DUO:0000004": _("No restriction on use."),
        "DUO:0000042": _("General research use: any research purpose."),
        "DUO:0000006": _("Health, medical or biomedical research only."),
        "DUO:0000007": _(
            "Research on these diseases only, or on diseases that fall within them: %(diseases)s."
        )
        % {"diseases": _disease_names(diseases)},
        "DUO:0000011": _("Research on population origins or ancestry only."),
        "DUO:0000015": _(
            "No methods development research (such as new software or "
            "algorithms), except within the consented diseases."
        ),
        "DUO:0000016": _("Genetic studies only."),
        "DUO:0000018": _("Not-for-profit organisations and non-commercial use only."),
        "DUO:0000019": _("Results must be made available to the scientific community."),
        "DUO:0000020": _("The requester must collaborate with the study's investigators."),
        "DUO:0000021": _("Ethics approval (IRB/ERB) is required."),
        "DUO:0000022": (
            _("Use only within a geographic region: %(value)s.") % {"value": shown}
            if shown
            else _("Use only within a geographic region.")
        ),
        "DUO:0000024": (
            _("No publication of results before %(value)s.") % {"value": shown}
            if shown
            else _("Results are under a publication moratorium.")
        ),
        "DUO:0000025": (
            _("Use is limited to %(value)s months.") % {"value": shown}
            if shown
            else _("Use is limited in time.")
        ),
        "DUO:0000026": (
            _("Only approved users: %(value)s.") % {"value": shown}
            if shown
            else _("Only approved users.")
        ),
        "DUO:0000027": (
            _("Only an approved project: %(value)s.") % {"value": shown}
            if shown
            else _("Only an approved project.")
        ),
        "DUO:0000028": (
            _("Only approved institutions: %(value)s.") % {"value": shown}
            if shown
            else _("Only approved institutions.")
        ),
        "DUO:0000012": (
            _("Only research of a certain type: %(value)s.") % {"value": shown}
            if shown
            else _("Only research of a certain type.")
        ),
        "DUO:0000029": _("Derived or enriched data must be returned to the resource."),
        "DUO:0000043": _("Clinical care use is also allowed."),
        "DUO:0000044": _("No population origins or ancestry research."),
        "DUO:0000045": _("Not-for-profit organisations only."),
        "DUO:0000046": _("Non-commercial use only."),
    }
    return sentences.get(code)


def conditions_items(
    codes: list[str], diseases: list[str] | None = None, values: dict[str, Any] | None = None
) -> list[ConditionItem]:
    """The conditions in words, permission first, then modifiers in code order."""
    diseases = list(diseases or [])
    values = dict(values or {})
    items = []
    for code in dict.fromkeys([*codes, *(k for k in values if k not in codes)]):
        try:
            term = vocab.duo_term(code)
            shorthand, label = term.shorthand, term.label
        except KeyError:
            shorthand, label = "", code
        text = _sentence(code, diseases, values) or (label[:1].upper() + label[1:] + ".")
        items.append(ConditionItem(code=code, shorthand=shorthand, label=label, text=text))
    permissions = {"DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"}
    return sorted(items, key=lambda item: (item.code not in permissions, item.code))


@register.simple_tag
def conditions_in_words(dataset: Any) -> list[ConditionItem]:
    return conditions_items(
        list(getattr(dataset, "duo_codes", None) or []),
        list(getattr(dataset, "duo_diseases", None) or []),
        dict(getattr(dataset, "duo_values", None) or {}),
    )


@register.filter
def duo_label(code: str) -> str:
    """``DUO:0000007`` → ``disease specific research (DS)``; unknown codes unchanged."""
    try:
        term = vocab.duo_term(code)
    except (KeyError, TypeError):
        return str(code)
    return f"{term.label} ({term.shorthand})" if term.shorthand else term.label


@register.filter
def mondo_label(curie: str) -> str:
    """``MONDO:0005015`` → ``diabetes mellitus``; unknown ids unchanged."""
    try:
        return vocab.mondo_label(curie)
    except (KeyError, TypeError):
        return str(curie)


@register.filter
def provision_words(row: Any) -> str:
    """A stored provision's purpose in words (label, shorthand, code; disease with its id)."""
    return describe(row)
