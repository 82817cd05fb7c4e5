"""The DUO codes and code groups of the hub, in one place (issue 13, "concepts with one home").

Every module that names a DUO term (the matcher, the consent rules, the templates' sentences,
the ODRL export, the request form, the permits) imports the term from here, so a code or a
group is written once. Pure constants: no Django, no I/O, no project import, so that the pure
matcher and the lower ``catalogue`` layer can use it too (``catalogue.odrl -> consent.duo`` is
the one import the layers contract in ``pyproject.toml`` lets through, for that reason).

Codes checked against duo.csv / duo.owl, release v2021-02-23 (EBISPOT/DUO).
"""

from __future__ import annotations

# --- data use permissions (under DUO:0000001) ------------------------------------------------
NRES = "DUO:0000004"  # no restriction
GRU = "DUO:0000042"  # general research use
HMB = "DUO:0000006"  # health or medical or biomedical research (subClassOf GRU)
DS = "DUO:0000007"  # disease specific research (subClassOf HMB)
POA = "DUO:0000011"  # population origins or ancestry research only (NOT under GRU in the OWL)

# --- data use modifiers (under DUO:0000017) -------------------------------------------------
RS = "DUO:0000012"  # research specific restrictions
NMDS = "DUO:0000015"  # no general methods research
GSO = "DUO:0000016"  # genetic studies only
NPUNCU = "DUO:0000018"  # not for profit, non commercial use only
PUB = "DUO:0000019"  # publication required
COL = "DUO:0000020"  # collaboration required
IRB = "DUO:0000021"  # ethics approval required
GS = "DUO:0000022"  # geographical restriction
MOR = "DUO:0000024"  # publication moratorium (value: ISO 8601 date)
TS = "DUO:0000025"  # time limit on use (value: months)
US = "DUO:0000026"  # user specific restriction
PS = "DUO:0000027"  # project specific restriction
IS = "DUO:0000028"  # institution specific restriction
RTN = "DUO:0000029"  # return to database or resource
CC = "DUO:0000043"  # clinical care use
NPOA = "DUO:0000044"  # population origins or ancestry research prohibited
NPU = "DUO:0000045"  # not for profit organisation use only
NCU = "DUO:0000046"  # non-commercial use only

# --- research types (under OBI:0000066 "investigation") -------------------------------------
MDS = "DUO:0000031"  # method development
POPULATION = "DUO:0000032"  # population research
ANCESTRY = "DUO:0000033"  # ancestry research
AGE = "DUO:0000034"  # age category research
GENDER = "DUO:0000035"  # gender category research
CONTROL = "DUO:0000036"  # research control
BIOMEDICAL = "DUO:0000037"  # biomedical research
GENETIC = "DUO:0000038"  # genetic research
DRUG = "DUO:0000039"  # drug development research
DISEASE_CATEGORY = "DUO:0000040"  # disease category research

# --- groups ---------------------------------------------------------------------------------
#: The data use permissions a dataset or consent names (one of them).
PERMISSIONS: frozenset[str] = frozenset({NRES, GRU, HMB, DS, POA})
#: The primary purposes a request may name (at most one). NRES describes data, not research.
PRIMARY_PURPOSES: frozenset[str] = frozenset({GRU, HMB, DS, POA})
#: Research-type terms a purpose may add (CONTRACTS.md lists 31-36; 37-40 are accepted too,
#: and GENETIC "genetic research" is what satisfies GSO). In code order.
RESEARCH_TYPES_IN_ORDER: tuple[str, ...] = (
    MDS,
    POPULATION,
    ANCESTRY,
    AGE,
    GENDER,
    CONTROL,
    BIOMEDICAL,
    GENETIC,
    DRUG,
    DISEASE_CATEGORY,
)
RESEARCH_TYPES: frozenset[str] = frozenset(RESEARCH_TYPES_IN_ORDER)
#: Every data use modifier the hub knows.
MODIFIERS: frozenset[str] = frozenset(
    {RS, NMDS, GSO, NPUNCU, PUB, COL, IRB, GS, MOR, TS, US, PS, IS, RTN, CC, NPOA, NPU, NCU}
)
#: Modifiers that are obligations of the requester rather than limits on the purpose.
DUTY_CODES: frozenset[str] = frozenset({IRB, PUB, COL, RTN, MOR, TS})
#: Modifiers that only a person can evaluate: who, where, which project, which research type.
REVIEW_CODES: frozenset[str] = frozenset({RS, GS, US, IS, PS})
#: Modifiers that carry a value in ``conditions.values``, and whether the value is required.
VALUE_CODES: dict[str, bool] = {
    TS: True,
    MOR: True,
    GS: False,
    US: False,
    IS: False,
    PS: False,
    RS: False,
}

#: The shorthand DUO gives each term (the ``shorthand`` column of duo.csv), for the terms the
#: hub names in code; the vocabulary (``consent.vocabulary.duo_term``) has all of them.
ABBREVIATIONS: dict[str, str] = {
    NRES: "NRES",
    GRU: "GRU",
    HMB: "HMB",
    DS: "DS",
    POA: "POA",
    RS: "RS",
    NMDS: "NMDS",
    GSO: "GSO",
    NPUNCU: "NPUNCU",
    PUB: "PUB",
    COL: "COL",
    IRB: "IRB",
    GS: "GS",
    MOR: "MOR",
    TS: "TS",
    US: "US",
    PS: "PS",
    IS: "IS",
    RTN: "RTN",
    CC: "CC",
    NPOA: "NPOA",
    NPU: "NPU",
    NCU: "NCU",
}
