"""The EHDS after the decision, in the demo: the LUMC's fee schedule (Art. 62), a permit
renewed once (its ``-v2`` supersedes ``-v1``), and an appeal against the commercial refusal
with its outcome recorded by staff. Idempotent, like the rest of ``seed_demo``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Organisation, User
from catalogue.models import Dataset
from permits.models import Permit
from permits.services import permit_issue
from requests_app import services
from requests_app.models import AccessRequest, FeeSchedule, RequestState

LUMC = "Leiden University Medical Center"
RENEWAL_TITLE = "Blood pressure trajectories in the cardiovascular biobank"
REFUSED_TITLE = "Biomarker discovery for a commercial assay"


def seed_fees(report: Any) -> None:
    """Before the requests, so their submissions record the fee."""
    lumc = Organisation.objects.get(name=LUMC)
    if FeeSchedule.objects.filter(organisation=lumc).exists():
        return
    FeeSchedule.objects.create(
        organisation=lumc,
        base_fee=Decimal("750.00"),
        reduction_public_body=50,
        reduction_university=30,
        reduction_small_enterprise=20,
        note="Per application; covers the review by the boards.",
    )
    report.created.append("fee schedule of the LUMC (EUR 750, reductions 50/30/20 %)")


def _renewal(report: Any) -> None:
    from demo.permits_world import approve_request
    from demo.requests_world import _fill

    requester = User.objects.get(email="requester@demo.lifes.test")
    if AccessRequest.objects.filter(title=RENEWAL_TITLE).exists():
        return
    request = _fill(
        RENEWAL_TITLE, requester, ["lumc-cardiovascular-biobank"], {"purpose_code": "DUO:0000006"}
    )
    request = approve_request(request)
    if request.state == RequestState.APPROVED:  # no on-commit issue in this run
        permit_issue(actor=None, request_id=request.pk)
    first = Permit.objects.filter(request=request).order_by("pk").first()
    if first is None:
        return
    request.refresh_from_db()
    services.request_amend(
        actor=requester,
        request_id=request.pk,
        kind="renewal",
        changes="Six more months for the second follow-up visit.",
        reason="The follow-up visits were delayed; the analysis needs both.",
        new_period_end=(request.period_end or timezone.localdate()) + dt.timedelta(days=182),
    )
    request = approve_request(request)
    if request.state == RequestState.APPROVED:
        permit_issue(actor=None, request_id=request.pk)
    second = Permit.objects.filter(request=request).order_by("-pk").first()
    report.created.append(f"permit {first.number} renewed as {second.number}")


def _appeal(report: Any) -> None:
    request = AccessRequest.objects.filter(title=REFUSED_TITLE).first()
    if request is None or request.appeals.exists() or request.state != RequestState.REJECTED:
        return
    services.appeal_lodge(
        actor=request.requester,
        request_id=request.pk,
        reasons="The assay is validated on pseudonymised data only; the refusal assumed export.",
    )
    services.appeal_decide(
        actor=User.objects.get(email="admin@demo.lifes.test"),
        request_id=request.pk,
        outcome="dismissed",
        reasons="The consent of the biobank's participants excludes commercial use.",
    )
    report.created.append(f"appeal on {request.reference} (dismissed)")


def seed_after(report: Any) -> None:
    if not Dataset.objects.filter(slug="lumc-cardiovascular-biobank").exists():
        return
    _renewal(report)
    _appeal(report)
