"""The demo world of CONTRACTS.md, built only through services so it is audited like real use.

Every step looks its object up first, so running it twice changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, Organisation, User
from accounts.services import (
    api_token_create,
    membership_add,
    organisation_create,
    token_digest,
    totp_device_install,
    user_create,
)
from catalogue.models import Algorithm, Dataset, Node
from catalogue.services import (
    DATASET_METADATA,
    algorithm_register,
    dataset_create,
    dataset_describe,
    node_create,
)

DEMO_PASSWORD = "demo-lifes-2026"  # noqa: S105 - the documented demo password (CONTRACTS.md)
# A fixed demo node token, so the printed token stays valid however often seed_demo runs.
DEMO_NODE_TOKEN = "lifes_demo-node-lumc-station-1-not-for-production"  # noqa: S105
# The demo deciders' authenticator secret (hex, as django-otp stores it): public like the demo
# password, so anyone can sign in to the demo as chair, owner or admin. Never used outside
# seed_demo; production accounts set up their own (README, "Two-factor sign-in").
DEMO_TOTP_KEY = "4c49464553206875622064656d6f20746f747021"  # noqa: S105
DEMO_TOTP_PEOPLE = ("chair@demo.lifes.test", "owner@demo.lifes.test", "admin@demo.lifes.test")
DEMO_DIR = Path(__file__).resolve().parent
NODE_DIR = DEMO_DIR / "node"

ORGANISATIONS = [
    {
        "name": "Leiden University Medical Center",
        "ror_id": "05xvt9f17",
        "country": "NL",
        "kind": "hospital",
        "is_for_profit": False,
        "website": "https://www.lumc.nl",
    },
    {
        "name": "Leiden University",
        "ror_id": "027bh9e22",
        "country": "NL",
        "kind": "academic",
        "is_for_profit": False,
        "website": "https://www.universiteitleiden.nl",
    },
    {
        "name": "Noordwijk Therapeutics B.V.",
        "ror_id": "",
        "country": "NL",
        "kind": "company",
        "is_for_profit": True,
        "website": "",
    },
    {
        "name": "Dutch Health Data Authority",
        "ror_id": "",
        "country": "NL",
        "kind": "public_body",
        "is_for_profit": False,
        "website": "",
    },
]

USERS = [
    # email, full name, organisation, membership role, flags
    ("requester@demo.lifes.test", "Rana Requester", "Leiden University", "member", {}),
    ("chair@demo.lifes.test", "Chris Chair", "Leiden University Medical Center", "member", {}),
    ("member1@demo.lifes.test", "Mila Member", "Leiden University Medical Center", "member", {}),
    ("member2@demo.lifes.test", "Mo Member", "Leiden University", "member", {}),
    ("owner@demo.lifes.test", "Olga Owner", "Leiden University Medical Center", "steward", {}),
    (
        "auditor@demo.lifes.test",
        "Aud Auditor",
        "Dutch Health Data Authority",
        "member",
        {"is_auditor": True},
    ),
    (
        "admin@demo.lifes.test",
        "Ada Admin",
        "Leiden University Medical Center",
        "admin",
        {"is_staff": True, "is_superuser": True},
    ),
    ("industry@demo.lifes.test", "Ivo Industry", "Noordwijk Therapeutics B.V.", "member", {}),
]

DATASETS = [
    {
        "slug": "leiden-diabetes-cohort",
        "persistent_identifier": "https://doi.org/10.5072/lifes.diabetes.2019",
        "title": "Leiden Diabetes Cohort",
        "description": (
            "Longitudinal cohort of adults with diabetes mellitus followed at the LUMC "
            "outpatient clinics since 2019: HbA1c, BMI, medication and complications."
        ),
        "keywords": "diabetes, HbA1c, BMI, cohort, outpatient",
        "licence": "LIFES data-use agreement 1.0",
        # Disease-specific research on diabetes (and narrower), not for profit, ethics
        # approval and publication required.
        "duo_codes": ["DUO:0000007", "DUO:0000045", "DUO:0000021", "DUO:0000019"],
        "duo_diseases": ["MONDO:0005015"],
        "duo_values": {},
        "participant_count": 60,
        # HealthDCAT-AP descriptors (exported by /catalogue.jsonld).
        "licence_url": "https://lifes.example/licences/data-use-agreement-1.0",
        "licence_types": ["NonCommercialUseOnly", "OtherRestrictiveClauses"],
        "themes": ["HEAL"],
        "spatial": ["NLD"],
        "temporal_start": date(2019, 1, 1),
        "temporal_end": date(2025, 12, 31),
        "health_categories": ["EHR", "OTHER_RESEARCH"],
        "legal_basis": [
            "https://w3id.org/dpv/legal/eu/gdpr#A6-1-a",
            "https://w3id.org/dpv/legal/eu/gdpr#A9-2-a",
        ],
        "provenance": "Extracted from the LUMC outpatient record system; pseudonymised at source.",
    },
    {
        "slug": "lumc-cardiovascular-biobank",
        "persistent_identifier": "https://doi.org/10.5072/lifes.cardio.biobank",
        "title": "LUMC Cardiovascular Biobank",
        "description": (
            "Blood samples, ECGs and outcomes of patients treated for cardiovascular disease; "
            "health/medical/biomedical research only, in the EU, not for commercial use."
        ),
        "keywords": "cardiology, biobank, ECG, outcomes",
        "licence": "LIFES data-use agreement 1.0",
        "duo_codes": ["DUO:0000006", "DUO:0000046", "DUO:0000022", "DUO:0000021"],
        "duo_diseases": [],
        "duo_values": {"DUO:0000022": "EU"},
        "participant_count": 1200,
        "licence_url": "https://lifes.example/licences/data-use-agreement-1.0",
        "licence_types": ["NonCommercialUseOnly", "OtherRestrictiveClauses"],
        "themes": ["HEAL", "SCIE"],
        "spatial": ["NLD"],
        "temporal_start": date(2012, 3, 1),
        "temporal_end": date(2024, 6, 30),
        "health_categories": ["BIOBANK", "EHR"],
        "legal_basis": [
            "https://w3id.org/dpv/legal/eu/gdpr#A6-1-a",
            "https://w3id.org/dpv/legal/eu/gdpr#A9-2-a",
        ],
        "provenance": "Samples and ECGs collected at the LUMC under the biobank's broad consent.",
    },
    {
        "slug": "leiden-population-health-study",
        "persistent_identifier": "https://doi.org/10.5072/lifes.population.health",
        "title": "Leiden Population Health Study",
        "description": (
            "A population-based study of health, lifestyle and ageing in the Leiden region; "
            "general research use, no methods development, results returned within 36 months."
        ),
        "keywords": "population, ageing, lifestyle, general research",
        "licence": "CC BY-NC 4.0 (metadata)",
        "duo_codes": ["DUO:0000042", "DUO:0000015", "DUO:0000025", "DUO:0000029"],
        "duo_diseases": [],
        "duo_values": {"DUO:0000025": 36},
        "participant_count": 5000,
        "licence_url": "https://creativecommons.org/licenses/by-nc/4.0/",
        "licence_types": ["Attribution", "NonCommercialUseOnly"],
        "themes": ["HEAL", "SOCI"],
        "spatial": ["NLD"],
        "temporal_start": date(2016, 1, 1),
        "temporal_end": date(2025, 6, 30),
        "health_categories": ["SURVEY", "DETERMINANTS"],
        "legal_basis": [
            "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e",
            "https://w3id.org/dpv/legal/eu/gdpr#A9-2-j",
        ],
        "provenance": "Questionnaires and visits of the study's participants, 2016 onwards.",
    },
]


def file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


ALGORITHMS = [
    {
        "name": "mean-bmi-by-sex",
        "version": "1.0.0",
        "file": NODE_DIR / "algorithms" / "mean_bmi_by_sex.py",
        "description": "Counts and BMI sums per sex: the demo algorithm lifes-node runs.",
        "output_kind": "aggregate",
    },
    {
        "name": "hba1c-distribution",
        "version": "0.3.0",
        "file": None,
        "description": "Histogram of HbA1c in 5 mmol/mol bins, cells of at least 10.",
        "output_kind": "aggregate",
    },
]


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    node_token: str = DEMO_NODE_TOKEN


def _organisations(report: SeedReport) -> dict[str, Organisation]:
    found = {}
    for spec in ORGANISATIONS:
        organisation = Organisation.objects.filter(name=spec["name"]).first()
        if organisation is None:
            organisation = organisation_create(actor=None, **spec)
            report.created.append(f"organisation {organisation.name}")
        found[spec["name"]] = organisation
    return found


def _users(report: SeedReport, organisations: dict[str, Organisation]) -> dict[str, User]:
    """The demo accounts, by email."""
    found = {}
    for email, full_name, organisation_name, role, flags in USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(
                actor=None, email=email, full_name=full_name, password=DEMO_PASSWORD, **flags
            )
            report.created.append(f"user {email}")
        membership_add(
            actor=None, user=user, organisation=organisations[organisation_name], role=role
        )
        found[email] = user
    return found


def _two_factor(report: SeedReport, users: dict[str, User]) -> None:
    """The demo deciders sign in with a second factor like everyone in their role; their
    authenticator is a known demo key (``manage.py demo_totp`` prints the current code)."""
    for email in DEMO_TOTP_PEOPLE:
        if not TOTPDevice.objects.filter(user=users[email], name="demo authenticator").exists():
            totp_device_install(
                actor=None, user=users[email], key=DEMO_TOTP_KEY, name="demo authenticator"
            )
            report.created.append(f"demo authenticator for {email}")


def demo_totp_secret() -> str:
    """The demo key as authenticator apps take it typed in (base32)."""
    return base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode("ascii")


def demo_totp_code(*, steps_ahead: int = 0) -> str:
    """The code a phone with the demo key shows now (or ``steps_ahead`` periods of 30 s on)."""
    totp = TOTP(bytes.fromhex(DEMO_TOTP_KEY))
    totp.time = totp.time + steps_ahead * totp.step
    return f"{totp.token():06d}"


def _node(report: SeedReport, organisations: dict[str, Organisation]) -> Node:
    node = Node.objects.filter(identifier="lumc-station-1").first()
    if node is None:
        identity = user_create(
            actor=None,
            email="lumc-station-1@nodes.lifes.test",
            full_name="LUMC Data Station 1",
            is_machine=True,
        )
        node = node_create(
            actor=None,
            identifier="lumc-station-1",
            name="LUMC Data Station 1",
            organisation=organisations["Leiden University Medical Center"],
            base_url="https://station1.lumc.example",
            identity=identity,
        )
        report.created.append(f"node {node.identifier}")
    if not ApiToken.objects.filter(key_hash=token_digest(DEMO_NODE_TOKEN)).exists():
        api_token_create(
            actor=None, user=node.identity, name="demo node credential", key=DEMO_NODE_TOKEN
        )
    return node


def _datasets(
    report: SeedReport, organisations: dict[str, Organisation], node: Node, users: dict[str, User]
) -> None:
    owner = organisations["Leiden University Medical Center"]
    hdab = organisations["Dutch Health Data Authority"]
    for spec in DATASETS:
        existing = Dataset.objects.filter(slug=spec["slug"]).first()
        if existing is not None:
            if not existing.health_categories:
                # Seeded before the HealthDCAT-AP descriptors existed: fill them in.
                dataset_describe(
                    actor=None,
                    dataset=existing,
                    hdab=hdab,
                    **{key: spec[key] for key in ("temporal_start", "temporal_end")},
                    **{key: spec[key] for key in DATASET_METADATA},
                )
                report.created.append(f"descriptors of dataset {spec['slug']}")
            continue
        dataset_create(
            actor=None,
            owner=owner,
            node=node,
            contact_email="data@lumc.example",
            stewards=[users["owner@demo.lifes.test"]],
            hdab=hdab,
            **spec,
        )
        report.created.append(f"dataset {spec['slug']}")


def _algorithms(report: SeedReport, organisations: dict[str, Organisation]) -> None:
    for spec in ALGORITHMS:
        if Algorithm.objects.filter(name=spec["name"], version=spec["version"]).exists():
            continue
        path = spec["file"]
        if path is not None and path.exists():
            digest = file_digest(path)
        else:
            digest = "sha256:" + hashlib.sha256(spec["name"].encode()).hexdigest()
        algorithm_register(
            actor=None,
            name=spec["name"],
            version=spec["version"],
            digest=digest,
            description=spec["description"],
            output_kind=spec["output_kind"],
            maintainer=organisations["Leiden University"],
        )
        report.created.append(f"algorithm {spec['name']} {spec['version']}")


def seed_demo(*, with_requests: bool = True) -> SeedReport:
    """Each step is its own audited transaction (as in real use), so side effects such as the
    checks after a submission and the permit after an approval run as they would live."""
    from demo.after_world import seed_after, seed_fees
    from demo.consent_world import seed_consent
    from demo.ehds_world import seed_ehds
    from demo.forms_world import seed_forms
    from demo.permits_world import seed_permits
    from demo.requests_world import seed_requests

    report = SeedReport()
    organisations = _organisations(report)
    users = _users(report, organisations)
    _two_factor(report, users)
    node = _node(report, organisations)
    _datasets(report, organisations, node, users)
    _algorithms(report, organisations)
    seed_consent(report)
    seed_forms(report)
    seed_fees(report)
    from demo.terms_world import seed_terms

    seed_terms(report)
    if with_requests:
        seed_requests(report, users)
        seed_permits(report)
        seed_ehds(report, users)
        from demo.register_world import seed_register

        seed_register(report)
        seed_after(report)
    return report
