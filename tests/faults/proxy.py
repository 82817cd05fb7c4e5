"""A TCP proxy on 127.0.0.1 that makes outages on demand, between the hub and one service.

Modes: ``pass`` (forward both ways), ``refuse`` (the port is closed, so a connect is refused,
and every open connection is cut), ``stall`` (connections are accepted and data is taken in,
but nothing is forwarded either way: a service that hangs). A stall ends as a long network
partition does: the connections that lived through it are cut, new ones work.

Written here (threads, no dependency): it is test equipment of forty lines, and the outages it
makes must be exactly these three.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.mode = "pass"
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._stopped = False

    # -- control ---------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._listen()
        return self

    def set(self, mode: str) -> None:
        assert mode in ("pass", "refuse", "stall"), mode
        with self._lock:
            previous, self.mode = self.mode, mode
        if mode == "refuse":
            self._flowing.set()
            self._close_listener()
            self._cut_all()
        elif mode == "stall":
            self._flowing.clear()
            if self._listener is None:
                self._listen()
        else:
            if previous == "stall":
                self._cut_all()
            self._flowing.set()
            if self._listener is None:
                self._listen()

    def stop(self) -> None:
        self._stopped = True
        self._flowing.set()
        self._close_listener()
        self._cut_all()

    # -- inside ----------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _cut_all(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, set()
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # the listener was closed (refuse or stop)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._connections.add(client)
        self._flowing.wait()  # a stalled service answers nothing, not even its greeting
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        with self._lock:
            if client not in self._connections:  # cut while connecting
                upstream.close()
                return
            self._connections.add(upstream)
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                self._flowing.wait()
                readable, _w, _x = select.select([source], [], [], 0.2)
                if not readable:
                    continue
                if not self._flowing.is_set():
                    continue  # stalled since select: leave the bytes where they are
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
