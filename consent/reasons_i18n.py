"""The data-use matcher's reasons in the reader's language.

``consent/matcher.py`` stays free of Django (the benchmarks and any node-side use import it
alone), so each reason it gives is a ``matcher.Reason``: the English sentence, plus the template
it was made from and its parameters. Here the hub translates the template with gettext and fills
in the terms in the same language (DUO labels through ``duo_i18n``; MONDO names stay English, as
MONDO has no Dutch labels). ``MESSAGES`` marks every template for ``makemessages``;
tests/consent/test_reasons_i18n.py checks it names each one the matcher can make.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext, gettext_noop

from consent import vocabulary as vocab
from consent.duo_i18n import duo_display
from consent.matcher import Reason, Term, Terms

MESSAGES = (
    gettext_noop("%(code)s (%(label)s) is obsolete in DUO"),
    gettext_noop("%(code)s cannot be used in a purpose"),
    gettext_noop("%(code)s cannot be used in data use conditions"),
    gettext_noop("%(code)s describes a dataset, not a research purpose"),
    gettext_noop(
        "%(code)s is a data use modifier; it belongs in conditions.codes, not in a purpose"
    ),
    gettext_noop("%(code)s is a research type; it belongs in purpose.codes"),
    gettext_noop("%(code)s is not a DUO code (expected DUO:NNNNNNN)"),
    gettext_noop("%(code)s is not a known DUO term (DUO release v2021-02-23)"),
    gettext_noop("%(disease)s is not a MONDO CURIE (expected MONDO:NNNNNNN)"),
    gettext_noop("%(disease)s is not a known MONDO term"),
    gettext_noop("%(term)s is a category; use one of its specific terms"),
    gettext_noop("Duty %(code)s: results may not be published before %(date)s."),
    gettext_noop(
        "Duty %(code)s: the requester must collaborate with the primary study investigator(s)."
    ),
    gettext_noop(
        "Duty %(code)s: the requester must make results available to the scientific community."
    ),
    gettext_noop(
        "Duty %(code)s: the requester must provide documentation of local ethics (IRB/ERB) "
        "approval."
    ),
    gettext_noop(
        "Duty %(code)s: the requester must return derived or enriched data to the resource."
    ),
    gettext_noop("Duty %(code)s: use is approved for %(months)s months."),
    gettext_noop("The dataset allows %(permission)s, which includes the proposed %(primary)s."),
    gettext_noop("The dataset allows only %(permission)s, which does not include %(ancestry)s."),
    gettext_noop(
        "The dataset allows only %(poa)s; the proposed %(primary)s is not limited to population "
        "origins or ancestry research."
    ),
    gettext_noop("The dataset also allows %(cc)s; that does not limit research use."),
    gettext_noop("The dataset carries %(code)s, and the proposed use is not commercial."),
    gettext_noop(
        "The dataset carries %(code)s, and the purpose does not say whether it is commercial "
        "(purpose.commercial)."
    ),
    gettext_noop(
        "The dataset carries %(code)s, and the purpose does not say whether it is for-profit "
        "(purpose.for_profit)."
    ),
    gettext_noop(
        "The dataset carries %(code)s, and the requesting organisation is not-for-profit."
    ),
    gettext_noop("The dataset carries %(code)s, but the proposed use is commercial."),
    gettext_noop("The dataset carries %(code)s, but the requesting organisation is for-profit."),
    gettext_noop(
        "The dataset carries %(code)s: use is limited to a geographic region%(value)s; the hub "
        "cannot verify where the data will be processed."
    ),
    gettext_noop(
        "The dataset carries %(code)s: use is limited to an approved project%(value)s; a "
        "reviewer must check this is it."
    ),
    gettext_noop(
        "The dataset carries %(code)s: use is limited to approved institutions%(value)s; a "
        "reviewer must check the requesting institution."
    ),
    gettext_noop(
        "The dataset carries %(code)s: use is limited to approved users%(value)s; a reviewer "
        "must check the requester and team."
    ),
    gettext_noop(
        "The dataset carries %(code)s: use is limited to studies of a certain research "
        "type%(value)s; a reviewer must check the purpose is of that type."
    ),
    gettext_noop(
        "The dataset carries %(gso)s; the purpose does not name %(genetic)s, so a reviewer must "
        "confirm the study includes genotype research."
    ),
    gettext_noop(
        "The dataset carries %(nmds)s: %(mds)s is not allowed outside the consented diseases."
    ),
    gettext_noop(
        "The dataset carries %(nmds)s: %(mds)s is not allowed unless a disease specific purpose "
        "bounds it."
    ),
    gettext_noop("The dataset carries %(npoa)s; the purpose includes %(code)s."),
    gettext_noop("The dataset carries %(npoa)s; the purpose is %(poa)s."),
    gettext_noop("The dataset has %(nres)s, which allows the proposed %(primary)s."),
    gettext_noop(
        "The dataset's %(permission)s does not include the study of population origins or "
        "ancestry; the proposed %(poa)s is outside it."
    ),
    gettext_noop(
        "The dataset's conditions name no data use permission (NRES, GRU, HMB, DS or POA), so "
        "the matcher cannot tell which research they allow."
    ),
    gettext_noop(
        "The proposed %(code)s is allowed under the dataset's %(permission)s: DUO restricts it "
        "only as population origins or ancestry research, which it is not."
    ),
    gettext_noop("The proposed %(genetic)s meets the dataset's %(gso)s condition."),
    gettext_noop(
        "The proposed %(mds)s is allowed: the dataset does not carry the modifier %(nmds)s."
    ),
    gettext_noop(
        "The proposed %(mds)s stays within the purpose's %(ds)s on %(diseases)s, which the "
        "dataset's consent covers; %(nmds)s forbids only methods work outside those bounds."
    ),
    gettext_noop("The proposed %(primary)s is broader than the dataset's %(permission)s."),
    gettext_noop(
        "The proposed %(primary)s is broader than the dataset's %(permission)s; ask for %(ds)s "
        "naming the diseases instead."
    ),
    gettext_noop("The proposed %(primary)s matches the dataset's permission."),
    gettext_noop(
        "The proposed research on %(disease)s falls within %(covering)s, a disease the dataset "
        "is consented for under %(ds)s."
    ),
    gettext_noop(
        "The proposed research on %(disease)s is not covered by the dataset's %(ds)s consent "
        "for %(consented)s."
    ),
    gettext_noop(
        "The proposed research on %(disease)s is not covered by the dataset's %(ds)s consent "
        "for %(consented)s; %(narrower)s is narrower, and consent for a narrower disease does "
        "not cover research on a broader one."
    ),
    gettext_noop(
        "The proposed research on %(disease)s is on a disease the dataset is consented for "
        "under %(ds)s."
    ),
    gettext_noop(
        "The purpose names no primary purpose (GRU, HMB, DS or POA), so the matcher cannot "
        "place it within the dataset's permission; a reviewer must decide."
    ),
    gettext_noop(
        "The purpose names only research types (%(types)s) and no primary purpose; the "
        "dataset's %(permission)s does not exclude them."
    ),
    gettext_noop("disease terms apply only with %(ds)s"),
    gettext_noop("item %(index)s must be a string, got %(type)s"),
    gettext_noop("more than one data use permission: %(codes)s"),
    gettext_noop("more than one primary purpose: %(codes)s; choose one"),
    gettext_noop("must be a list of CURIE strings"),
    gettext_noop("must be a non-empty string or a non-empty list of strings"),
    gettext_noop("must be an object"),
    gettext_noop("must be an object mapping DUO codes to values"),
    gettext_noop("must be true, false or null"),
    gettext_noop("only GS, TS, MOR, US, IS, PS and RS carry a value"),
    gettext_noop("publication moratorium (MOR) needs an ISO 8601 date (YYYY-MM-DD)"),
    gettext_noop("required with %(code)s"),
    gettext_noop("required with %(ds)s: name at least one MONDO disease"),
    gettext_noop("the request body must be a JSON object"),
    gettext_noop("this field is required"),
    gettext_noop("time limit on use (TS) needs a positive whole number of months"),
    gettext_noop("unknown field; expected one of %(keys)s"),
    gettext_noop("unknown field; expected purpose and conditions"),
)


def _term(curie: str) -> str:
    if curie.startswith("MONDO:"):
        try:
            return f"{vocab.mondo_label(curie)} ({curie})"
        except KeyError:
            return curie
    return duo_display(curie)


def _terms(curies: Iterable[str]) -> str:
    items = [_term(c) for c in curies]
    if len(items) <= 1:
        return "".join(items)
    return gettext("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def _param(value: object) -> str:
    if isinstance(value, Term):
        return _term(value.curie)
    if isinstance(value, Terms):
        return _terms(value.curies)
    return str(value)


def reason_text(reason: str) -> str:
    """``reason`` in the active language: a ``Reason`` through the catalogue, any other text
    (a reason stored before reasons were structured) as it is."""
    if not isinstance(reason, Reason):
        return str(reason)
    params = {key: _param(value) for key, value in reason.params.items()}
    return gettext(reason.template) % params


def reasons_text(reasons: Iterable[str]) -> list[str]:
    """Each reason in the active language."""
    return [reason_text(reason) for reason in reasons]


def stored_reasons_text(stored: Iterable[Mapping[str, Any]]) -> list[str]:
    """Reasons kept as ``Reason.as_json()`` (a check result's details), in the active language."""
    return [reason_text(Reason.from_json(item)) for item in stored]


def errors_text(errors: Mapping[str, Iterable[str]]) -> str:
    """A ``MatcherInputError``'s errors as one line in the active language, field paths kept."""
    return "; ".join(
        f"{path}: {', '.join(reasons_text(messages))}" for path, messages in errors.items()
    )
