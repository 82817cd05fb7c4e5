"""The data-use matcher and its vocabulary, checked against DUO definitions and DUOS rules.

No Django: run with ``pytest -p no:django tests/consent/test_matcher.py``. MONDO ids are real
terms of the shipped release (checked against mondo.tsv):

    diabetes mellitus        MONDO:0005015  (parent of both types below)
    type 2 diabetes mellitus MONDO:0005148
    type 1 diabetes mellitus MONDO:0005147
    cancer                   MONDO:0004992
    intestinal cancer        MONDO:0005814  (under cancer)
    colorectal cancer        MONDO:0005575  (under intestinal cancer)
    breast cancer            MONDO:0007254
    myocardial infarction    MONDO:0005068
"""

from __future__ import annotations

import gzip
import importlib.util
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from consent import vocabulary as vocab
from consent.matcher import (
    Conditions,
    MatcherInputError,
    MatchResult,
    Purpose,
    match,
    parse_conditions,
    parse_request,
)

# DUO permissions and purposes
NRES, GRU, HMB, DS, POA = "DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"
# DUO modifiers
RS, NMDS, GSO, NPUNCU = "DUO:0000012", "DUO:0000015", "DUO:0000016", "DUO:0000018"
PUB, COL, IRB, GS = "DUO:0000019", "DUO:0000020", "DUO:0000021", "DUO:0000022"
MOR, TS, US, PS, IS = "DUO:0000024", "DUO:0000025", "DUO:0000026", "DUO:0000027", "DUO:0000028"
RTN, CC, NPOA, NPU, NCU = "DUO:0000029", "DUO:0000043", "DUO:0000044", "DUO:0000045", "DUO:0000046"
# DUO research types
MDS, POPULATION, ANCESTRY, AGE = "DUO:0000031", "DUO:0000032", "DUO:0000033", "DUO:0000034"
GENDER, CONTROL, GENETIC = "DUO:0000035", "DUO:0000036", "DUO:0000038"

DIABETES, T2D, T1D = "MONDO:0005015", "MONDO:0005148", "MONDO:0005147"
CANCER, INTESTINAL, COLORECTAL = "MONDO:0004992", "MONDO:0005814", "MONDO:0005575"
BREAST, MI = "MONDO:0007254", "MONDO:0005068"


def run(
    purpose_codes: list[str],
    condition_codes: list[str],
    *,
    purpose_diseases: list[str] | None = None,
    diseases: list[str] | None = None,
    values: dict[str, Any] | None = None,
    commercial: bool | None = False,
    for_profit: bool | None = False,
) -> MatchResult:
    """Match through the JSON path the API uses (parse_request, then match)."""
    purpose: dict[str, Any] = {"codes": purpose_codes}
    if purpose_diseases is not None:
        purpose["diseases"] = purpose_diseases
    if commercial is not None:
        purpose["commercial"] = commercial
    if for_profit is not None:
        purpose["for_profit"] = for_profit
    conditions: dict[str, Any] = {"codes": condition_codes}
    if diseases is not None:
        conditions["diseases"] = diseases
    if values is not None:
        conditions["values"] = values
    return match(*parse_request({"purpose": purpose, "conditions": conditions}))


def mentions(result: MatchResult, *needles: str) -> bool:
    """Some single reason names every needle (labels and codes of the terms at issue)."""
    return any(all(n in reason for n in needles) for reason in result.reasons)


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


def test_duo_terms_carry_csv_shorthand_and_the_npoa_curie_not_the_misspelt_iri() -> None:
    assert vocab.duo_term(NPOA).shorthand == "NPOA"
    assert vocab.duo_term(NPOA).label == "population origins or ancestry research prohibited"
    assert not vocab.is_duo("DUO:00000044")
    assert vocab.duo_term(GSO).shorthand == "GSO"
    assert vocab.duo_term(CC).shorthand == "CC"
    assert vocab.duo_term(MDS).kind == "research_type"
    assert vocab.duo_term(HMB).parents == (GRU,)
    assert vocab.duo_term(DS).restricted_to == ("MONDO:0000001",)


def test_duo_hierarchy_ds_under_hmb_under_gru_and_poa_beside_them() -> None:
    assert {DS, HMB, GRU} <= vocab.duo_ancestors(DS)
    assert GRU not in vocab.duo_ancestors(POA)


