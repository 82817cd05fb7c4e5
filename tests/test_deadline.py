"""The client-side deadline ends a wait on a peer that went silent (lifes/deadline.py)."""

from __future__ import annotations

import socket

from lifes.deadline import deadline


def test_a_read_from_a_silent_peer_ends_at_the_deadline():
    ours, silent_peer = socket.socketpair()
    try:
        with deadline(ours.fileno(), 0.3):
            data = ours.recv(1024)  # the peer never writes: only the deadline ends this
        assert data == b""  # the socket was shut down under the read
    finally:
        ours.close()
        silent_peer.close()


def test_a_call_that_finishes_in_time_keeps_its_socket():
    ours, peer = socket.socketpair()
    try:
        peer.sendall(b"pong")
        with deadline(ours.fileno(), 5):
            assert ours.recv(1024) == b"pong"
        peer.sendall(b"again")
        assert ours.recv(1024) == b"again"  # not shut down after the block
    finally:
        ours.close()
        peer.close()


def test_a_shorter_deadline_armed_after_a_longer_one_still_ends_in_time():
    """The thread sleeps until the earliest deadline it knows of; an earlier one wakes it."""
    import time

    ours, silent_peer = socket.socketpair()
    other, other_peer = socket.socketpair()
    try:
        with deadline(other.fileno(), 30):
            started = time.monotonic()
            with deadline(ours.fileno(), 0.3):
                assert ours.recv(1024) == b""
            assert time.monotonic() - started < 5
        other_peer.sendall(b"still open")
        assert other.recv(1024) == b"still open"  # the longer deadline did not fire
    finally:
        for sock in (ours, silent_peer, other, other_peer):
            sock.close()


def test_queries_do_not_wake_the_watchdog_each_time():
    """A deadline per query: arming one later than the thread's next wake does not wake it,
    so a thousand quick calls cost the watchdog thread a few wakes, not a thousand."""
    from lifes.deadline import _WATCHDOG

    ours, peer = socket.socketpair()
    try:
        with deadline(ours.fileno(), 60):  # the thread now sleeps until this one
            before = _WATCHDOG.wakeups
            for _ in range(1000):
                with deadline(ours.fileno(), 60):  # a query: a round trip, the GIL let go
                    peer.sendall(b"q")
                    assert ours.recv(1) == b"q"
            assert _WATCHDOG.wakeups - before < 10
    finally:
        ours.close()
        peer.close()
