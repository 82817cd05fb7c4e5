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
