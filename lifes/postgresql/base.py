"""Django's PostgreSQL backend with a client-side deadline on every wait for the server.

``connect_timeout`` bounds the connection, ``statement_timeout`` makes a live server end a slow
query; this bounds the rest (a query, commit or health check on a server or network that went
silent), so a stalled database costs a page ``DATABASE_CLIENT_DEADLINE`` seconds, not a worker.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

from lifes.deadline import deadline


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._bounded_execute)

    def _fd(self) -> int | None:
        try:
            return self.connection.fileno() if self.connection is not None else None
        except Exception:  # noqa: BLE001 - a closed connection has no socket: nothing to bound
            return None

    def _bounded(self):
        return deadline(self._fd(), settings.DATABASE_CLIENT_DEADLINE)

    def _bounded_execute(self, execute, sql, params, many, context):
        with self._bounded():
            return execute(sql, params, many, context)

    def init_connection_state(self) -> None:
        with self._bounded():
            super().init_connection_state()

    def is_usable(self) -> bool:
        with self._bounded():
            return super().is_usable()

    def _commit(self) -> None:
        with self._bounded():
            super()._commit()

    def _rollback(self) -> None:
        with self._bounded():
            super()._rollback()

    def _set_autocommit(self, autocommit: bool) -> None:
        with self._bounded():
            super()._set_autocommit(autocommit)
