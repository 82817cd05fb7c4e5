"""``Idempotency-Key`` on every API POST (IETF draft-ietf-httpapi-idempotency-key-header).

A POST to ``/api/`` with the header, by an authenticated user, runs inside one transaction
together with the record of its answer: the first answer (2xx, 3xx or 4xx) commits with the
writes it made, so a retry after a lost response finds it and gets the same answer back, and
nothing runs twice. Two requests with the same key at once queue on the key's unique index; the
second then gets the first's answer. The same key with another path or another body is a 422
(the draft's "key reused"). A 5xx answer, or an outage, rolls everything back and records
nothing, so the client may retry with the same key. Anonymous POSTs (the matcher, the token
exchange) change nothing worth protecting and pass through.

Why by hand: drf-idempotency and its kin store the answer *after* the view committed, in a
second write (cache or table), so a crash in between still runs the POST twice; and they work
per view class, while this must cover every API POST, including views owned by other apps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from idempotency.models import IdempotencyRecord

HEADER = "Idempotency-Key"
_KEY = re.compile(r'^"?([\x21\x23-\x7e]{1,255})"?$')  # a Structured Field string, or a bare token
MAX_STORED_BYTES = 1024 * 1024


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _user(request: HttpRequest):
    """The API's own authentication (token or session), as the view will see it."""
    drf_request = Request(
        request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    )
    try:
        user = drf_request.user
    except APIException:
        return None  # the view will refuse it the same way
    return user if user is not None and user.is_authenticated else None


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    if record.location:
        response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


def _answer_to_retry(record: IdempotencyRecord, *, path: str, fingerprint: str) -> HttpResponse:
    if record.path != path or record.fingerprint != fingerprint:
        return _error(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
        )
    return _replay(record)


class IdempotencyKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.headers.get(HEADER)
        if raw is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        match = _KEY.match(raw.strip())
        if match is None:
            return _error(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
        key = match.group(1)
        user = _user(request)
        if user is None:
            return self.get_response(request)
        try:
            body = request.body
        except RequestDataTooBig:
            # A large upload is not read into memory here: its size stands for its body.
            body = request.headers.get("Content-Length", "").encode()
        parts = [request.method, request.path, request.content_type]
        fingerprint = hashlib.sha256(b"\0".join([*(p.encode() for p in parts), body])).hexdigest()
        try:
            return self._once(request, user=user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            # The same key committed meanwhile (a concurrent retry): answer as that one did.
            record = IdempotencyRecord.objects.get(user=user, key=key)
            return _answer_to_retry(record, path=request.path, fingerprint=fingerprint)

    def _once(self, request: HttpRequest, *, user, key: str, fingerprint: str) -> HttpResponse:
        now = timezone.now()
        with transaction.atomic():
            record = (
                IdempotencyRecord.objects.select_for_update().filter(user=user, key=key).first()
            )
            if record is not None and record.expires_at <= now:
                record.delete()
                record = None
            if record is not None:
                return _answer_to_retry(record, path=request.path, fingerprint=fingerprint)
            record = IdempotencyRecord.objects.create(
                user=user,
                key=key,
                path=request.path[:500],
                fingerprint=fingerprint,
                expires_at=now + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL),
            )
            response = self.get_response(request)
            if (
                response.status_code >= 500
                or response.streaming
                or len(response.content) > MAX_STORED_BYTES
            ):
                transaction.set_rollback(True)  # nothing happened; the client may retry
                return response
            record.status_code = response.status_code
            record.content_type = response.get("Content-Type", "")[:200]
            record.location = response.get("Location", "")[:500]
            record.body = response.content
            record.save(update_fields=["status_code", "content_type", "location", "body"])
        return response
