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
from django.utils.translation import gettext as gettext_label  # DUO's labels (consent/duo_i18n)

from consent import duo
from consent import vocabulary as vocab
from consent.duo_i18n import purpose_display
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
        duo.NRES: _("No restriction on use."),
        duo.GRU: _("General research use: any research purpose."),
        duo.HMB: _("Health, medical or biomedical research only."),
        duo.DS: _(
            "Research on these diseases only, or on diseases that fall within them: %(diseases)s."
        )
        % {"diseases": _disease_names(diseases)},
        duo.POA: _("Research on population origins or ancestry only."),
        duo.NMDS: _(
            "No methods development research (such as new software or "
            "algorithms), except within the consented diseases."
        ),
        duo.GSO: _("Genetic studies only."),
        duo.NPUNCU: _("Not-for-profit organisations and non-commercial use only."),
        duo.PUB: _("Results must be made available to the scientific community."),
        duo.COL: _("The requester must collaborate with the study's investigators."),
        duo.IRB: _("Ethics approval (IRB/ERB) is required."),
        duo.GS: (
            _("Use only within a geographic region: %(value)s.") % {"value": shown}
            if shown
            else _("Use only within a geographic region.")
        ),
        duo.MOR: (
            _("No publication of results before %(value)s.") % {"value": shown}
            if shown
            else _("Results are under a publication moratorium.")
        ),
        duo.TS: (
            _("Use is limited to %(value)s months.") % {"value": shown}
            if shown
            else _("Use is limited in time.")
        ),
        duo.US: (
            _("Only approved users: %(value)s.") % {"value": shown}
            if shown
            else _("Only approved users.")
        ),
        duo.PS: (
            _("Only an approved project: %(value)s.") % {"value": shown}
            if shown
            else _("Only an approved project.")
        ),
        duo.IS: (
            _("Only approved institutions: %(value)s.") % {"value": shown}
            if shown
            else _("Only approved institutions.")
        ),
        duo.RS: (
            _("Only research of a certain type: %(value)s.") % {"value": shown}
            if shown
            else _("Only research of a certain type.")
        ),
        duo.RTN: _("Derived or enriched data must be returned to the resource."),
        duo.CC: _("Clinical care use is also allowed."),
        duo.NPOA: _("No population origins or ancestry research."),
        duo.NPU: _("Not-for-profit organisations only."),
        duo.NCU: _("Non-commercial use only."),
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
            shorthand, label = term.shorthand, gettext_label(term.label)
        except KeyError:
            shorthand, label = "", code
        text = _sentence(code, diseases, values) or (label[:1].upper() + label[1:] + ".")
        items.append(ConditionItem(code=code, shorthand=shorthand, label=label, text=text))
    return sorted(items, key=lambda item: (item.code not in duo.PERMISSIONS, item.code))


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
    label = gettext_label(term.label)
    return f"{label} ({term.shorthand})" if term.shorthand else label


@register.filter
def mondo_label(curie: str) -> str:
    """``MONDO:0005015`` → ``diabetes mellitus``; unknown ids unchanged."""
    try:
        return vocab.mondo_label(curie)
    except (KeyError, TypeError):
        return str(curie)


@register.filter
def purpose_in_words(obj: Any) -> str:
    """A permit's (or request's) purpose in one line of words, codes beside their labels."""
    return purpose_display(
        list(getattr(obj, "purpose_codes", None) or []),
        list(getattr(obj, "purpose_diseases", None) or []),
        is_commercial=bool(getattr(obj, "is_commercial", False)),
    )


@register.filter
def provision_words(row: Any) -> str:
    """A stored provision's purpose in words (label, shorthand, code; disease with its id)."""
    return describe(row)


@dataclass(frozen=True)
class OrganisationFit:
    """What a dataset's conditions say about the signed-in person's organisation, before any
    purpose is known: ``decision`` is the matcher's vocabulary (``compatible``,
    ``incompatible``, ``needs_review``)."""

    organisation: Any
    decision: str
    reasons: list[str]


@register.simple_tag
def organisation_fit(dataset: Any, user: Any) -> OrganisationFit | None:
    """The conditions that depend on who asks (NPU/NPUNCU against the organisation being
    for-profit; GS, IS and US, which a board checks), for the dataset page. ``None`` for
    visitors without an organisation. The purpose is checked in the request itself."""
    from accounts.selectors import is_person, primary_organisation

    if not is_person(user):
        return None
    organisation = primary_organisation(user)
    if organisation is None:
        return None
    codes = set(getattr(dataset, "duo_codes", None) or [])
    values = dict(getattr(dataset, "duo_values", None) or {})
    codes |= {k for k in values if k in (duo.GS, duo.IS, duo.US)}
    name = organisation.name
    refused, asked = [], []
    if codes & {duo.NPU, duo.NPUNCU} and organisation.is_for_profit:
        refused.append(
            _("Use is limited to not-for-profit organisations, and %(org)s is for-profit.")
            % {"org": name}
        )
    if duo.GS in codes:
        asked.append(
            _(
                "Use is limited to a region (%(region)s); %(org)s is in %(country)s. The boards "
                "check where the results are processed."
            )
            % {
                "region": _value_text(values.get(duo.GS, "—")),
                "org": name,
                "country": organisation.country.name or organisation.country.code,
            }
        )
    if duo.IS in codes:
        asked.append(
            _("Use is limited to approved institutions: the boards check %(org)s.") % {"org": name}
        )
    if duo.US in codes:
        asked.append(_("Use is limited to approved users: the boards check your team."))
    if refused:
        return OrganisationFit(organisation, "incompatible", refused + asked)
    if asked:
        return OrganisationFit(organisation, "needs_review", asked)
    return OrganisationFit(
        organisation,
        "compatible",
        [
            _(
                "Nothing in these conditions excludes %(org)s. Your research purpose is checked "
                "when you choose this dataset in a request."
            )
            % {"org": name}
        ],
    )
