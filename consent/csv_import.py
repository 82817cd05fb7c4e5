"""Participant consents from a CSV file: one row per participant.

Columns (a header row is required; order is free; names are lower case; any other column makes
the whole file refused, so a typo never drops a restriction):

================  ========  ==================================================================
column            required  content
================  ========  ==================================================================
participant       yes       the pseudonymous id (1–128 letters, digits, ``.``, ``:``, ``-``,
                            ``_``)
permit            yes       DUO codes the participant permits, separated by spaces or ``|``:
                            a permission (NRES, GRU, HMB, DS, POA) and optionally NCU, NPU,
                            NPUNCU, NMDS, NPOA or duties (IRB, PUB, ...). May be empty.
permit_diseases   no        MONDO ids for a DS permit (``MONDO:0005015``)
deny              no        DUO codes the participant refuses: permissions or research types
                            (``DUO:0000031`` = no methods development)
deny_diseases     no        MONDO ids for a DS deny
status            no        a FHIR Consent status; default ``active``
period_start      no        ISO 8601 date or date-time; a date starts at midnight
period_end        no        ISO 8601 date or date-time; a date is included (ends at the next
                            midnight)
policy            no        the policy URI (``url|version`` is accepted)
policy_version    no        its version
date_signed       no        ISO 8601 date
================  ========  ==================================================================

A row is read as a consent with base decision *deny*, one permit provision (``permit`` +
``permit_diseases``) and one deny provision (``deny`` + ``deny_diseases``), both for the consent
period; ``consent.rules`` gives their meaning.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from consent.fhir import (
    DocumentError,
    ImportEntry,
    InstantRangeError,
    fhir_instant,
    split_canonical,
)
from consent.models import PSEUDONYM_RE, ConsentSource
from consent.rules import ConsentRuleError, ConsentSpec, ProvisionNode, flatten

REQUIRED_COLUMNS = ("participant", "permit")
OPTIONAL_COLUMNS = (
    "permit_diseases",
    "deny",
    "deny_diseases",
    "status",
    "period_start",
    "period_end",
    "policy",
    "policy_version",
    "date_signed",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
STATUSES = frozenset(
    {
        "draft",
        "proposed",
        "active",
        "inactive",
        "rejected",
        "not-done",
        "entered-in-error",
        "unknown",
    }
)
_SPLIT = re.compile(r"[\s|,;]+")
_PSEUDONYM = re.compile(PSEUDONYM_RE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DUO = re.compile(r"^DUO:\d{7}$")
_MONDO = re.compile(r"^MONDO:\d{7}$")


def _codes(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text.strip()) if part]


def _instant(text: str, column: str, reasons: list[str], *, is_end: bool = False):
    text = text.strip()
    if not text:
        return None
    try:
        return fhir_instant(text, is_end=is_end)
    except InstantRangeError as exc:
        reasons.append(f"{column}: {exc}")
        return None
    except ValueError:
        reasons.append(f"{column}: {text!r} is not an ISO 8601 date or date-time")
        return None


def _row_spec(number: int, row: dict[str, str]) -> ConsentSpec:
    reasons: list[str] = []
    pseudonym = row["participant"].strip()
    if not _PSEUDONYM.match(pseudonym):
        reasons.append(
            f"participant: {pseudonym!r} is not a usable pseudonymous id (1–128 "
            "letters, digits, '.', ':', '-' or '_')"
        )
    status = (row.get("status") or "").strip() or "active"
    if status not in STATUSES:
        reasons.append(
            f"status: {status!r} is not a FHIR Consent status ({', '.join(sorted(STATUSES))})"
        )
    start = _instant(row.get("period_start") or "", "period_start", reasons)
    end = _instant(row.get("period_end") or "", "period_end", reasons, is_end=True)
    if start and end and start >= end:
        reasons.append("period_end: the period ends before it starts")
    signed_text = (row.get("date_signed") or "").strip()
    signed = None
    if signed_text:
        if _DATE.match(signed_text):
            try:
                signed = dt.date.fromisoformat(signed_text)
            except ValueError:
                pass
        if signed is None:
            reasons.append(f"date_signed: {signed_text!r} is not an ISO 8601 date")
    policy_uri, policy_version = split_canonical(row.get("policy") or "")
    policy_version = (row.get("policy_version") or "").strip() or policy_version
    nodes = []
    for decision in ("permit", "deny"):
        codes = _codes(row.get(decision) or "")
        diseases = _codes(row.get(f"{decision}_diseases") or "")
        reasons.extend(
            f"{decision}: {code!r} is not a DUO code; write it as DUO:NNNNNNN"
            for code in codes
            if not _DUO.match(code)
        )
        reasons.extend(
            f"{decision}_diseases: {code!r} is not a MONDO id; write it as MONDO:NNNNNNN"
            for code in diseases
            if not _MONDO.match(code)
        )
        if not codes and diseases:
            reasons.append(f"{decision}_diseases: diseases given without a DS code in {decision}")
        if codes:
            nodes.append(
                ProvisionNode(
                    decision=decision,
                    codings=[(None, code) for code in codes + diseases],
                    path=decision,
                )
            )
    try:
        rows, modifiers, notes = flatten(
            base_decision="deny", provisions=nodes, base_start=start, base_end=end
        )
    except ConsentRuleError as exc:
        reasons.extend(exc.reasons)
    if reasons:
        raise ConsentRuleError(reasons)
    return ConsentSpec(
        pseudonym=pseudonym,
        status=status,
        decision="deny",
        source=ConsentSource.CSV,
        source_id=f"row {number}",
        period_start=start,
        period_end=end,
        policy_uri=policy_uri[:500],
        policy_version=policy_version[:100],
        date_signed=signed,
        provisions=rows,
        modifiers=modifiers,
        notes=notes,
    )


def _read_rows(content: bytes | str) -> tuple[list[str], list[list[str]]]:
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError("the CSV file is not UTF-8 text") from exc
    content = content.removeprefix("\ufeff")
    if "\x00" in content:
        raise DocumentError("the file contains a NUL character")
    try:
        content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DocumentError("the file contains a lone UTF-16 surrogate, which is not text") from exc
    try:
        rows = list(csv.reader(io.StringIO(content)))
    except csv.Error as exc:
        raise DocumentError(f"not a readable CSV file: {exc}") from exc
    if not rows:
        raise DocumentError("the CSV file is empty; it needs a header row")
    return [name.strip() for name in rows[0]], rows[1:]


def parse_csv(content: bytes | str) -> list[ImportEntry]:
    """Every row of a consent CSV, read or refused. ``DocumentError`` for a wrong header."""
    header, rows = _read_rows(content)
    problems = []
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repeated)}")
    if problems:
        raise DocumentError(
            "; ".join(problems) + f". Expected columns: {', '.join(COLUMNS)} "
            f"(required: {', '.join(REQUIRED_COLUMNS)})"
        )
    entries = []
    for offset, values in enumerate(rows):
        number = offset + 2  # the header is row 1, as a spreadsheet shows it
        if not any(value.strip() for value in values):
            continue
        entry = ImportEntry(number=number, label=f"row {number}")
        if len(values) != len(header):
            entry.reasons.append(f"has {len(values)} fields; the header has {len(header)}")
        else:
            try:
                entry.spec = _row_spec(number, dict(zip(header, values, strict=True)))
            except ConsentRuleError as exc:
                entry.reasons = exc.reasons
        entries.append(entry)
    if not entries:
        raise DocumentError("the CSV file has a header but no rows")
    return entries
