"""Fixtures for the consent tests: a fresh dataset stewarded by the demo owner, DUO/MONDO ids."""

from __future__ import annotations

import pytest

from accounts.models import Organisation
from catalogue.models import Dataset, Node
from catalogue.services import dataset_create

DUO = "http://purl.obolibrary.org/obo/duo.owl"
NRES, GRU, HMB, DS, POA = "DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"
MDS, POPULATION, ANCESTRY = "DUO:0000031", "DUO:0000032", "DUO:0000033"
NMDS, NPU, NCU, NPUNCU, IRB, GS, IS = (
    "DUO:0000015",
    "DUO:0000045",
    "DUO:0000046",
    "DUO:0000018",
    "DUO:0000021",
    "DUO:0000022",
    "DUO:0000028",
)
DIABETES, T2D, T1D = "MONDO:0005015", "MONDO:0005148", "MONDO:0005147"
CANCER, INTESTINAL, COLORECTAL, BREAST = (
    "MONDO:0004992",
    "MONDO:0005814",
    "MONDO:0005575",
    "MONDO:0007254",
)


def make_dataset(slug: str, steward, **extra) -> Dataset:
    return dataset_create(
        actor=None,
        slug=slug,
        persistent_identifier=f"https://doi.org/10.5072/{slug}",
        title=slug.replace("-", " ").title(),
        description="A dataset for the consent tests.",
        owner=Organisation.objects.get(name="Leiden University Medical Center"),
        node=Node.objects.get(identifier="lumc-station-1"),
        contact_email="data@lumc.example",
        stewards=[steward],
        duo_codes=extra.pop("duo_codes", [HMB]),
        **extra,
    )


@pytest.fixture
def dataset(world) -> Dataset:
    """A dataset with no participants yet, stewarded by owner@demo.lifes.test."""
    return make_dataset("consent-test-cohort", world["owner"])
