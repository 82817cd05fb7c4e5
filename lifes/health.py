"""``GET /healthz`` for load balancers and operators (CONTRACTS.md)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection

logger = logging.getLogger(__name__)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"; the log keeps the cause
        logger.exception("healthz: database unreachable")
        return "error"
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        # A fresh connection, not the pool's: a cached connection can hide a broker that died.
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - any failure means "down"; the log keeps the cause
        logger.exception("healthz: broker unreachable")
        return "error"
    return "ok"


def healthz(request: HttpRequest) -> JsonResponse:
    body = {"status": "ok", "database": _database(), "broker": _broker()}
    if "error" in body.values():
        body["status"] = "error"
        return JsonResponse(body, status=503)
    return JsonResponse(body)
