"""Verifying the whole log: every leaf recomputed from its event, every stored node from the
leaves under it, every signed tree head against the root at its size — streaming, in constant
memory (keyset batches of plain tuples; the tree is carried as its O(log n) frontier)."""

from __future__ import annotations

import hashlib
import heapq
import queue
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import DataError, connection
from django.utils.translation import gettext as _

from audit import merkle
from audit.canonical import leaf_data
from audit.errors import Code
from lifes.errors import DomainError

Verifier = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class LogReport:
    is_intact: bool
    count: int
    head_seq: int  # the tree size verified (the last event in place)
    head_hash: str  # the root hash at that size, hex
    broken_seq: int | None = None
    reason: str = ""
    heads: int = 0  # signed tree heads checked
    unsequenced: int = 0


class LogBroken(DomainError):
    status_code = 409
    default_code = Code.AUDIT_LOG_BROKEN

    def __init__(self, report: LogReport) -> None:
        super().__init__(
            _("The audit log is broken at event #%(seq)s: %(reason)s")
            % {"seq": report.broken_seq, "reason": report.reason}
        )
        self.report = report


_EVENTS = (
    "SELECT seq, occurred_at, actor_type, actor_id, action, object_type, object_id, payload, "
    "leaf_data FROM audit_auditevent WHERE seq > %s AND seq <= %s ORDER BY seq LIMIT %s"
)
# Complete subtrees of the tree of the first N leaves, in the order appends closed them.
_NODES = (
    'SELECT id, level, "index", hash FROM audit_audittreenode '
    'WHERE id > %s AND (("index" + 1) << level) <= %s ORDER BY id LIMIT %s'
)
_HEADS = (
    "SELECT tree_size, root_hash, signed FROM audit_audittreehead "
    "WHERE tree_size > %s AND tree_size <= %s ORDER BY tree_size LIMIT %s"
)
# PostgreSQL: the logged bytes in order; and, in a query of its own that the database works
# on (in its own process, in parallel) while this one hashes, the first event whose columns do
# not say what its bytes say (compared as JSON values).  ``seq + 0``: not the index-ordered scan
# ``min(seq)`` would get, but a parallel sequential scan (the check reads every row anyway).
# Events by ranges of seq, each range one value (seq 8 bytes, length 4, the bytes): a few
# hundred round trips for a million events instead of a Python step per row.
_PG_EVENTS = (
    "SELECT string_agg(int8send(seq) || int4send(octet_length(leaf_data)) || leaf_data, '' "
    "ORDER BY seq) FROM audit_auditevent WHERE seq >= %s AND seq < %s"
)
_EVENT_HEAD = struct.Struct(">qi")
_CHUNK = 4096
# By ranges of seq, each one statement well inside the statement timeout whatever the size of
# the log: as one statement it took 35 s at 10,000,000 events, was ended by the 20 s timeout,
# and verification fell back to the slow path (468 s instead of about 80).
_PG_MISMATCH_RANGE = 262_144
_PG_MISMATCH = (
    "SELECT min(seq + 0) FROM audit_auditevent WHERE seq >= %s AND seq < %s AND NOT "
    "convert_from(leaf_data, 'UTF8')::jsonb = jsonb_build_object("
    "'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC', "
    """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'actor_type', actor_type, 'actor_id', actor_id, """
    "'action', action, 'object_type', object_type, 'object_id', object_id, 'payload', payload)"
)
# The nodes as few large values: per node level (2 bytes), index (8 bytes), hash (32 bytes),
# in the order appends closed them, 8192 to a row.
_PG_NODES = (
    "SELECT string_agg(int2send(level::smallint) || int8send(\"index\") || hash, '' ORDER BY id) "
    'FROM audit_audittreenode WHERE id >= %s AND id < %s AND (("index" + 1) << level) <= %s'
)
_NODE = struct.Struct(">hq")
_RECORD = struct.Struct(">hq32s")


def _stream(sql: str, bound: int, *, batch_size: int, cursor: Any = None) -> Iterator[tuple]:
    """Keyset pagination on the first column: constant memory, no model instances."""
    key = 0
    while True:
        if cursor is None:
            with connection.cursor() as own:
                own.execute(sql, [key, bound, batch_size])
                batch = own.fetchall()
        else:
            cursor.execute(sql, [key, bound, batch_size])
            batch = cursor.fetchall()
        if not batch:
            return
        yield from batch
        key = batch[-1][0]