def test_mondo_ancestors_include_the_term_and_walk_up_only() -> None:
    ancestors = vocab.mondo_ancestors(COLORECTAL)
    assert {COLORECTAL, INTESTINAL, CANCER, "MONDO:0000001"} <= ancestors
    assert isinstance(ancestors, frozenset)
    assert T2D not in vocab.mondo_ancestors(DIABETES)
    assert vocab.mondo_label(T2D) == "type 2 diabetes mellitus"


@pytest.mark.parametrize(
    ("purpose_disease", "dataset_disease", "covered"),
    [
        pytest.param(T2D, DIABETES, True, id="narrower-purpose-covered"),
        pytest.param(T2D, T2D, True, id="same-term-covered"),
        pytest.param(DIABETES, T2D, False, id="broader-purpose-not-covered"),
        pytest.param(COLORECTAL, CANCER, True, id="grandparent-covers"),
        pytest.param(MI, DIABETES, False, id="unrelated-not-covered"),
        pytest.param("MONDO:9999999", DIABETES, False, id="unknown-fails-closed"),
    ],
)
def test_is_covered(purpose_disease: str, dataset_disease: str, covered: bool) -> None:
    assert vocab.is_covered(purpose_disease, dataset_disease) is covered


def test_unknown_terms_raise_key_error() -> None:
    with pytest.raises(KeyError):
        vocab.mondo_ancestors("MONDO:9999999")
    with pytest.raises(KeyError):
        vocab.duo_term("DUO:9999999")
    assert not vocab.is_mondo("MONDO:9999999")
    assert not vocab.is_mondo(None)


def test_the_shipped_files_load() -> None:
    """Their load time is measured by bench/bench_matcher.py, not asserted here."""
    vocab.configure()  # drop the loaded copy
    assert vocab.mondo_size() > 20000
    assert vocab.is_duo(GRU)


def test_parsers_read_tsv_and_obo_alike() -> None:
    tsv = "# attribution\nid\tlabel\tparents\nX:1\troot\t\nX:2\tchild\tX:1\n"
    parsed = vocab.parse_mondo_tsv(io.StringIO(tsv))
    assert parsed == {"X:1": ("root", ()), "X:2": ("child", ("X:1",))}
    obo = """format-version: 1.2

[Term]
id: MONDO:0000001
name: disease or disorder

[Term]
id: MONDO:0005015
name: diabetes mellitus
is_a: MONDO:0000001 {source="x"} ! disease or disorder
is_a: BFO:0000016 ! not a MONDO term

[Term]
id: MONDO:0000002
name: obsolete thing
is_obsolete: true

[Typedef]
id: part_of
name: part of
"""
    assert vocab.parse_obo(io.StringIO(obo)) == {
        "MONDO:0000001": ("disease or disorder", ()),
        "MONDO:0005015": ("diabetes mellitus", ("MONDO:0000001",)),
    }


def test_tsv_gz_writer_is_deterministic_and_round_trips(tmp_path: Any) -> None:
    terms = {"X:2": ("child", ("X:1",)), "X:1": ("root", ())}
    first, second = tmp_path / "a.tsv.gz", tmp_path / "b.tsv.gz"
    vocab.write_mondo_tsv_gz(terms, first, "Data from X, CC BY 4.0")
    vocab.write_mondo_tsv_gz(terms, second, "Data from X, CC BY 4.0")
    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()).startswith(b"# Data from X, CC BY 4.0\n")
    assert vocab.read_mondo_file(first) == terms


# --------------------------------------------------------------------------------------------
# Primary purposes against data use permissions (DUO hierarchy + DUOS rules)
# --------------------------------------------------------------------------------------------

PRIMARY_CASES = [
    # GRU allows any research, including population origins/ancestry (GRU rdfs:comment).
    pytest.param(GRU, GRU, "compatible", id="gru-on-gru"),
    pytest.param(HMB, GRU, "compatible", id="hmb-on-gru"),
    pytest.param(DS, GRU, "compatible", id="ds-on-gru"),
    pytest.param(POA, GRU, "compatible", id="poa-on-gru"),
    # HMB excludes population origins/ancestry; GRU is broader (DUOS HMB_F1, POA_F1).
    pytest.param(GRU, HMB, "incompatible", id="gru-on-hmb"),
    pytest.param(HMB, HMB, "compatible", id="hmb-on-hmb"),
    pytest.param(DS, HMB, "compatible", id="ds-on-hmb"),
    pytest.param(POA, HMB, "incompatible", id="poa-on-hmb"),
    # DS needs a DS purpose (DUOS HMB_F2).
    pytest.param(GRU, DS, "incompatible", id="gru-on-ds"),
    pytest.param(HMB, DS, "incompatible", id="hmb-on-ds"),
    pytest.param(POA, DS, "incompatible", id="poa-on-ds"),
    # POA is limited to population origins/ancestry research.
    pytest.param(POA, POA, "compatible", id="poa-on-poa"),
    pytest.param(GRU, POA, "incompatible", id="gru-on-poa"),
    pytest.param(HMB, POA, "incompatible", id="hmb-on-poa"),
    pytest.param(DS, POA, "incompatible", id="ds-on-poa"),
    # NRES: no restriction on use.
    pytest.param(GRU, NRES, "compatible", id="gru-on-nres"),
    pytest.param(HMB, NRES, "compatible", id="hmb-on-nres"),
    pytest.param(DS, NRES, "compatible", id="ds-on-nres"),
    pytest.param(POA, NRES, "compatible", id="poa-on-nres"),
]


