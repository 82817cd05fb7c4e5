"""Results of a permit (EHDS Art. 61): the holder publishes the results within a set time after
the permit ends (default 18 months) and records the publication here; the hub reminds the
holder before the due date and once when it has passed; significant findings go to the access
body's staff.

Only the holder's side (the holder, the requester and the team: ``PermitRole.HOLDER``) records
results or findings; anyone else is refused, and a refusal writes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from lifes.errors import InvalidInput, NotAllowed, NotFound
from permits import workflow
from permits.errors import Code
from permits.models import (
    Permit,
    PermitStatus,
    ResultPublication,
    ResultsReminder,
    ResultsReminderKind,
    SignificantFinding,
)
from permits.services.common import notify_team

#: A DOI as Crossref and DataCite issue them: "10.", a registrant code, "/", a suffix.
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:")
MAX_TITLE = 500
MAX_STATEMENT = 5000
#: Statuses that ended a permit early: it ended when the status changed.
ENDED_EARLY = (PermitStatus.REVOKED, PermitStatus.CLOSED)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def permit_end(permit: Permit) -> dt.date:
    """When the permit ended (or will end): its ``valid_until``, or the moment it was revoked or
    closed, if earlier."""
    end = permit.valid_until
    if permit.status in ENDED_EARLY and permit.status_changed_at:
        end = min(end, permit.status_changed_at)
    return timezone.localdate(end)


def results_due_on(permit: Permit) -> dt.date:
    return add_months(permit_end(permit), settings.RESULTS_DUE_MONTHS)


def results_overdue(permit: Permit, *, today: dt.date | None = None) -> bool:
    """Due date passed and no publication recorded (superseded permits hand the duty on)."""
    if permit.status == PermitStatus.SUPERSEDED:
        return False
    today = today or timezone.localdate()
    return results_due_on(permit) < today and not permit.publications.exists()


def normalise_doi(value: str) -> str:
    """``https://doi.org/10.1234/abc`` or ``doi:10.1234/abc`` → ``10.1234/abc``; '' if no DOI."""
    text = value.strip()
    for prefix in DOI_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    return text if DOI.match(text) else ""


def _holder_permit(*, actor: Any, number: str) -> Permit:
    permit = (
        Permit.objects.select_for_update(of=("self",))
        .select_related("request")
        .filter(number=number)
        .first()
    )
    if permit is None:
        raise NotFound(_("No such permit."))
    if workflow.PermitRole.HOLDER not in workflow.roles_on_permit(actor, permit):
        raise NotAllowed(
            _("Only the permit holder and their team record results."), code=Code.NOT_HOLDER
        )
    return permit


def result_record(
    *,
    actor: Any,
    number: str,
    title: str,
    published_on: dt.date | None,
    doi: str = "",
    url: str = "",
) -> ResultPublication:
    """The holder records a publication of the permit's results: a DOI or a URL (validated),
    its title and its date. It appears on the public register entry."""
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Give the publication's title.")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("At most %(n)d characters.") % {"n": MAX_TITLE}]
    normalised = ""
    if (doi or "").strip():
        normalised = normalise_doi(doi)
        if not normalised:
            errors["doi"] = [_("A DOI looks like 10.1234/abcd (or https://doi.org/10.1234/abcd).")]
    url = (url or "").strip()
    if url:
        try:
            URLValidator(schemes=["https", "http"])(url)
        except ValidationError:
            errors["url"] = [_("Give a full web address, starting with https://.")]
    if not (doi or "").strip() and not url:
        errors["doi"] = [_("Give the DOI or the web address of the publication.")]
    if published_on is None:
        errors["published_on"] = [_("Give the date of publication.")]
    elif published_on > timezone.localdate():
        errors["published_on"] = [_("The date of publication cannot be in the future.")]
    if errors:
        raise InvalidInput(
            _("The publication could not be recorded."), code=Code.INVALID_RESULT, errors=errors
        )
    with transaction.atomic():
        permit = _holder_permit(actor=actor, number=number)
        result = ResultPublication.objects.create(
            permit=permit,
            title=title,
            doi=normalised,
            url=url,
            published_on=published_on,
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action="permit.result_record",
            target=permit,
            payload={
                "number": permit.number,
                "title": title,
                "doi": normalised,
                "url": url,
                "published_on": published_on.isoformat(),
            },
        )
    return result


