"""Every write to participant consent and to a dataset's data-use conditions.

Each service: checks the actor, opens one transaction, locks the dataset's ``DatasetConsentState``
row (so consent writes to one dataset queue, and the cohort version increases by exactly one per
change), writes, appends the audit event, and writes the ``consent.changed`` outbox effect
(the signal is sent after the commit).
``actor=None`` is the system (demo seeding, management commands run by an operator).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import outbox
from audit.services import audit_record
from catalogue.models import Dataset
from consent.csv_import import parse_csv
from consent.errors import Code
from consent.fhir import DocumentError, ImportEntry, parse_document
from consent.matcher import MatcherInputError, parse_conditions
from consent.models import (
    ConsentProvision,
    ConsentRecord,
    ConsentSource,
    ConsentStatus,
    DatasetConsentState,
    Decision,
    MaterialisedCohort,
    Participant,
)
from consent.permissions import can_manage_consent
from consent.reasons_i18n import reasons_text
from consent.rules import ConsentSpec, summarise
from lifes.errors import DomainError, InvalidInput, NotAllowed, NotFound

FORMATS = ("auto", "fhir", "fhir-r4", "fhir-r5", "csv")
_AUDIT_LIST_LIMIT = 1000
_BATCH = 5000


class ConsentImportRefused(InvalidInput):
    """An import with anything wrong in it: nothing was stored; ``report`` says what and why."""

    def __init__(self, report: ImportReport) -> None:
        errors = {item["entry"]: item["reasons"] for item in report.refused}
        super().__init__(
            _("Nothing was imported: %(refused)d of %(entries)d entries were refused.")
            % {"refused": len(report.refused), "entries": report.entries},
            code=Code.IMPORT_REFUSED,
            errors=errors,
        )
        self.report = report


@dataclass
class ImportReport:
    """What an import did, or would have done, and what it refused and why."""

    format: str
    entries: int = 0
    is_stored: bool = False
    participants_created: int = 0
    consents_recorded: int = 0
    unchanged: int = 0
    version: int | None = None
    refused: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "entries": self.entries,
            "is_stored": self.is_stored,
            "participants_created": self.participants_created,
            "consents_recorded": self.consents_recorded,
            "unchanged": self.unchanged,
            "version": self.version,
            "refused": self.refused,
            "ignored": self.ignored,
            "notes": self.notes,
        }


def _require_manager(actor: Any, dataset: Dataset) -> None:
    if actor is not None and not can_manage_consent(actor, dataset):
        raise NotAllowed(
            _("Only the dataset's stewards and hub staff can change its consent records."),
            code=Code.PERMISSION_DENIED,
        )


def _lock_state(dataset: Dataset) -> DatasetConsentState:
    """Lock (creating it if needed) the row that carries the dataset's cohort version."""
    DatasetConsentState.objects.get_or_create(dataset=dataset)
    return DatasetConsentState.objects.select_for_update().get(pk=dataset.pk)


def _bump(state: DatasetConsentState, now) -> int:
    state.version += 1
    state.changed_at = now
    state.save(update_fields=["version", "changed_at"])
    # Every materialised cohort of the dataset is now stale (the version moved): drop them in
    # the same transaction rather than keep megabytes no fetch will ever serve.
    MaterialisedCohort.objects.filter(dataset_id=state.pk).delete()
    outbox.add(
        "consent.changed", key=f"dataset:{state.pk}", dataset_id=state.pk, version=state.version
    )
    return state.version


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


def _parse(content: bytes | str, fmt: str) -> tuple[str, list[ImportEntry]]:
    if fmt not in FORMATS:
        raise InvalidInput(
            _("Unknown format %(format)s.") % {"format": repr(fmt)},
            errors={"format": [_("choose one of %(formats)s") % {"formats": ", ".join(FORMATS)}]},
            code=Code.INVALID,
        )
    if fmt == "auto":
        text = content.lstrip()[:1] if isinstance(content, str) else content.lstrip()[:1]
        fmt = "fhir" if text in ("{", b"{") else "csv"
    if fmt == "csv":
        return "csv", parse_csv(content)
    version = {"fhir-r4": "r4", "fhir-r5": "r5"}.get(fmt, "auto")
    return fmt, parse_document(content, version=version)


