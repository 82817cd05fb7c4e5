"""CSV export of audit events, streamed: keyset chunks in, CSV lines out, constant memory.

Columns carry exactly what the leaf covers, in the form it is hashed (UTC timestamp with
microseconds, canonical JSON payload), plus the ``leaf_hash``: anyone can recompute each leaf
from the file (``audit.canonical.leaf_data``) and check it with an inclusion proof
(``GET /api/v1/audit/events/{leaf_index}/proof``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from audit.canonical import canonical_json, timestamp
from audit.merkle import leaf_hash
from audit.models import AuditEvent

#: What an exported (or reported) event is made of: its place, its time, who, what, on what,
#: the payload, and the logged bytes its leaf hash is taken over.
EVENT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "payload",
    "leaf_data",
)
# The CSV carries each event's leaf hash in place of its logged bytes.
HEADER = (*EVENT_COLUMNS[:-1], "leaf_hash")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like that hands back what the csv writer writes, so each row is yielded."""

    def write(self, value: str) -> str:
        return value


def _label(text: str) -> str:
    """Free text typed by people (the actor's name) must not run as a spreadsheet formula.
    Only this column is escaped: it is not part of the leaf, so the file still verifies."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_lines(events: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[str]:
    """The filtered events, oldest first, as CSV text in chunks of ``chunk_size`` rows."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    rows = events.order_by("seq").values_list(*EVENT_COLUMNS)
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
                    leaf_hash(bytes(data)).hex(),
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
                data,
            ) in chunk
        )
        last_seq = chunk[-1][0]


def csv_filename(prefix: str = "audit-events") -> str:
    return f"{prefix}-{timezone.now().strftime('%Y%m%dT%H%M%SZ')}.csv"
