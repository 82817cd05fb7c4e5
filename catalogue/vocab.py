"""The closed vocabularies the catalogue speaks, as codes → IRIs and labels.

One home for every external IRI the DCAT-AP / HealthDCAT-AP export and the ODRL rendering use,
so the models store short codes and the exports derive the IRIs. Labels are needed because the
DCAT-AP 3 shapes require ``skos:prefLabel`` on every ``skos:Concept`` a catalogue mentions.
"""

from __future__ import annotations

from dataclasses import dataclass

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
DATA_THEME_SCHEME = EU_AUTHORITY + "data-theme"
ACCESS_RIGHT_NON_PUBLIC = EU_AUTHORITY + "access-right/NON_PUBLIC"
AVAILABILITY_STABLE = EU_AUTHORITY + "planned-availability/STABLE"
LANGUAGE_ENG = EU_AUTHORITY + "language/ENG"

# Regulation (EU) 2025/327 (EHDS) and Regulation (EU) 2016/679 (GDPR), as ELI IRIs.
EHDS = "http://data.europa.eu/eli/reg/2025/327/oj"
GDPR = "http://data.europa.eu/eli/reg/2016/679/oj"
APPLICABLE_LEGISLATION = {EHDS: "Regulation (EU) 2025/327 (EHDS)", GDPR: "Regulation (EU) 2016/679"}

# EU data-theme authority table (the DCAT-AP dcat:theme vocabulary): the codes a health
# catalogue uses.
DATA_THEMES = {
    "HEAL": "Health",
    "SOCI": "Population and society",
    "SCIE": "Science and technology",
    "ENVI": "Environment",
    "EDUC": "Education, culture and sport",
    "ECON": "Economy and finance",
}

# EU dataset-type authority table: what dct:type says about personal data.
DATASET_TYPE_PERSONAL = (EU_AUTHORITY + "dataset-type/PERSONAL_DATA", "Personal data")
DATASET_TYPE_NON_PERSONAL = (EU_AUTHORITY + "dataset-type/NON_PERSONAL_DATA", "Non-personal data")
# DPV personal-data category "Health" (special category, GDPR Art. 9).
DPV_PD_HEALTH = "https://w3id.org/dpv/pd#Health"


@dataclass(frozen=True)
class Place:
    label: str
    bbox: str  # WKT polygon (lon lat), as DCAT-AP's dcat:bbox recommends
    centroid: str  # WKT point


# EU country authority codes with a bounding box and centroid (rounded, WGS84), because the
# DCAT-AP Location shape recommends both. Extend the table when a dataset covers a new place.
PLACES = {
    "NLD": Place(
        "Netherlands",
        "POLYGON((3.31 50.75,7.23 50.75,7.23 53.56,3.31 53.56,3.31 50.75))",
        "POINT(5.29 52.13)",
    ),
    "BEL": Place(
        "Belgium",
        "POLYGON((2.54 49.50,6.41 49.50,6.41 51.51,2.54 51.51,2.54 49.50))",
        "POINT(4.47 50.50)",
    ),
    "DEU": Place(
        "Germany",
        "POLYGON((5.87 47.27,15.04 47.27,15.04 55.06,5.87 55.06,5.87 47.27))",
        "POINT(10.45 51.17)",
    ),
    "FRA": Place(
        "France",
        "POLYGON((-5.14 41.33,9.56 41.33,9.56 51.09,-5.14 51.09,-5.14 41.33))",
        "POINT(2.21 46.23)",
    ),
}
ALPHA2_TO_PLACE = {"NL": "NLD", "BE": "BEL", "DE": "DEU", "FR": "FRA"}


def country_iri(code: str) -> str:
    return f"{EU_AUTHORITY}country/{code}"


# Health categories of EHDS Art. 51 as HealthDCAT-AP codes them. HealthDCAT-AP release 5 names
# the property but its category vocabulary has no published IRIs yet; this base is the one in
# use by EU implementations and is kept here, in one place, to change when it is published.
HEALTH_CATEGORY_BASE = "http://healthdata.ec.europa.eu/authority/health-category/"
HEALTH_CATEGORIES = {
    "EHR": "Electronic health records",
    "CLAIMS": "Health insurance claims and reimbursement data",
    "GENOMIC": "Human genetic, genomic and proteomic data",
    "REGISTRY": "Population-based health data registries",
    "CLINICAL_TRIAL": "Data from clinical trials and investigations",
    "BIOBANK": "Data from biobanks and associated databases",
    "SURVEY": "Health data from surveys and questionnaires",
    "DETERMINANTS": "Data on factors with an impact on health",
    "PATHOGEN": "Human pathogen data",
    "MEDICAL_DEVICE": "Data from medical devices",
    "OTHER_RESEARCH": "Data from other research cohorts and studies",
}

# ADMS licence types (dct:type of a dct:LicenseDocument).
LICENCE_TYPE_BASE = "http://purl.org/adms/licencetype/"
LICENCE_TYPES = {
    "Attribution": "Attribution",
    "NonCommercialUseOnly": "Non-commercial use only",
    "PublicDomain": "Public domain",
    "ViralEffect-ShareAlike": "Viral effect (share-alike)",
    "OtherRestrictiveClauses": "Other restrictive clauses",
    "JurisdictionWithinTheEU": "Jurisdiction within the EU",
    "RoyaltiesRequired": "Royalties required",
}

# ADMS publisher types (dct:type of a foaf:Agent), from accounts.OrganisationKind.
PUBLISHER_TYPE_BASE = "http://purl.org/adms/publishertype/"
PUBLISHER_TYPES = {
    "academic": ("Academia-ScientificOrganisation", "Academia/Scientific organisation"),
    "hospital": ("NonProfitOrganisation", "Non-profit organisation"),
    "company": ("Company", "Company"),
    "public_body": ("NationalAuthority", "National authority"),
    "other": ("NonGovernmentalOrganisation", "Non-governmental organisation"),
}

PUBLISHER_TYPE_LABELS = dict(PUBLISHER_TYPES.values())

# The file-type authority table (dct:format of a distribution).
FILE_TYPE_CSV = (EU_AUTHORITY + "file-type/CSV", "CSV")

# Legal bases a dataset may name (DPV and its GDPR extension).
DPV = "https://w3id.org/dpv#"
DPV_GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"
LEGAL_BASES = {
    DPV + "Consent": "Consent",
    DPV_GDPR + "A6-1-a": "GDPR Art. 6(1)(a) consent",
    DPV_GDPR + "A6-1-e": "GDPR Art. 6(1)(e) public task",
    DPV_GDPR + "A9-2-a": "GDPR Art. 9(2)(a) explicit consent",
    DPV_GDPR + "A9-2-j": "GDPR Art. 9(2)(j) scientific research",
}

# duo-odrl-dpv (Pandit & Esteves, https://w3id.org/duodrl) purposes, actions and parties.
DUODRL = "https://w3id.org/duodrl#"