def _columns_match(data: bytes, occurred: Any, fields: list, payload: Any) -> bool:
    """Whether the logged bytes say what the columns say (as JSON values)."""
    if isinstance(occurred, str):
        occurred = datetime.fromisoformat(occurred)
    if occurred.tzinfo is None:  # SQLite's raw cursor hands back naive UTC times
        occurred = occurred.replace(tzinfo=UTC)
    if isinstance(payload, str):
        payload = orjson.loads(payload)
    try:
        logged = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return logged == orjson.loads(leaf_data(occurred, *fields, payload))


def _events(bound: int, batch_size: int) -> Iterator[tuple]:
    """(seq, logged bytes, whether the columns match them): SQLite, or inside a transaction."""
    for seq, occurred, *fields, payload, data in _stream(_EVENTS, bound, batch_size=batch_size):
        data = bytes(data)
        yield seq, data, _columns_match(data, occurred, fields, payload)


def _nodes(bound: int, batch_size: int) -> Iterator[bytes]:
    """Each stored node as level (2 bytes), index (8), hash (32), as PostgreSQL sends them."""
    for _id, level, index, digest in _stream(_NODES, bound, batch_size=batch_size):
        yield _RECORD.pack(level, index, bytes(digest))


def _prefetched(read: Callable[[], Iterator[list]]) -> Iterator[tuple]:
    """The rows of the batches ``read()`` yields, the next batch read by a thread while this
    one is worked on (psycopg waits for the server without the GIL, so the database and the
    hashing overlap); at most two batches wait: constant memory."""
    batches: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    end = object()

    def fetch() -> None:
        item: Any = end
        try:
            for batch in read():
                if stop.is_set():
                    break
                while not stop.is_set():
                    try:
                        batches.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except Exception as exc:  # noqa: BLE001 - handed to the reader, raised there
            item = exc
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    try:
        while (batch := batches.get()) is not end:
            if isinstance(batch, Exception):
                raise batch
            yield from batch
    finally:
        stop.set()
        thread.join()


def _binary_cursor(raw: Any) -> Any:
    """A psycopg cursor with server-side binding, which (unlike the client-binding cursors
    Django's connections make) can take bytea back raw instead of hex."""
    import psycopg

    return psycopg.Cursor(raw)


def _pg_events(raw: Any, bound: int) -> Iterator[tuple]:
    """(seq, logged bytes, True) for every placed event up to ``bound``, in order."""

    def read() -> Iterator[list]:
        with _binary_cursor(raw) as cursor:
            for first in range(1, bound + 1, _CHUNK):
                cursor.execute(_PG_EVENTS, [first, min(first + _CHUNK, bound + 1)], binary=True)
                blob = cursor.fetchone()[0]
                if blob is None:  # a whole range missing: the gap is named by seq order
                    continue
                yield [bytes(blob)]

    unpack, head = _EVENT_HEAD.unpack_from, _EVENT_HEAD.size
    for blob in _prefetched(read):
        offset, end = 0, len(blob)
        while offset < end:
            seq, length = unpack(blob, offset)
            offset += head + length
            yield seq, blob[offset - length : offset], True


def _pg_first_mismatch(raw: Any, bound: int) -> Callable[[], int | None]:
    """Start the column check; the returned function waits for its answer."""
    answer: list[Any] = []

    def run() -> None:
        try:
            with raw.cursor() as cursor:
                for first in range(1, bound + 1, _PG_MISMATCH_RANGE):
                    last = min(first + _PG_MISMATCH_RANGE, bound + 1)
                    cursor.execute(_PG_MISMATCH, [first, last])
                    found = cursor.fetchone()[0]
                    if found is not None:
                        answer.append(found)
                        return
            answer.append(None)
        except Exception as exc:  # noqa: BLE001 - raised to the caller below
            answer.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> int | None:
        thread.join()
        if isinstance(answer[0], Exception):
            raise answer[0]
        return answer[0]

    return result


def _pg_nodes(raw: Any, bound: int) -> Iterator[bytes]:
    def read() -> Iterator[list]:
        with _binary_cursor(raw) as cursor:
            cursor.execute("SELECT min(id), max(id) FROM audit_audittreenode")
            low, high = cursor.fetchone()
            for first in range(low or 1, (high or 0) + 1, 2 * _CHUNK):
                cursor.execute(_PG_NODES, [first, first + 2 * _CHUNK, bound], binary=True)
                blob = cursor.fetchone()[0]
                if blob is not None:
                    yield [blob]

    for blob in _prefetched(read):
        yield bytes(blob)


