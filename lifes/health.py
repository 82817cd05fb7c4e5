"""``GET /healthz`` for load balancers and operators (CONTRACTS.md).

Every probe is bounded: they run in a small thread pool and the answer waits at most
``HEALTHZ_TIMEOUT`` seconds for them, so a stalled database or broker makes this a 503 within
3 s instead of a hung worker. A probe still waiting when the answer leaves keeps its pool thread
until its own timeout (database deadline, broker socket timeout) ends it; later probes queue
behind it and time out the same way, so a long stall cannot pile up threads.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection, pools

logger = logging.getLogger(__name__)

_PROBES = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


def _database() -> str:
    # A fresh connection per probe, closed after it: a pool thread's connection would outlive
    # every request cycle (nothing closes it) and hold a session open on the database.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"; the log keeps the cause
        logger.warning("healthz: database unreachable", exc_info=True)
        return "error"
    finally:
        connection.close()
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        # A connection from kombu's process-wide pool for this URL (no new TCP connection per
        # probe); a round trip on its channel proves the broker answers, within the transport's
        # socket timeout.
        broker = Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=settings.BROKER_TIMEOUT,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        )
        with pools.connections[broker].acquire(
            block=True, timeout=settings.HEALTHZ_TIMEOUT
        ) as conn:
            # One attempt, no back-off pause: a refused broker is reported at once.
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=settings.BROKER_TIMEOUT
            )
            channel = conn.default_channel
            client = getattr(channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()  # Redis: PING
    except Exception:  # noqa: BLE001 - any failure means "down"; the log keeps the cause
        logger.warning("healthz: broker unreachable", exc_info=True)
        return "error"
    return "ok"


def healthz(request: HttpRequest) -> JsonResponse:
    deadline = time.monotonic() + settings.HEALTHZ_TIMEOUT
    futures = {"database": _PROBES.submit(_database), "broker": _PROBES.submit(_broker)}
    body = {"status": "ok"}
    for name, future in futures.items():
        try:
            body[name] = future.result(timeout=max(deadline - time.monotonic(), 0))
        except FutureTimeout:
            logger.warning("healthz: %s probe did not answer in time", name)
            body[name] = "timeout"
    if any(value not in ("ok", "eager") for value in body.values()):
        body["status"] = "error"
        return JsonResponse(body, status=503)
    return JsonResponse(body)
