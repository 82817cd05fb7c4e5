"""#18 point 12: the DUO matcher's reasons in the reader's language.

The matcher stays free of Django and gives each reason as a ``Reason``: its English sentence
(unchanged, a ``str``) with the template and parameters it was made from. The hub says it in
Dutch through the catalogue: in the automated checks, in the stored check results, and in the
matcher API when asked (``?localised=1``), whose contract fields stay English."""

from __future__ import annotations

import ast
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from consent import matcher, reasons_i18n
from consent.checks import DatasetFacts, check_duo_compatibility
from consent.matcher import Conditions, MatcherInputError, Purpose, Reason, match, parse_request
from consent.reasons_i18n import errors_text, reasons_text, stored_reasons_text
from requests_app.models import CheckResult
from tests.consent.test_checks import facts

ROOT = Path(__file__).resolve().parents[2]
DS, MDS, NMDS, IRB, NPUNCU, GS = (
    "DUO:0000007",
    "DUO:0000031",
    "DUO:0000015",
    "DUO:0000021",
    "DUO:0000018",
    "DUO:0000022",
)
T2D, DIABETES, CANCER = "MONDO:0005148", "MONDO:0005015", "MONDO:0004992"

PURPOSE = Purpose(codes=(DS, MDS), diseases=(T2D,), commercial=None, for_profit=False)
CONDITIONS = Conditions(
    codes=(DS, IRB, NMDS, NPUNCU, GS), diseases=(DIABETES, CANCER), values={GS: "EU"}
)
ENGLISH = [
    "The proposed research on type 2 diabetes mellitus (MONDO:0005148) falls within diabetes "
    "mellitus (MONDO:0005015), a disease the dataset is consented for under disease specific "
    "research (DS, DUO:0000007).",
    "The proposed method development (DUO:0000031) stays within the purpose's disease specific "
    "research (DS, DUO:0000007) on type 2 diabetes mellitus (MONDO:0005148), which the "
    "dataset's consent covers; no general methods research (NMDS, DUO:0000015) forbids only "
    "methods work outside those bounds.",
    "The dataset carries not for profit, non commercial use only (NPUNCU, DUO:0000018), and "
    "the requesting organisation is not-for-profit.",
    "The dataset carries not for profit, non commercial use only (NPUNCU, DUO:0000018), and "
    "the purpose does not say whether it is commercial (purpose.commercial).",
    "The dataset carries geographical restriction (GS, DUO:0000022): use is limited to a "
    "geographic region (EU); the hub cannot verify where the data will be processed.",
    "Duty ethics approval required (IRB, DUO:0000021): the requester must provide "
    "documentation of local ethics (IRB/ERB) approval.",
]
DUTCH = [
    "Het voorgestelde onderzoek naar type 2 diabetes mellitus (MONDO:0005148) valt binnen "
    "diabetes mellitus (MONDO:0005015), een ziekte waarvoor de dataset toestemming heeft onder "
    "ziektespecifiek onderzoek (DS, DUO:0000007).",
    "Het voorgestelde gebruik voor methodeontwikkeling (DUO:0000031) blijft binnen het "
    "onderzoeksdoel, ziektespecifiek onderzoek (DS, DUO:0000007) naar type 2 diabetes mellitus "
    "(MONDO:0005148), waarvoor de toestemming van de dataset geldt; de beperking geen algemeen "
    "methodeonderzoek (NMDS, DUO:0000015) verbiedt alleen methodeontwikkeling buiten die "
    "grenzen.",
    "Voor de dataset geldt alleen zonder winstoogmerk en niet-commercieel gebruik (NPUNCU, "
    "DUO:0000018), en de aanvragende organisatie beoogt geen winst.",
    "Voor de dataset geldt alleen zonder winstoogmerk en niet-commercieel gebruik (NPUNCU, "
    "DUO:0000018), en het onderzoeksdoel zegt niet of het gebruik commercieel is "
    "(purpose.commercial).",
    "Voor de dataset geldt geografische beperking (GS, DUO:0000022): het gebruik is beperkt tot "
    "een geografisch gebied (EU); de hub kan niet nagaan waar de gegevens worden verwerkt.",
    "Verplichting ethische goedkeuring vereist (IRB, DUO:0000021): de aanvrager moet "
    "documentatie van de goedkeuring door de lokale ethische commissie (IRB/ERB) overleggen.",
]