def _head_problem(size: int, root: str, token: str, digest: str, verifier: Verifier | None) -> str:
    if root != digest:
        return (
            f"the tree head signed at size {size} has root {root[:16]}…, the log gives "
            f"{digest[:16]}… (history rewritten at or before event #{size})"
        )
    if verifier is not None and token:
        try:
            claims = verifier(token)
        except (DomainError, ValueError) as exc:
            code = getattr(exc, "code", "invalid")
            return f"the tree head at size {size} has an invalid signature ({code})"
        if claims.get("tree_size") != size or claims.get("root_hash") != root:
            return f"the tree head at size {size} differs from what its signature covers"
    return ""


def log_verify(
    *,
    batch_size: int = 10000,
    verifier: Verifier | None = None,
    published: Iterable[tuple[int, str]] = (),
) -> LogReport:
    """Recompute the log; name the first thing that does not fit.

    ``published`` are ``(tree_size, root_hash)`` pairs kept outside the hub (a witness's
    state); they are checked like the stored heads. With a ``verifier`` the signatures of the
    stored heads are checked too.
    """
    with connection.cursor() as cursor:
        # One statement, one snapshot: a head is signed only after its events are placed, so
        # this bound covers every head and every placed event (truncated events included).
        cursor.execute(
            "SELECT (SELECT max(seq) FROM audit_auditevent), "
            "(SELECT max(tree_size) FROM audit_audittreehead)"
        )
        bound = max(value or 0 for value in cursor.fetchone())
    bound = max([bound, *(size for size, _root in published)])
    outside = sorted((size, root, "") for size, root in published)
    extra: list[Any] = []
    mismatch: Callable[[], int | None]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Four reads at once, each on its own connection (rows that never change, all
        # bounded by ``bound``); closing them ends any cursor left half-read.
        params = connection.get_connection_params()
        event_conn, node_conn, head_conn, check_conn = (
            connection.get_new_connection(params) for _ in "abcd"
        )
        extra = [event_conn, node_conn, head_conn, check_conn]
        mismatch = _pg_first_mismatch(check_conn, bound)
        events = _pg_events(event_conn, bound)
        nodes = _pg_nodes(node_conn, bound)
        stored = _stream(_HEADS, bound, batch_size=1000, cursor=head_conn.cursor())
    else:  # SQLite, or inside a transaction whose own writes the verification must see
        events = _events(bound, batch_size)
        nodes = _nodes(bound, batch_size * 2)
        stored = _stream(_HEADS, bound, batch_size=1000)
        mismatch = _no_mismatch
    try:
        return _verify(
            events, nodes, heapq.merge(outside, stored, key=lambda h: h[0]), verifier, mismatch
        )
    except (DataError, getattr(connection.Database, "DataError", DataError)):
        if not extra:
            raise
        # Logged bytes that are not even UTF-8 JSON stop the database's check (a data error):
        # the slower path checks them here and names the event. Any other error (a timeout,
        # a lost connection) is raised, never hidden behind a silently slower path.
        events = _events(bound, batch_size)
        nodes = _nodes(bound, batch_size * 2)
        stored = _stream(_HEADS, bound, batch_size=1000)
        return _verify(
            events, nodes, heapq.merge(outside, stored, key=lambda h: h[0]), verifier, _no_mismatch
        )
    finally:
        for raw in extra:
            raw.close()


_FLUSH = 42 * 8192


def _node_problem(expected: bytes, found: bytes | None) -> tuple[int, str]:
    """The event at which a stored node first differs from the recomputed one, and why."""
    level, index = _NODE.unpack(expected[:10])
    seq = (index + 1) << level  # the leaf count when this node closed
    if found is None or found[:10] != expected[:10]:
        where = "missing" if found is None else "found {}/{}".format(*_NODE.unpack(found[:10]))
        return seq, f"tree node {level}/{index} expected, {where}"
    if level == 0:
        return seq, "content does not match its leaf hash (edited, swapped or inserted)"
    return seq, f"tree node {level}/{index} does not match the leaves under it"


class _StoredNodes:
    """Compares the recomputed nodes (whole 42-byte records, in closing order) with the stored
    stream in large slices: one memcmp per slice; record by record only to name a difference."""

    def __init__(self, blobs: Iterator[bytes]) -> None:
        self.blobs, self.blob, self.pos = blobs, b"", 0

    def check(self, expected: bytearray) -> tuple[int, str] | None:
        while expected:
            if self.pos == len(self.blob):
                self.blob, self.pos = next(self.blobs, None), 0
                if self.blob is None:
                    self.blob = b""
                    return _node_problem(bytes(expected[:42]), None)
            n = min(len(expected), len(self.blob) - self.pos)
            if expected[:n] != self.blob[self.pos : self.pos + n]:
                for offset in range(0, n, 42):
                    want = bytes(expected[offset : offset + 42])
                    got = self.blob[self.pos + offset : self.pos + offset + 42]
                    if want != got:
                        return _node_problem(want, got)
            del expected[:n]
            self.pos += n
        return None

    def beyond(self) -> str:
        if self.pos == len(self.blob):
            self.blob, self.pos = next(self.blobs, None) or b"", 0
        if not self.blob:
            return ""
        return "{}/{}".format(*_NODE.unpack(self.blob[self.pos : self.pos + 10]))


def _no_mismatch() -> None:
    return None


def _verify(
    events: Iterator[tuple],
    nodes: Iterator[bytes],
    heads: Iterator[tuple],
    verifier: Any,
    first_mismatch: Callable[[], int | None],
) -> LogReport:
    """The hot loop, written out (no method calls per leaf) because it runs once per event."""
    sha256, pack = hashlib.sha256, _RECORD.pack
    levels: list[int] = []  # the compact range: levels and hashes of the frontier
    hashes: list[bytes] = []
    expected_nodes = bytearray()
    stored = _StoredNodes(nodes)
    head = next(heads, None)
    size, checked = 0, 0

    def root() -> str:
        digest = hashes[-1] if hashes else merkle.EMPTY_ROOT
        for left in reversed(hashes[:-1]):
            digest = sha256(b"\x01" + left + digest).digest()
        return digest.hex()

    def broken(seq: int, reason: str) -> LogReport:
        problem = stored.check(expected_nodes)  # an earlier node difference is named first
        if problem is not None and problem[0] <= seq:
            seq, reason = problem
        edited = first_mismatch()  # and before it, an event whose columns were edited
        if edited is not None and edited <= seq:
            seq, reason = edited, "content does not match its logged bytes (columns edited)"
        return LogReport(False, seq - 1, seq - 1, "", seq, reason, checked)

    for seq, data, matches in events:
        if seq != size + 1:
            return broken(size + 1, f"expected event #{size + 1}, found #{seq} (missing)")
        if not matches:
            return broken(seq, "content does not match its logged bytes (columns edited)")
        digest = sha256(b"\x00" + data).digest()
        expected_nodes += pack(0, size, digest)
        level, index = 0, size
        while levels and levels[-1] == level:
            levels.pop()
            digest = sha256(b"\x01" + hashes.pop() + digest).digest()
            level, index = level + 1, index >> 1
            expected_nodes += pack(level, index, digest)
        levels.append(level)
        hashes.append(digest)
        size = seq
        if len(expected_nodes) >= _FLUSH:
            problem = stored.check(expected_nodes)
            if problem is not None:
                return broken(*problem)
        while head is not None and head[0] <= seq:
            if head[0] == seq:
                problem_text = _head_problem(seq, head[1], head[2], root(), verifier)
                if problem_text:
                    return broken(seq, problem_text)
                checked += 1
            head = next(heads, None)
    problem = stored.check(expected_nodes)
    if problem is not None:
        return broken(*problem)
    edited = first_mismatch()
    if edited is not None:
        return broken(edited, "content does not match its logged bytes (columns edited)")
    if head is not None:
        return broken(
            size + 1,
            f"the log ends at #{size} but a tree head of size {head[0]} was signed "
            "(events removed or the log cut back)",
        )
    beyond = stored.beyond()
    if beyond:
        return broken(
            size + 1, f"the tree holds node {beyond} beyond the last event (events removed)"
        )
    from audit.models import AuditEvent

    pending = AuditEvent.objects.filter(seq__isnull=True).count()
    return LogReport(True, size, size, root(), heads=checked, unsequenced=pending)