@pytest.mark.parametrize(("primary", "permission", "decision"), PRIMARY_CASES)
def test_primary_purpose_against_permission(primary: str, permission: str, decision: str) -> None:
    result = run(
        [primary],
        [permission],
        purpose_diseases=[T2D] if primary == DS else None,
        diseases=[DIABETES] if permission == DS else None,
    )
    assert result.decision == decision
    assert result.duties == []
    assert mentions(result, primary) or (permission == DS and primary == DS)
    assert mentions(result, vocab.duo_term(permission).label)


def test_gru_on_hmb_reason_names_both_terms_by_label_and_code() -> None:
    result = run([GRU], [HMB])
    assert mentions(result, "general research use (GRU, DUO:0000042)", "broader")
    assert mentions(result, "health or medical or biomedical research (HMB, DUO:0000006)")


def test_poa_on_hmb_reason_says_hmb_excludes_ancestry() -> None:
    result = run([POA], [HMB])
    assert mentions(result, "population origins or ancestry", "HMB, DUO:0000006", POA)


# --------------------------------------------------------------------------------------------
# Disease specific research through the MONDO hierarchy
# --------------------------------------------------------------------------------------------


def test_ds_narrower_purpose_disease_covered_by_broader_consent() -> None:
    result = run([DS], [DS], purpose_diseases=[T2D], diseases=[DIABETES])
    assert result.decision == "compatible"
    assert mentions(result, "type 2 diabetes mellitus (MONDO:0005148)", "diabetes mellitus")


def test_ds_same_disease_is_covered() -> None:
    result = run([DS], [DS], purpose_diseases=[DIABETES], diseases=[DIABETES])
    assert result.decision == "compatible"


def test_ds_broader_purpose_disease_not_covered_by_narrower_consent() -> None:
    result = run([DS], [DS], purpose_diseases=[DIABETES], diseases=[T2D])
    assert result.decision == "incompatible"
    assert mentions(result, "diabetes mellitus (MONDO:0005015)", "narrower", T2D)


def test_ds_unrelated_disease_not_covered() -> None:
    result = run([DS], [DS], purpose_diseases=[MI], diseases=[DIABETES])
    assert result.decision == "incompatible"
    assert mentions(result, "myocardial infarction (MONDO:0005068)", "not covered")


def test_ds_several_purpose_diseases_all_covered() -> None:
    result = run([DS], [DS], purpose_diseases=[T2D, T1D], diseases=[DIABETES])
    assert result.decision == "compatible"
    assert mentions(result, T2D)
    assert mentions(result, T1D)


def test_ds_several_purpose_diseases_one_not_covered() -> None:
    result = run([DS], [DS], purpose_diseases=[T2D, BREAST], diseases=[DIABETES])
    assert result.decision == "incompatible"
    assert mentions(result, "breast cancer (MONDO:0007254)", "not covered")
    assert not mentions(result, T2D, "not covered")


def test_ds_each_purpose_disease_may_be_covered_by_a_different_dataset_disease() -> None:
    result = run([DS], [DS], purpose_diseases=[T2D, COLORECTAL], diseases=[DIABETES, CANCER])
    assert result.decision == "compatible"
    assert mentions(result, "colorectal cancer (MONDO:0005575)", "cancer (MONDO:0004992)")


def test_ds_purpose_on_hmb_dataset_needs_no_disease_match() -> None:
    # DUOS DS_APPROVE_HMB: disease research is within health/medical/biomedical research.
    result = run([DS], [HMB], purpose_diseases=[MI])
    assert result.decision == "compatible"


# --------------------------------------------------------------------------------------------
# Research types and the modifiers that limit them
# --------------------------------------------------------------------------------------------


