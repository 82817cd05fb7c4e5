"""The demo's public register (EHDS Art. 57/58) and results (Art. 61): the rejected demo
request with the committee's reasons, and the finished pilot's permit with a published result.

The register shows a decision a set number of working days after it was taken
(``REGISTER_PUBLICATION_DELAY_WORKING_DAYS``); the demo's decisions were all taken a moment
ago, so this dates the refusal and the finished pilot back past the delay, as if the demo
world had been running for a while (the live demo permit appears after the delay, as in real
use). Idempotent: what is already old enough or already recorded is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from permits.models import Permit, PermitStatus
from permits.register import publication_cutoff
from permits.services import result_record
from requests_app.models import AccessRequest, RequestState

DEMO_RESULT = {
    "title": "Glycaemic control and body mass index in the Leiden Diabetes Cohort: a pilot",
    "doi": "10.5072/lifes.demo.result.2026",  # DataCite's test prefix: resolves nowhere
}


def _older_than_the_delay() -> dt.datetime:
    return publication_cutoff() - dt.timedelta(days=1)


def seed_register(report: Any) -> None:
    cutoff = publication_cutoff()
    moment = _older_than_the_delay()
    dated = AccessRequest.objects.filter(state=RequestState.REJECTED, decided_at__gt=cutoff).update(
        decided_at=moment
    )
    # The finished pilot (closed) publishes its results. Only a permit no node may use any
    # more is dated back: a live permit's issue time is its cohort's opt-out cutoff.
    permit = Permit.objects.filter(status=PermitStatus.CLOSED).order_by("pk").first()
    if permit is not None and permit.issued_at > cutoff:
        dated += Permit.objects.filter(pk=permit.pk).update(issued_at=moment)
    if dated:
        report.created.append(
            f"{dated} register entries dated {settings.REGISTER_PUBLICATION_DELAY_WORKING_DAYS}"
            " working days back"
        )
    if permit is None or permit.publications.exists():
        return
    result_record(
        actor=permit.holder,
        number=permit.number,
        published_on=timezone.localdate(),
        **DEMO_RESULT,
    )
    report.created.append(f"published result of permit {permit.number}")
