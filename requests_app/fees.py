"""The fee of an application (EHDS Art. 62): each access body whose datasets are requested
charges its schedule's fee, reduced by the kind of the requesting organisation.

``fee_quote`` is what the wizard shows before submission; ``fee_record`` stores the same
computation once, at the first submission, and never again (the fee charged is fixed then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind
from requests_app.after_models import FeeSchedule, RequestFee

#: The reduction each kind of requesting organisation gets: the schedule's field for it.
#: Universities are the "academic" kind; other kinds (hospitals, companies) pay the full fee.
REDUCTION_FIELD: dict[str, str] = {
    OrganisationKind.PUBLIC_BODY: "reduction_public_body",
    OrganisationKind.ACADEMIC: "reduction_university",
    OrganisationKind.SMALL_ENTERPRISE: "reduction_small_enterprise",
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class FeeLine:
    access_body: str
    base: Decimal
    reduction_percent: int
    amount: Decimal
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "access_body": self.access_body,
            "base": str(self.base),
            "reduction_percent": self.reduction_percent,
            "amount": str(self.amount),
            "note": self.note,
        }


@dataclass(frozen=True)
class FeeQuote:
    lines: list[FeeLine] = field(default_factory=list)
    currency: str = ""

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount": str(self.amount),
            "currency": self.currency,
            "lines": [line.as_dict() for line in self.lines],
        }


def reduced(base: Decimal, percent: int) -> Decimal:
    return (base * (Decimal(100 - percent) / 100)).quantize(CENT, rounding=ROUND_HALF_UP)


def fee_quote(*, organisation: Organisation, datasets: list[Any]) -> FeeQuote:
    """The fee for asking ``datasets`` on behalf of ``organisation``: one line per access body
    (a dataset's owner organisation) that has a fee schedule."""
    bodies = sorted({d.owner_id for d in datasets if d.owner_id})
    schedules = FeeSchedule.objects.filter(organisation_id__in=bodies).select_related(
        "organisation"
    )
    reduction_field = REDUCTION_FIELD.get(organisation.kind)
    lines = []
    for schedule in schedules:
        percent = getattr(schedule, reduction_field) if reduction_field else 0
        lines.append(
            FeeLine(
                access_body=schedule.organisation.name,
                base=schedule.base_fee,
                reduction_percent=percent,
                amount=reduced(schedule.base_fee, percent),
                note=schedule.note,
            )
        )
    return FeeQuote(lines=lines, currency=settings.EHDS_FEE_CURRENCY)


def fee_record(request: Any) -> RequestFee:
    """Store the fee at the first submission, inside its transaction; later rounds keep it."""
    existing = RequestFee.objects.filter(request=request).first()
    if existing is not None:
        return existing
    quote = fee_quote(organisation=request.organisation, datasets=list(request.datasets.all()))
    return RequestFee.objects.create(
        request=request,
        amount=quote.amount,
        currency=quote.currency,
        lines=[line.as_dict() for line in quote.lines],
        recorded_at=timezone.now(),
    )