def test_nmds_allows_methods_development_within_the_consented_disease() -> None:
    # DUOS v2: methods research matches "NMDS is true AND DS-X match".
    result = run([DS, MDS], [DS, NMDS], purpose_diseases=[INTESTINAL], diseases=[CANCER])
    assert result.decision == "compatible"
    assert mentions(result, "method development (DUO:0000031)", "NMDS")


def test_nmds_refuses_methods_development_outside_the_consented_disease() -> None:
    result = run([DS, MDS], [DS, NMDS], purpose_diseases=[MI], diseases=[CANCER])
    assert result.decision == "incompatible"
    assert mentions(result, "no general methods research (NMDS, DUO:0000015)", MDS)


def test_nmds_refuses_methods_development_on_a_general_dataset() -> None:
    result = run([HMB, MDS], [HMB, NMDS])
    assert result.decision == "incompatible"
    assert mentions(result, "NMDS, DUO:0000015", "method development")


def test_nmds_without_methods_development_is_compatible() -> None:
    assert run([HMB], [HMB, NMDS]).decision == "compatible"


def test_methods_development_without_nmds_is_allowed() -> None:
    # DUOS MDS_APPROVE: permitted "so long as it is not expressly prohibited".
    result = run([HMB, MDS], [HMB])
    assert result.decision == "compatible"
    assert mentions(result, "method development (DUO:0000031)", "allowed")


@pytest.mark.parametrize(
    ("codes", "term"),
    [
        pytest.param([GRU, POPULATION], POPULATION, id="population-research"),
        pytest.param([GRU, ANCESTRY], ANCESTRY, id="ancestry-research"),
        pytest.param([POA], POA, id="poa-primary"),
    ],
)
def test_npoa_refuses_population_and_ancestry_research(codes: list[str], term: str) -> None:
    result = run(codes, [GRU, NPOA])
    assert result.decision == "incompatible"
    assert mentions(result, "population origins or ancestry research prohibited", NPOA, term)


def test_npoa_allows_other_research() -> None:
    assert run([HMB, AGE], [GRU, NPOA]).decision == "compatible"


def test_ancestry_research_is_outside_hmb_but_within_gru() -> None:
    on_hmb = run([HMB, ANCESTRY], [HMB])
    assert on_hmb.decision == "incompatible"
    assert mentions(on_hmb, "ancestry research (DUO:0000033)")
    assert run([GRU, ANCESTRY], [GRU]).decision == "compatible"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(AGE, id="age-category"),
        pytest.param(GENDER, id="gender-category"),
        pytest.param(CONTROL, id="research-control"),
    ],
)
def test_research_types_duo_does_not_restrict_are_compatible(code: str) -> None:
    assert run([HMB, code], [HMB]).decision == "compatible"


def test_gso_needs_review_unless_the_purpose_names_genetic_research() -> None:
    unsure = run([HMB], [HMB, GSO])
    assert unsure.decision == "needs_review"
    assert mentions(unsure, "genetic studies only (GSO, DUO:0000016)")
    assert run([HMB, GENETIC], [HMB, GSO]).decision == "compatible"


# --------------------------------------------------------------------------------------------
# Commercial use and for-profit organisations
# --------------------------------------------------------------------------------------------

PROFIT_CASES = [
    pytest.param(NPU, True, False, "incompatible", id="npu-for-profit"),
    pytest.param(NPU, False, True, "compatible", id="npu-commercial-by-non-profit"),
    pytest.param(NPU, False, False, "compatible", id="npu-non-profit"),
    pytest.param(NCU, False, True, "incompatible", id="ncu-commercial"),
    # DUO NCU comment: commercial organisations may use it for research, not commercial purposes.
    pytest.param(NCU, True, False, "compatible", id="ncu-for-profit-research"),
    pytest.param(NPUNCU, True, False, "incompatible", id="npuncu-for-profit"),
    pytest.param(NPUNCU, False, True, "incompatible", id="npuncu-commercial"),
    pytest.param(NPUNCU, False, False, "compatible", id="npuncu-neither"),
    pytest.param(NPU, None, False, "needs_review", id="npu-for-profit-unknown"),
    pytest.param(NCU, False, None, "needs_review", id="ncu-commercial-unknown"),
]


@pytest.mark.parametrize(("code", "for_profit", "commercial", "decision"), PROFIT_CASES)
def test_profit_and_commercial_modifiers(
    code: str, for_profit: bool | None, commercial: bool | None, decision: str
) -> None:
    result = run([HMB], [HMB, code], for_profit=for_profit, commercial=commercial)
    assert result.decision == decision
    assert mentions(result, f"{vocab.duo_term(code).shorthand}, {code}")


