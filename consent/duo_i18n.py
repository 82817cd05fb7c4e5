"""DUO labels in the reader's language. ``consent/data/duo.json`` holds DUO's own English
labels (the vocabulary module stays free of Django); gettext translates them at display time,
and ``LABELS`` marks each one for extraction so ``makemessages`` keeps them in the catalogue.
tests/polish/test_dutch.py checks that ``LABELS`` names every label of duo.json."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from consent import vocabulary as vocab
from consent.duo import DS

LABELS = (
    gettext_noop("age category research"),
    gettext_noop("ancestry research"),
    gettext_noop("biomedical research"),
    gettext_noop("clinical care use"),
    gettext_noop("collaboration required"),
    gettext_noop("data use modifier"),
    gettext_noop("data use permission"),
    gettext_noop("disease category research"),
    gettext_noop("disease specific research"),
    gettext_noop("drug development research"),
    gettext_noop("ethics approval required"),
    gettext_noop("gender category research"),
    gettext_noop("general research use"),
    gettext_noop("genetic research"),
    gettext_noop("genetic studies only"),
    gettext_noop("geographical restriction"),
    gettext_noop("health or medical or biomedical research"),
    gettext_noop("institution specific restriction"),
    gettext_noop("method development"),
    gettext_noop("no general methods research"),
    gettext_noop("no restriction"),
    gettext_noop("non-commercial use only"),
    gettext_noop("not for profit organisation use only"),
    gettext_noop("not for profit, non commercial use only"),
    gettext_noop("obsolete consent code primary category"),
    gettext_noop("obsolete consent code secondary category"),
    gettext_noop("obsolete general research use and clinical care"),
    gettext_noop("obsolete research use only"),
    gettext_noop("population origins or ancestry research only"),
    gettext_noop("population origins or ancestry research prohibited"),
    gettext_noop("population research"),
    gettext_noop("project specific restriction"),
    gettext_noop("publication moratorium"),
    gettext_noop("publication required"),
    gettext_noop("research control"),
    gettext_noop("research specific restrictions"),
    gettext_noop("return to database or resource"),
    gettext_noop("time limit on use"),
    gettext_noop("user specific restriction"),
)


def duo_label(curie: str) -> str:
    """DUO's label of ``curie`` in the active language; unknown codes unchanged."""
    try:
        return gettext(vocab.duo_term(curie).label)
    except (KeyError, TypeError):
        return str(curie)


def duo_display(curie: str) -> str:
    """``label (SHORT, DUO:…)`` in the active language, as the checks and pages name a term."""
    try:
        term = vocab.duo_term(curie)
    except (KeyError, TypeError):
        return str(curie)
    label = gettext(term.label)
    return f"{label} ({term.shorthand}, {term.id})" if term.shorthand else f"{label} ({term.id})"


def duo_filter_choices() -> list[tuple[str, str]]:
    """The permissions and modifiers a dataset can carry, as ``(code, "label (SHORT)")``,
    permissions first: the catalogue's condition filter."""
    terms = [
        term
        for term in vocab.duo_terms()
        if term.kind in ("permission", "modifier") and not term.obsolete
    ]
    terms.sort(key=lambda term: (term.kind != "permission", gettext(term.label).lower()))
    return [
        (
            term.id,
            f"{gettext(term.label)} ({term.shorthand})" if term.shorthand else gettext(term.label),
        )
        for term in terms
    ]


def _mondo_display(curie: str) -> str:
    try:
        return f"{vocab.mondo_label(curie)} ({curie})"
    except (KeyError, TypeError):
        return str(curie)


def purpose_display(codes: list[str], diseases: list[str], *, is_commercial: bool) -> str:
    """A purpose as one line in words, each term with its code beside its label: "Disease
    specific research (DS, DUO:0000007): type 2 diabetes mellitus (MONDO:0005148)". The
    diseases follow the disease-specific code (or stand last, named as diseases, when there is
    none); certificates and permit pages print this, never the codes alone."""
    named = [_mondo_display(disease) for disease in diseases]
    parts = []
    for code in codes:
        text = duo_display(code)
        if code == DS and named:
            text = f"{text}: {', '.join(named)}"
            named = []
        parts.append(text)
    if named:
        parts.append(gettext("diseases: %(names)s") % {"names": ", ".join(named)})
    if is_commercial:
        parts.append(gettext("commercial use"))
    line = "; ".join(parts)
    return line[:1].upper() + line[1:]