def finding_report(*, actor: Any, number: str, statement: str) -> SignificantFinding:
    """The holder reports a significant finding to the access body (Art. 61(3)). Staff read it
    on the permit page; it is not published on the register."""
    statement = (statement or "").strip()
    if not statement:
        raise InvalidInput(
            _("Describe the finding."),
            code=Code.INVALID_RESULT,
            errors={"statement": [_("A statement is required.")]},
        )
    if len(statement) > MAX_STATEMENT:
        raise InvalidInput(
            _("Describe the finding."),
            code=Code.INVALID_RESULT,
            errors={"statement": [_("At most %(n)d characters.") % {"n": MAX_STATEMENT}]},
        )
    with transaction.atomic():
        permit = _holder_permit(actor=actor, number=number)
        finding = SignificantFinding.objects.create(
            permit=permit, statement=statement, reported_by=actor
        )
        audit_record(
            actor=actor,
            action="permit.finding_report",
            target=permit,
            payload={"number": permit.number, "finding": finding.pk},
        )
    return finding


def _reminder_kind(permit: Permit, today: dt.date) -> str | None:
    due = results_due_on(permit)
    if due < today:
        return ResultsReminderKind.OVERDUE
    if due - dt.timedelta(days=settings.RESULTS_REMINDER_LEAD_DAYS) <= today:
        return ResultsReminderKind.DUE_SOON
    return None


def _ended_by(day: dt.date) -> Q:
    """Permits whose end (``permit_end``) is on or before ``day``."""
    moment = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    return Q(valid_until__lt=moment) | Q(status__in=ENDED_EARLY, status_changed_at__lt=moment)


def results_reminders_send(*, batch_size: int = 200, now: dt.datetime | None = None) -> int:
    """Remind holders whose results are due soon, and once more when overdue; one e-mail per
    permit and kind, ever (the ``ResultsReminder`` row, unique per permit and kind, is written
    in the same transaction as the e-mail's outbox rows, so a second run sends nothing).

    Neither superseded permits (the new version carries the duty) nor those with a recorded
    result are reminded. Each kind is one bounded query on the end date, so a permit already
    reminded never fills a batch again."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    months = settings.RESULTS_DUE_MONTHS
    lead = dt.timedelta(days=settings.RESULTS_REMINDER_LEAD_DAYS)
    # due_on = end + months: due soon when due_on - lead <= today; overdue when due_on < today.
    bounds = {
        ResultsReminderKind.OVERDUE: add_months(today - dt.timedelta(days=1), -months),
        ResultsReminderKind.DUE_SOON: add_months(today + lead, -months),
    }
    base = (
        Permit.objects.exclude(status=PermitStatus.SUPERSEDED)
        .exclude(Exists(ResultPublication.objects.filter(permit=OuterRef("pk"))))
        .select_related("request")
        .order_by("valid_until", "pk")
    )
    sent = 0
    for kind, bound in bounds.items():
        already = ResultsReminder.objects.filter(permit=OuterRef("pk"))
        if kind == ResultsReminderKind.OVERDUE:
            already = already.filter(kind=kind)
        for permit in base.filter(_ended_by(bound)).exclude(Exists(already))[:batch_size]:
            due_on = results_due_on(permit)
            if _reminder_kind(permit, today) != kind:
                continue  # month lengths: the bound is close, the due date decides
            try:
                with transaction.atomic():
                    ResultsReminder.objects.create(
                        permit=permit, kind=kind, due_on=due_on, sent_at=now
                    )
                    audit_record(
                        actor=None,
                        action="permit.results_reminder",
                        target=permit,
                        payload={
                            "number": permit.number,
                            "kind": str(kind),
                            "due_on": due_on.isoformat(),
                        },
                    )
                    notify_team(permit, template=f"results_{kind}", context={"due_on": due_on})
            except IntegrityError:
                continue  # another run reminded them already
            sent += 1
    return sent