def _matcher_templates() -> set[str]:
    """Every reason template in the matcher's source: the first argument of ``Reason(...)`` and
    of the findings' ``ok``/``ask``/``refuse``, and every text with a ``%(name)s`` placeholder
    (the templates chosen from a table). Docstrings aside."""
    tree = ast.parse((ROOT / "consent" / "matcher.py").read_text())
    docstrings = {
        node.body[0].value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and ast.get_docstring(node, clean=False) is not None
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            if name in ("Reason", "ok", "ask", "refuse"):
                found.add(node.args[0].value)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "%(" in node.value
            and node.value not in docstrings
        ):
            found.add(node.value)
    return found


def test_every_template_of_the_matcher_is_marked_for_translation_and_translated():
    templates = _matcher_templates()

    assert len(templates) == 71
    assert templates == set(reasons_i18n.MESSAGES) - {"%(items)s and %(last)s"}
    with translation.override("nl"):
        untranslated = sorted(t for t in reasons_i18n.MESSAGES if translation.gettext(t) == t)
    assert untranslated == []


def test_a_reason_is_its_english_sentence_and_keeps_how_it_was_made():
    result = match(PURPOSE, CONDITIONS)

    assert result.decision == "needs_review"
    assert result.reasons == ENGLISH
    assert all(isinstance(reason, Reason) for reason in result.reasons)
    # The contract's body: plain strings, the same sentences.
    body = result.to_dict()
    assert body["reasons"] == ENGLISH
    assert {type(reason) for reason in body["reasons"]} == {str}
    assert json.loads(json.dumps(result.reasons)) == ENGLISH
    first = result.reasons[0]
    assert first.as_json() == {
        "template": "The proposed research on %(disease)s falls within %(covering)s, a disease "
        "the dataset is consented for under %(ds)s.",
        "params": {
            "disease": {"term": T2D},
            "covering": {"terms": [DIABETES]},
            "ds": {"term": DS},
        },
    }
    for reason in result.reasons:
        again = Reason.from_json(json.loads(json.dumps(reason.as_json())))
        copied = pickle.loads(pickle.dumps(reason))  # noqa: S301 - our own object
        assert (again, again.template) == (reason, reason.template)
        assert (copied, copied.template, copied.params) == (reason, reason.template, reason.params)


def test_the_hub_says_the_reasons_in_dutch_and_in_english():
    result = match(PURPOSE, CONDITIONS)

    with translation.override("nl"):
        assert reasons_text(result.reasons) == DUTCH
    with translation.override("en"):
        assert reasons_text(result.reasons) == ENGLISH
    # Text that is no Reason (a reason stored before reasons were structured) stays as it is.
    with translation.override("nl"):
        assert reasons_text(["As stored."]) == ["As stored."]


def test_lists_of_terms_are_joined_in_the_readers_language():
    purpose = Purpose(codes=(MDS, "DUO:0000033"), commercial=False, for_profit=False)
    result = match(purpose, Conditions(codes=("DUO:0000042",)))

    with translation.override("nl"):
        [types, *_rest] = reasons_text(result.reasons)
    assert types == (
        "Het onderzoeksdoel noemt alleen onderzoekstypen (methodeontwikkeling (DUO:0000031) en "
        "afstammingsonderzoek (DUO:0000033)) en geen hoofddoel; algemeen onderzoeksgebruik (GRU, "
        "DUO:0000042) van de dataset sluit ze niet uit."
    )
    assert result.reasons[0].startswith(
        "The purpose names only research types (method development (DUO:0000031) and "
        "ancestry research (DUO:0000033))"
    )