def test_profit_flags_do_not_matter_without_npu_or_ncu() -> None:
    assert run([HMB], [HMB], for_profit=True, commercial=True).decision == "compatible"
    assert run([HMB], [HMB], for_profit=None, commercial=None).decision == "compatible"


# --------------------------------------------------------------------------------------------
# Modifiers a person must evaluate, and duties
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "label"),
    [
        pytest.param(RS, None, "research specific restrictions", id="rs"),
        pytest.param(GS, "EU", "geographical restriction", id="gs"),
        pytest.param(US, ["0000-0002-1825-0097"], "user specific restriction", id="us"),
        pytest.param(IS, ["ror.org/05xvt9f17"], "institution specific restriction", id="is"),
        pytest.param(PS, "LIFES-2026-001", "project specific restriction", id="ps"),
    ],
)
def test_modifiers_the_hub_cannot_evaluate_need_review(code: str, value: Any, label: str) -> None:
    result = run([HMB], [GRU, code], values={code: value} if value is not None else None)
    assert result.decision == "needs_review"
    assert mentions(result, f"{label} ({vocab.duo_term(code).shorthand}, {code})")
    if value is not None:
        assert mentions(result, value if isinstance(value, str) else value[0])


def test_all_duties_are_returned_sorted_and_explained() -> None:
    result = run(
        [HMB],
        [GRU, TS, IRB, RTN, PUB, MOR, COL],
        values={TS: 12, MOR: "2027-01-31"},
    )
    assert result.decision == "compatible"
    assert result.duties == [PUB, COL, IRB, MOR, TS, RTN]
    assert mentions(result, "ethics approval required (IRB, DUO:0000021)")
    assert mentions(result, "time limit on use (TS, DUO:0000025)", "12 months")
    assert mentions(result, "publication moratorium (MOR, DUO:0000024)", "2027-01-31")
    assert mentions(result, "return to database or resource (RTN, DUO:0000029)")


def test_duties_are_returned_even_when_incompatible() -> None:
    result = run([GRU], [HMB, IRB, PUB])
    assert result.decision == "incompatible"
    assert result.duties == [PUB, IRB]


def test_clinical_care_modifier_does_not_limit_research() -> None:
    result = run([HMB], [HMB, CC])
    assert result.decision == "compatible"
    assert mentions(result, "clinical care use (CC, DUO:0000043)")


# --------------------------------------------------------------------------------------------
# Incomplete purposes and conditions; precedence
# --------------------------------------------------------------------------------------------


def test_purpose_without_any_code_needs_review() -> None:
    result = run([], [GRU])
    assert result.decision == "needs_review"
    assert mentions(result, "no primary purpose")


def test_purpose_without_primary_purpose_is_still_refused_by_npu() -> None:
    result = run([], [GRU, NPU], for_profit=True)
    assert result.decision == "incompatible"
    assert mentions(result, "no primary purpose")


def test_conditions_without_permission_need_review() -> None:
    result = run([HMB], [IRB])
    assert result.decision == "needs_review"
    assert result.duties == [IRB]
    assert mentions(result, "no data use permission")


def test_incompatible_wins_over_needs_review_and_all_findings_are_listed() -> None:
    result = run([GRU], [HMB, GS, NPU], values={GS: "EU"}, for_profit=True)
    assert result.decision == "incompatible"
    assert mentions(result, "GS, DUO:0000022", "EU")
    assert mentions(result, "NPU, DUO:0000045", "for-profit")
    assert mentions(result, "GRU, DUO:0000042", "broader")


def test_contract_example_needs_review_because_of_the_geographic_value() -> None:
    body = {
        "purpose": {
            "codes": [DS, MDS],
            "diseases": [INTESTINAL],
            "commercial": False,
            "for_profit": False,
        },
        "conditions": {"codes": [DS, NMDS], "diseases": [CANCER], "values": {GS: "EU"}},
    }
    result = match(*parse_request(body))
    assert result.to_dict() == {
        "decision": "needs_review",
        "reasons": result.reasons,
        "duties": [],
    }
    assert set(result.to_dict()) == {"decision", "reasons", "duties"}
    assert mentions(result, "intestinal cancer (MONDO:0005814)", "cancer (MONDO:0004992)")
    assert mentions(result, "geographical restriction (GS, DUO:0000022)", "EU")


