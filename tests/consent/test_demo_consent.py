"""The demo consent data: imported through the services, idempotent, with real cohorts."""

from __future__ import annotations

import pytest

from consent.matcher import Purpose
from consent.models import ConsentRecord, Participant
from consent.selectors import cohort_for
from demo.consent_world import seed_consent
from demo.world import SeedReport


@pytest.mark.django_db
def test_seed_consent_gives_each_demo_dataset_consenting_participants(world):
    from catalogue.models import Dataset

    # seed_demo (the world fixture) calls seed_consent; calling it again changes nothing.
    seed_consent(SeedReport())
    again = SeedReport()
    seed_consent(again)

    assert again.created == []
    counts = {
        d.slug: Participant.objects.filter(dataset=d).count()
        for d in Dataset.objects.filter(
            slug__in=[
                "leiden-diabetes-cohort",
                "lumc-cardiovascular-biobank",
                "leiden-population-health-study",
            ]
        )
    }
    assert counts == {
        "leiden-diabetes-cohort": 60,
        "lumc-cardiovascular-biobank": 120,
        "leiden-population-health-study": 200,
    }
    diabetes = Dataset.objects.get(slug="leiden-diabetes-cohort")
    t2d = cohort_for(
        dataset=diabetes,
        purpose=Purpose(
            codes=("DUO:0000007",), diseases=("MONDO:0005148",), commercial=False, for_profit=False
        ),
    )
    t1d = cohort_for(
        dataset=diabetes,
        purpose=Purpose(
            codes=("DUO:0000007",), diseases=("MONDO:0005147",), commercial=False, for_profit=False
        ),
    )
    # 60 minus one withdrawal and one opt-out; type 1 also loses the 12 type-2-only
    # and the 3 who refuse type 1 research.
    assert (t2d.count, t1d.count, t2d.version) == (58, 43, 3)
    cardio = Dataset.objects.get(slug="lumc-cardiovascular-biobank")
    commercial = cohort_for(
        dataset=cardio, purpose=Purpose(codes=("DUO:0000006",), commercial=True, for_profit=True)
    )
    # Every fourth consent has no NCU; the withdrawn (LCB-0003) and opted-out (LCB-0042) ones
    # both carry NCU, so all 30 remain.
    assert commercial.count == 30
    assert ConsentRecord.objects.filter(source="withdrawal").count() == 3