def test_input_errors_are_reasons_too():
    with pytest.raises(MatcherInputError) as caught:
        parse_request({"purpose": {"codes": [DS]}, "conditions": {"codes": ["DUO:0000001"]}})

    errors = caught.value.errors
    assert errors == {
        "purpose.diseases": [
            "required with disease specific research (DS, DUO:0000007): name at least one "
            "MONDO disease"
        ],
        "conditions.codes": [
            "data use permission (DUO:0000001) is a category; use one of its specific terms"
        ],
    }
    with translation.override("nl"):
        assert errors_text(errors) == (
            "purpose.diseases: verplicht bij ziektespecifiek onderzoek (DS, DUO:0000007): noem "
            "ten minste één MONDO-ziekte; conditions.codes: gebruikstoestemming (DUO:0000001) is "
            "een categorie; gebruik een van de specifieke termen eronder"
        )


def test_the_duo_check_explains_itself_in_dutch_and_keeps_the_reasons_structured():
    dataset = DatasetFacts(slug="diab", conditions=CONDITIONS, cohort_count=40)

    with translation.override("nl"):
        [outcome] = check_duo_compatibility(facts(purpose=PURPOSE, datasets=(dataset,)))

    assert (outcome.status, outcome.explanation) == ("needs_review", " ".join(DUTCH))
    assert outcome.details["reasons"] == ENGLISH
    assert [Reason.from_json(m) for m in outcome.details["reason_messages"]] == ENGLISH


def test_a_stored_duo_check_is_read_in_the_readers_language():
    result = match(PURPOSE, CONDITIONS)
    structured = CheckResult(
        name="duo_compatibility",
        status="needs_review",
        explanation="the explanation in the language it ran in",
        details={
            **result.to_dict(),
            "reason_messages": [reason.as_json() for reason in result.reasons],
            "explanations": {"en": "kept en", "nl": "kept nl"},
        },
    )
    # Stored before reasons were structured: the explanation kept per language, else the one.
    older = CheckResult(
        name="duo_compatibility",
        status="needs_review",
        explanation="the one it ran in",
        details={**result.to_dict(), "explanations": {"en": "kept en", "nl": "kept nl"}},
    )
    oldest = CheckResult(name="duo_compatibility", status="pass", explanation="the one it ran in")

    with translation.override("nl"):
        assert structured.shown_explanation == " ".join(DUTCH)
        assert (older.shown_explanation, oldest.shown_explanation) == (
            "kept nl",
            "the one it ran in",
        )
    with translation.override("en"):
        assert structured.shown_explanation == " ".join(ENGLISH)
    assert stored_reasons_text(structured.details["reason_messages"]) == ENGLISH


@pytest.mark.django_db
def test_the_matcher_api_keeps_its_english_contract_and_adds_the_localised_reasons_on_request(
    api_client,
):
    body = {
        "purpose": {"codes": [DS, MDS], "diseases": [T2D], "for_profit": False},
        "conditions": {"codes": list(CONDITIONS.codes), "diseases": [DIABETES, CANCER]}
        | {"values": {GS: "EU"}},
    }

    plain = api_client.post("/api/v1/consent/match", body, format="json", HTTP_ACCEPT_LANGUAGE="nl")
    localised = api_client.post(
        "/api/v1/consent/match?localised=1", body, format="json", HTTP_ACCEPT_LANGUAGE="nl"
    )
    english = api_client.post(
        "/api/v1/consent/match?localised=1", body, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert plain.status_code == localised.status_code == english.status_code == 200
    assert list(plain.json()) == ["decision", "reasons", "duties"]
    assert plain.json()["reasons"] == ENGLISH
    assert list(localised.json()) == ["decision", "reasons", "duties", "localised_reasons"]
    assert localised.json()["reasons"] == ENGLISH
    assert localised.json()["localised_reasons"] == DUTCH
    assert english.json()["localised_reasons"] == ENGLISH


def test_the_matcher_still_imports_without_django():
    code = (
        "import sys; import consent.matcher as m; "
        "r = m.match(m.Purpose(codes=('DUO:0000042',)), m.Conditions(codes=('DUO:0000042',))); "
        "print(r.decision, any(name.startswith('django') for name in sys.modules))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["compatible", "False"]
    assert matcher.__name__ == "consent.matcher"