def test_match_accepts_dataclasses_built_from_stored_data() -> None:
    purpose = Purpose(codes=[DS], diseases=[T2D], commercial=False, for_profit=False)
    conditions = Conditions(codes=[DS, IRB], diseases=[DIABETES])
    result = match(purpose, conditions)
    assert (result.decision, result.duties) == ("compatible", [IRB])
    assert match(purpose, conditions) == result  # deterministic


# --------------------------------------------------------------------------------------------
# Malformed input: MatcherInputError names the field
# --------------------------------------------------------------------------------------------

OK_PURPOSE: dict[str, Any] = {"codes": [HMB], "commercial": False, "for_profit": False}
OK_CONDITIONS: dict[str, Any] = {"codes": [GRU]}

BAD_CASES = [
    pytest.param({"codes": ["DUO:9999999"]}, OK_CONDITIONS, "purpose.codes", "not a known DUO",
                 id="unknown-duo-code"),
    pytest.param({"codes": [CANCER]}, OK_CONDITIONS, "purpose.codes", "not a DUO code",
                 id="not-a-duo-code"),
    pytest.param({"codes": [GRU, HMB]}, OK_CONDITIONS, "purpose.codes", "more than one primary",
                 id="two-primary-purposes"),
    pytest.param({"codes": [HMB, IRB]}, OK_CONDITIONS, "purpose.codes", "modifier",
                 id="modifier-in-purpose"),
    pytest.param({"codes": [NRES]}, OK_CONDITIONS, "purpose.codes", "not a research purpose",
                 id="nres-in-purpose"),
    pytest.param(OK_PURPOSE, {"codes": [GRU, MDS]}, "conditions.codes", "research type",
                 id="research-type-in-conditions"),
    pytest.param(OK_PURPOSE, {"codes": [GRU, HMB]}, "conditions.codes", "more than one",
                 id="two-permissions"),
    pytest.param(OK_PURPOSE, {"codes": ["DUO:0000005"]}, "conditions.codes", "obsolete",
                 id="obsolete-code"),
    pytest.param(OK_PURPOSE, {"codes": ["DUO:0000017"]}, "conditions.codes", "category",
                 id="category-code"),
    pytest.param({"codes": [DS]}, OK_CONDITIONS, "purpose.diseases", "required",
                 id="ds-purpose-without-disease"),
    pytest.param(OK_PURPOSE, {"codes": [DS]}, "conditions.diseases", "required",
                 id="ds-conditions-without-disease"),
    pytest.param({"codes": [DS], "diseases": ["MONDO:9999999"]}, OK_CONDITIONS,
                 "purpose.diseases", "not a known MONDO", id="unknown-mondo-id"),
    pytest.param({"codes": [DS], "diseases": ["DOID:9351"]}, OK_CONDITIONS,
                 "purpose.diseases", "not a MONDO", id="not-a-mondo-id"),
    pytest.param(OK_PURPOSE, {"codes": [GRU], "diseases": [DIABETES]}, "conditions.diseases",
                 "only with", id="diseases-without-ds"),
    pytest.param({"codes": HMB}, OK_CONDITIONS, "purpose.codes", "must be a list",
                 id="codes-not-a-list"),
    pytest.param({"codes": [HMB, 42]}, OK_CONDITIONS, "purpose.codes", "must be a string",
                 id="code-not-a-string"),
    pytest.param({"codes": [HMB], "commercial": "no"}, OK_CONDITIONS, "purpose.commercial",
                 "true, false", id="commercial-not-bool"),
    pytest.param({"codes": [HMB], "for_proft": True}, OK_CONDITIONS, "purpose.for_proft",
                 "unknown field", id="misspelt-field"),
    pytest.param({"diseases": []}, OK_CONDITIONS, "purpose.codes", "required",
                 id="codes-missing"),
    pytest.param(OK_PURPOSE, {"codes": [GRU, TS], "values": {TS: "12"}},
                 "conditions.values.DUO:0000025", "months", id="ts-value-not-int"),
    pytest.param(OK_PURPOSE, {"codes": [GRU, TS]}, "conditions.values.DUO:0000025",
                 "required", id="ts-without-value"),
    pytest.param(OK_PURPOSE, {"codes": [GRU, MOR], "values": {MOR: "2026-13-01"}},
                 "conditions.values.DUO:0000024", "ISO 8601", id="mor-bad-date"),
    pytest.param(OK_PURPOSE, {"codes": [GRU, IRB], "values": {IRB: True}},
                 "conditions.values.DUO:0000021", "carry a value", id="value-for-valueless"),
    pytest.param(OK_PURPOSE, {"codes": [GRU], "values": {GS: []}},
                 "conditions.values.DUO:0000022", "non-empty", id="gs-empty-region"),
    pytest.param(OK_PURPOSE, {"codes": [GRU], "values": ["EU"]}, "conditions.values",
                 "must be an object", id="values-not-object"),
    pytest.param(OK_PURPOSE, {"codes": [GRU], "values": []}, "conditions.values",
                 "must be an object", id="values-empty-list"),
    pytest.param({"codes": [HMB], "diseases": ""}, OK_CONDITIONS, "purpose.diseases",
                 "must be a list", id="diseases-empty-string"),
    pytest.param(OK_PURPOSE, "GRU", "conditions", "must be an object",
                 id="conditions-not-object"),
]  # fmt: skip