def _refuse_duplicates(entries: list[ImportEntry]) -> None:
    seen: dict[str, list[ImportEntry]] = {}
    for entry in entries:
        if entry.spec is not None:
            seen.setdefault(entry.spec.pseudonym, []).append(entry)
    for pseudonym, same in seen.items():
        if len(same) > 1:
            labels = ", ".join(e.label for e in same)
            for entry in same:
                entry.reasons.append(
                    f"participant {pseudonym!r} appears more than once "
                    f"({labels}); give one consent per participant"
                )


def _new_record(
    participant: Participant,
    spec: ConsentSpec,
    actor: Any,
    now,
) -> ConsentRecord:
    return ConsentRecord(
        **summarise(spec.provisions, spec.period_start, spec.period_end),
        pseudonym=participant.pseudonym,
        participant=participant,
        dataset_id=participant.dataset_id,
        status=spec.status,
        decision=spec.decision,
        period_start=spec.period_start,
        period_end=spec.period_end,
        policy_uri=spec.policy_uri,
        policy_version=spec.policy_version,
        date_signed=spec.date_signed,
        source=spec.source,
        source_id=spec.source_id[:200],
        content_digest=spec.digest,
        modifiers=list(spec.modifiers),
        note="\n".join(spec.notes),
        recorded_at=now,
        recorded_by=actor if getattr(actor, "pk", None) else None,
        is_current=True,
    )


