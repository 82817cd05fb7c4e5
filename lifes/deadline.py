"""A client-side deadline for calls that wait on a socket (one watchdog thread per process).

Why by hand: PostgreSQL's ``statement_timeout`` is enforced by the server, so it cannot end a
wait on a server that no longer answers (a stalled network or proxy accepts the bytes and never
replies), and psycopg 3 offers no client-side timeout for a query already sent. The watchdog
shuts the socket down when a deadline passes; the blocked call then fails at once with the
driver's ``OperationalError`` and Django discards the connection. One thread serves every
connection, so arming a deadline costs a lock and a dict entry, not a thread per query; and
the thread is woken only by a deadline earlier than the one it already waits for. Deadlines
are armed as "now + the same seconds", so each is later than those before it: a busy process
wakes the thread about once per deadline period, not once per query (a wake per query cost
the test suite a tenth of its time in thread switches on PostgreSQL).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


class _Watchdog:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._armed: dict[int, tuple[float, int]] = {}
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        #: When the thread wakes next on its own (monotonic; infinity while nothing is armed).
        self._wake_at = math.inf
        #: How often the thread has woken (tests/test_deadline.py).
        self.wakeups = 0

    def arm(self, fd: int, seconds: float) -> int:
        with self._condition:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="deadline", daemon=True)
                self._thread.start()
            token = next(self._tokens)
            at = time.monotonic() + seconds
            self._armed[token] = (at, fd)
            if at < self._wake_at:  # otherwise the thread wakes in time for it anyway
                self._wake_at = at
                self._condition.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._condition:
            self._armed.pop(token, None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for token, (deadline, fd) in list(self._armed.items()):
                    if deadline <= now:
                        # Under the lock: the owner cannot disarm and close (and the number be
                        # reused by another socket) while this shuts the socket down.
                        del self._armed[token]
                        _shutdown(fd)
                nearest = min((d for d, _fd in self._armed.values()), default=None)
                self._wake_at = math.inf if nearest is None else nearest
                self._condition.wait(None if nearest is None else max(nearest - now, 0.01))
                self.wakeups += 1


def _shutdown(fd: int) -> None:
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        logger.debug("deadline: socket %s already gone", fd, exc_info=True)
    logger.warning("deadline passed: socket %s shut down", fd)


_WATCHDOG = _Watchdog()


@contextmanager
def deadline(fd: int | None, seconds: float) -> Iterator[None]:
    """Shut socket ``fd`` down if the block runs longer than ``seconds`` (no-op without one)."""
    if fd is None or fd < 0 or seconds <= 0:
        yield
        return
    token = _WATCHDOG.arm(fd, seconds)
    try:
        yield
    finally:
        _WATCHDOG.disarm(token)