@pytest.mark.parametrize(("purpose", "conditions", "path", "message"), BAD_CASES)
def test_malformed_input_names_the_field(
    purpose: Any, conditions: Any, path: str, message: str
) -> None:
    with pytest.raises(MatcherInputError) as caught:
        parse_request({"purpose": purpose, "conditions": conditions})
    assert path in caught.value.errors, caught.value.errors
    assert any(message in m for m in caught.value.errors[path]), caught.value.errors[path]


def test_every_error_is_reported_at_once() -> None:
    with pytest.raises(MatcherInputError) as caught:
        parse_request(
            {"purpose": {"codes": [DS, "DUO:9999999"]}, "conditions": {"codes": [DS, MDS]}}
        )
    assert set(caught.value.errors) == {
        "purpose.codes",
        "purpose.diseases",
        "conditions.codes",
        "conditions.diseases",
    }


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param([], "non_field_errors", id="body-not-object"),
        pytest.param({"conditions": OK_CONDITIONS}, "purpose", id="purpose-missing"),
        pytest.param({"purpose": OK_PURPOSE, "conditions": OK_CONDITIONS, "x": 1}, "x",
                     id="unknown-top-level-field"),
    ],
)  # fmt: skip
def test_malformed_body(body: Any, path: str) -> None:
    with pytest.raises(MatcherInputError) as caught:
        parse_request(body)
    assert path in caught.value.errors


def test_match_rejects_invalid_dataclasses_too() -> None:
    with pytest.raises(MatcherInputError) as caught:
        match(Purpose(codes=[DS, 7]), Conditions(codes=[GRU], diseases=[None]))
    assert set(caught.value.errors) == {"purpose.codes", "purpose.diseases", "conditions.diseases"}


def test_parse_conditions_normalises_values_for_the_catalogue() -> None:
    conditions = parse_conditions({"codes": [GRU, US], "values": {US: ["a", "b"], GS: "EU"}})
    assert conditions.codes == (GRU, US, GS)  # a value declares its modifier
    assert conditions.values == {US: ("a", "b"), GS: "EU"}


def test_vocabulary_loads_once_under_concurrent_first_use() -> None:
    vocab.configure()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(vocab.mondo_ancestors, [COLORECTAL] * 64))
    assert all(r == results[0] for r in results)
    assert CANCER in results[0]


def test_purpose_and_conditions_are_hashable_for_caching() -> None:
    first = Conditions(codes=[GRU, US], values={US: ["a"]})
    second = Conditions(codes=(GRU, US), values={US: ["a"]})
    assert first == second
    assert hash(first) == hash(second)
    assert hash(Purpose(codes=[HMB])) == hash(Purpose(codes=(HMB,)))


BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_vocab.py"


@pytest.mark.skipif(
    not (BUILD_SCRIPT.parents[2] / "shared" / "ontologies" / "duo.owl").exists(),
    reason="reference ontologies (../shared/ontologies) not present",
)
def test_shipped_vocabulary_is_what_the_build_script_makes() -> None:
    spec = importlib.util.spec_from_file_location("build_vocab", BUILD_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0


# --------------------------------------------------------------------------------------------
# DUO parity with DUOS (broadinstitute/consent-ontology, ``DataUseMatcherTest`` and the rules
# of ``DataUseMatchCases``): each test names the DUOS test or rule it corresponds to.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "diseases"),
    [
        pytest.param([GRU], None, id="gru"),
        pytest.param([HMB], None, id="hmb"),
        pytest.param([POA], None, id="poa"),
        pytest.param([DS], [CANCER], id="ds"),
    ],
)
def test_methods_development_alone_is_compatible_without_nmds(
    conditions: list[str], diseases: list[str] | None
) -> None:
    # DUOS testNMDS_positive_case_1 (GRU dataset, purpose setMethodsResearch only: positive);
    # matchHMB / matchDiseases short-circuit for a purpose without GRU, HMB or diseases.
    result = run([MDS], conditions, diseases=diseases)
    assert result.decision == "compatible"
    assert mentions(result, "only research types", "method development (DUO:0000031)")