def _in_batches(items: list, size: int = _BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _store(
    dataset: Dataset, specs: list[ConsentSpec], actor: Any, report: ImportReport, now
) -> list[str]:
    """Write the specs (inside the caller's transaction); return the pseudonyms that changed."""
    pseudonyms = [spec.pseudonym for spec in specs]
    participants: dict[str, Participant] = {}
    for batch in _in_batches(pseudonyms):
        participants.update(
            (p.pseudonym, p)
            for p in Participant.objects.filter(dataset=dataset, pseudonym__in=batch)
        )
    current: dict[int, ConsentRecord] = {}
    ids = [p.pk for p in participants.values()]
    for batch in _in_batches(ids):
        current.update(
            (c.participant_id, c)
            for c in ConsentRecord.objects.select_for_update()
            .filter(participant_id__in=batch, is_current=True)
            .only("pk", "participant_id", "content_digest")
        )
    new_participants = [
        Participant(dataset=dataset, pseudonym=spec.pseudonym)
        for spec in specs
        if spec.pseudonym not in participants
    ]
    for participant in new_participants:
        participant.full_clean(exclude=["dataset"], validate_unique=False)
    Participant.objects.bulk_create(new_participants, batch_size=_BATCH)
    if any(p.pk is None for p in new_participants):  # backends that return no ids
        for batch in _in_batches([p.pseudonym for p in new_participants]):
            participants.update(
                (p.pseudonym, p)
                for p in Participant.objects.filter(dataset=dataset, pseudonym__in=batch)
            )
    else:
        participants.update((p.pseudonym, p) for p in new_participants)
    report.participants_created = len(new_participants)

    to_record: list[tuple[Participant, ConsentSpec]] = []
    superseded: list[int] = []
    for spec in specs:
        participant = participants[spec.pseudonym]
        previous = current.get(participant.pk)
        if previous is not None and previous.content_digest == spec.digest:
            report.unchanged += 1
            continue
        if previous is not None:
            superseded.append(previous.pk)
        to_record.append((participant, spec))
    for batch in _in_batches(superseded):
        ConsentRecord.objects.filter(pk__in=batch).update(is_current=False, superseded_at=now)
    records = [_new_record(participant, spec, actor, now) for participant, spec in to_record]
    ConsentRecord.objects.bulk_create(records, batch_size=_BATCH)
    if any(r.pk is None for r in records):
        by_participant = dict(
            ConsentRecord.objects.filter(
                participant_id__in=[p.pk for p, _ in to_record],
                is_current=True,
            ).values_list("participant_id", "pk")
        )
        for record in records:
            record.pk = by_participant[record.participant_id]
    provisions = [
        ConsentProvision(
            consent_id=record.pk,
            dataset=dataset,
            decision=row.decision,
            code=row.code,
            disease=row.disease,
            period_start=row.period_start,
            period_end=row.period_end,
            is_non_commercial=row.is_non_commercial,
            is_not_for_profit=row.is_not_for_profit,
            group=row.group,
        )
        for record, (_, spec) in zip(records, to_record, strict=True)
        for row in spec.provisions
    ]
    ConsentProvision.objects.bulk_create(provisions, batch_size=_BATCH)
    report.consents_recorded = len(records)
    return [spec.pseudonym for _, spec in to_record]


def consent_import(
    *, actor: Any, dataset: Dataset, content: bytes | str, fmt: str = "auto", filename: str = ""
) -> ImportReport:
    """Import FHIR R4/R5 Consents (one resource or a Bundle) or a CSV file: all or nothing.

    Malformed documents, unknown codes, unreadable consents and participants given twice make
    the whole import refused (``ConsentImportRefused`` carrying the report); nothing is stored
    and no event is written. A consent identical to the participant's current one is counted
    as unchanged, so importing the same file twice changes nothing the second time.
    """
    _require_manager(actor, dataset)
    raw = content.encode() if isinstance(content, str) else content
    file_digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    try:
        used_format, entries = _parse(content, fmt)
    except DocumentError as exc:
        report = ImportReport(format=fmt)
        report.refused.append({"entry": "document", "reasons": [str(exc)]})
        raise ConsentImportRefused(report) from exc
    report = ImportReport(format=used_format, entries=sum(not e.is_ignored for e in entries))
    _refuse_duplicates(entries)
    for entry in entries:
        if entry.is_ignored:
            report.ignored.append(f"{entry.label}: {'; '.join(entry.reasons)}")
        elif entry.reasons:
            report.refused.append({"entry": entry.label, "reasons": list(entry.reasons)})
        elif entry.spec is not None:
            report.notes.extend(f"{entry.label}: {note}" for note in entry.spec.notes)
    if report.refused:
        raise ConsentImportRefused(report)
    if report.entries == 0:
        report.refused.append({"entry": "document", "reasons": ["it contains no Consent"]})
        raise ConsentImportRefused(report)
    specs = [entry.spec for entry in entries if entry.spec is not None]
    with transaction.atomic():
        state = _lock_state(dataset)
        now = timezone.now()
        changed = _store(dataset, specs, actor, report, now)
        report.version = _bump(state, now) if changed else state.version
        report.is_stored = True
        payload: dict[str, Any] = {
            "format": used_format,
            "filename": filename[:200],
            "file_digest": file_digest,
            "entries": report.entries,
            "participants_created": report.participants_created,
            "consents_recorded": report.consents_recorded,
            "unchanged": report.unchanged,
            "version": report.version,
            "participants_digest": "sha256:"
            + hashlib.sha256("\n".join(sorted(changed)).encode()).hexdigest(),
        }
        if len(changed) <= _AUDIT_LIST_LIMIT:
            payload["participants"] = sorted(changed)
        audit_record(actor=actor, action="consent.import", target=dataset, payload=payload)
    return report


# --------------------------------------------------------------------------------------------
# Withdrawal and national opt-out
# --------------------------------------------------------------------------------------------


def _participant_locked(dataset: Dataset, pseudonym: str) -> Participant:
    participant = (
        Participant.objects.select_for_update().filter(dataset=dataset, pseudonym=pseudonym).first()
    )
    if participant is None:
        raise NotFound(
            _("No participant with this pseudonymous id in this dataset."), code=Code.NOT_FOUND
        )
    return participant


def consent_withdraw(
    *, actor: Any, dataset: Dataset, pseudonym: str, note: str = ""
) -> ConsentRecord:
    """Record that a participant withdrew consent, effective now.

    Nothing is deleted: the consent they had stays in their history (superseded now), and a new
    ``inactive`` record says they withdrew. Cohorts computed from now on leave them out.
    """
    _require_manager(actor, dataset)
    with transaction.atomic():
        state = _lock_state(dataset)
        participant = _participant_locked(dataset, pseudonym)
        previous = (
            ConsentRecord.objects.select_for_update()
            .filter(participant=participant, is_current=True)
            .first()
        )
        if previous is not None and previous.source == ConsentSource.WITHDRAWAL:
            raise DomainError(
                _("This participant has already withdrawn consent."), code=Code.ALREADY_WITHDRAWN
            )
        now = timezone.now()
        spec = ConsentSpec(
            pseudonym=participant.pseudonym,
            status=ConsentStatus.INACTIVE,
            decision=Decision.DENY,
            source=ConsentSource.WITHDRAWAL,
            policy_uri=previous.policy_uri if previous else "",
            policy_version=previous.policy_version if previous else "",
            notes=(note.strip(),) if note.strip() else (),
        )
        if previous is not None:
            previous.is_current = False
            previous.superseded_at = now
            previous.save(update_fields=["is_current", "superseded_at"])
        record = _new_record(participant, spec, actor, now)
        record.save()
        version = _bump(state, now)
        audit_record(
            actor=actor,
            action="consent.withdraw",
            target=participant,
            payload={
                "dataset": dataset.slug,
                "participant": participant.pseudonym,
                "withdrawn_at": now,
                "superseded_consent": previous.pk if previous else None,
                "version": version,
                "note": note.strip()[:500],
            },
        )
    return record


def participant_opt_out_record(*, actor: Any, dataset: Dataset, pseudonym: str) -> Participant:
    """Record a participant's national opt-out of secondary use (EHDS Art. 71), effective now.

    The consent history is kept as it is; the opt-out removes them from every cohort from now
    on, whatever their consent says.
    """
    _require_manager(actor, dataset)
    with transaction.atomic():
        state = _lock_state(dataset)
        participant = _participant_locked(dataset, pseudonym)
        if participant.opted_out_at is not None:
            raise DomainError(
                _("This participant's national opt-out is already recorded."),
                code=Code.ALREADY_OPTED_OUT,
            )
        now = timezone.now()
        participant.opted_out_at = now
        participant.save(update_fields=["opted_out_at"])
        version = _bump(state, now)
        audit_record(
            actor=actor,
            action="consent.opt_out",
            target=participant,
            payload={
                "dataset": dataset.slug,
                "participant": participant.pseudonym,
                "opted_out_at": now,
                "version": version,
            },
        )
    return participant


# --------------------------------------------------------------------------------------------
# Dataset conditions
# --------------------------------------------------------------------------------------------


def _field_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Matcher paths (``conditions.codes``) as the service's argument names (``codes``), the
    matcher's messages in the actor's language (as every ``DomainError`` renders its text)."""
    return {
        path.removeprefix("conditions."): reasons_text(problems)
        for path, problems in errors.items()
    }


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def dataset_conditions_set(
    *,
    actor: Any,
    dataset: Dataset,
    codes: list[str],
    diseases: list[str] | None = None,
    values: dict[str, Any] | None = None,
) -> Dataset:
    """Set a dataset's DUO conditions, validated by the matcher's parser.

    Unknown or misplaced codes, DS without a disease and bad modifier values are field errors
    (``InvalidInput.errors`` keyed ``codes``, ``diseases``, ``values.DUO:...``). A modifier value
    implies its code (as in the matcher), and the stored codes include it.
    """
    if actor is not None and not can_manage_consent(actor, dataset):
        raise NotAllowed(
            _("Only the dataset's stewards and hub staff can set its conditions."),
            code=Code.PERMISSION_DENIED,
        )
    try:
        conditions = parse_conditions(
            {"codes": codes, "diseases": diseases or [], "values": values or {}}
        )
    except MatcherInputError as exc:
        raise InvalidInput(
            _("The conditions are not valid."), errors=_field_errors(exc.errors), code=Code.INVALID
        ) from exc
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
        before = {
            "codes": dataset.duo_codes,
            "diseases": dataset.duo_diseases,
            "values": dataset.duo_values,
        }
        dataset.duo_codes = list(conditions.codes)
        dataset.duo_diseases = list(conditions.diseases)
        dataset.duo_values = {code: _json_value(v) for code, v in conditions.values.items()}
        dataset.save(update_fields=["duo_codes", "duo_diseases", "duo_values", "updated_at"])
        after = {
            "codes": dataset.duo_codes,
            "diseases": dataset.duo_diseases,
            "values": dataset.duo_values,
        }
        audit_record(
            actor=actor,
            action="dataset.conditions_set",
            target=dataset,
            payload={"before": before, "after": after},
        )
        outbox.add("consent.conditions_changed", key=f"dataset:{dataset.pk}", dataset_id=dataset.pk)
    return dataset
