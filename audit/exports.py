"""CSV export of audit events, streamed: keyset chunks in, CSV lines out, constant memory.

Columns carry exactly what the hash covers, in the form it is hashed (UTC timestamp with
microseconds, canonical JSON payload), plus ``prev_hash`` and ``hash``: anyone can recompute
the chain from the file alone (``audit.canonical.event_hash``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from audit.canonical import canonical_json, timestamp
from audit.models import AuditEvent

HEADER = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "payload",
    "prev_hash",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like that hands back what the csv writer writes, so each row is yielded."""

    def write(self, value: str) -> str:
        return value


def _label(text: str) -> str:
    """Free text typed by people (the actor's name) must not run as a spreadsheet formula.
    Only this column is escaped: it is not part of the hash, so the file still verifies."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_lines(events: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[str]:
    """The filtered events, oldest first, as CSV text in chunks of ``chunk_size`` rows."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    rows = events.order_by("seq").values_list(
        "seq",
        "occurred_at",
        "actor_type",
        "actor_id",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "payload",
        "prev_hash",
        "hash",
    )
    last_seq = 0
    while True:
        chunk = list(rows.filter(seq__gt=last_seq)[:chunk_size])
        if not chunk:
            return
        yield "".join(
            writer.writerow(
                (
                    seq,
                    timestamp(occurred_at),
                    actor_type,
                    actor_id,
                    _label(label),
                    action,
                    object_type,
                    object_id,
                    canonical_json(payload),
                    prev_hash,
                    digest,
                )
            )
            for (
                seq,
                occurred_at,
                actor_type,
                actor_id,
                label,
                action,
                object_type,
                object_id,
                payload,
                prev_hash,
                digest,
            ) in chunk
        )
        last_seq = chunk[-1][0]


def csv_filename(prefix: str = "audit-events") -> str:
    return f"{prefix}-{timezone.now().strftime('%Y%m%dT%H%M%SZ')}.csv"