@pytest.mark.parametrize(
    ("conditions", "diseases"),
    [
        pytest.param([GRU, NMDS], None, id="gru-nmds"),
        pytest.param([HMB, NMDS], None, id="hmb-nmds"),
        pytest.param([POA, NMDS], None, id="poa-nmds"),
        pytest.param([DS, NMDS], [CANCER], id="ds-nmds"),
    ],
)
def test_methods_development_alone_is_incompatible_with_nmds(
    conditions: list[str], diseases: list[str] | None
) -> None:
    # DUOS matchNMDS: "Any dataset where NMDS is true AND DS-X match"; no disease, no match
    # (testNMDS_negative_case_1 refuses methods research on an NMDS dataset).
    result = run([MDS], conditions, diseases=diseases)
    assert result.decision == "incompatible"
    assert mentions(result, "no general methods research (NMDS, DUO:0000015)")


@pytest.mark.parametrize("permission", [GRU, HMB])
def test_disease_specific_methods_development_is_allowed_on_general_nmds_data(
    permission: str,
) -> None:
    # DUOS matchNMDS allows methods research with NMDS when the diseases match, and
    # matchDiseases counts every DS purpose as matching a GRU or HMB dataset; the v2 table
    # case "NMDS is true AND DS-X match". The methods stay inside the purpose.
    result = run([DS, MDS], [permission, NMDS], purpose_diseases=[T2D])
    assert result.decision == "compatible"
    assert mentions(result, "method development (DUO:0000031)", "type 2 diabetes mellitus")


def test_disease_specific_methods_development_without_covered_disease_is_refused() -> None:
    # DUOS testNMDS_negative_case_1: NMDS dataset with no matching disease, DS(cancer) + MDS.
    result = run([DS, MDS], [DS, NMDS], purpose_diseases=[CANCER], diseases=[DIABETES])
    assert result.decision == "incompatible"
    assert mentions(result, "NMDS, DUO:0000015", "outside the consented diseases")


def test_hmb_purpose_with_methods_development_on_nmds_is_still_refused() -> None:
    # DUOS matchNMDS: an HMB purpose is no "DS-X match", so NMDS refuses its methods work.
    result = run([HMB, MDS], [HMB, NMDS])
    assert result.decision == "incompatible"


def test_npu_and_ncu_are_checked_apart() -> None:
    # DUO NPU limits the organisation, NCU the use; DUOS testCommercial_positive_1 /
    # testCommercial_negative fold both into one flag, the hub keeps them apart.
    assert run([HMB], [HMB, NPU], for_profit=False, commercial=True).decision == "compatible"
    assert run([HMB], [HMB, NPU], for_profit=True, commercial=False).decision == "incompatible"
    assert run([HMB], [HMB, NCU], for_profit=True, commercial=False).decision == "compatible"
    assert run([HMB], [HMB, NCU], for_profit=False, commercial=True).decision == "incompatible"


def test_npu_ncu_docstring_matches_the_code() -> None:
    from consent import matcher

    doc = matcher._match_profit.__doc__ or ""
    assert "checked against ``purpose.for_profit`` only" in doc.split("NCU (DUO:0000046")[0]
    assert "checked against ``purpose.commercial`` only" in doc.split("NCU (DUO:0000046")[1]


@pytest.mark.parametrize("code", [CONTROL, POPULATION, AGE, GENDER])
@pytest.mark.parametrize("primary", [HMB, None])
def test_hub_rule_control_population_age_gender_under_hmb(code: str, primary: str | None) -> None:
    # DUOS abstains (CSMatchTest / matchControlSet test only the retired NCTRL flag); the hub's
    # rule: HMB allows these research types, it excludes only population origins or ancestry.
    result = run([c for c in (primary, code) if c], [HMB])
    assert result.decision == "compatible"
    assert mentions(result, vocab.duo_term(code).display, "allowed under the dataset's")


def test_ancestry_under_hmb_stays_refused() -> None:
    # DUOS POA_F1 / HMB definition: HMB "does not include the study of population origins or
    # ancestry".
    assert run([ANCESTRY], [HMB]).decision == "incompatible"
