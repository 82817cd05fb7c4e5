"""One JSON error format for the whole API: ``{"detail", "code"[, "errors"]}``, never HTML."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from lifes.errors import DomainError

logger = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers with (the schema's error responses name it)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


def error_body(exc: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
    if exc.errors:
        body["errors"] = exc.errors
    return body


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: list(messages) for field, messages in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


OUTAGE_DETAIL = "The hub cannot reach one of its services just now; try again shortly."


def is_outage(exc: BaseException) -> bool:
    """A dependency is down or stalled (database, broker): the request may succeed later.

    Checked by class name as well, so this module needs neither redis nor kombu imported.
    """
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return True
    names = {f"{k.__module__}.{k.__name__}" for k in type(exc).__mro__}
    return bool(
        names
        & {
            "kombu.exceptions.OperationalError",
            "redis.exceptions.ConnectionError",
            "redis.exceptions.TimeoutError",
            "amqp.exceptions.ConnectionError",
        }
    )


def outage_response(*, as_json: bool = True) -> HttpResponse:
    """503 with ``Retry-After`` (RFC 9110 §10.2.3): clients and proxies know to come back."""
    retry = str(settings.OUTAGE_RETRY_AFTER)
    if as_json:
        response: HttpResponse = JsonResponse(
            {"detail": OUTAGE_DETAIL, "code": "service_unavailable"}, status=503
        )
    else:
        response = HttpResponse(OUTAGE_DETAIL, status=503, content_type="text/plain")
    response["Retry-After"] = retry
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_outage(exc):
        logger.warning("API outage answer (503): %r", exc)
        return Response(
            {"detail": OUTAGE_DETAIL, "code": "service_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(settings.OUTAGE_RETRY_AFTER)},
        )
    if isinstance(exc, DomainError):
        return Response(error_body(exc), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        # Django's own body limit (DRF reads JSON through ``request.body``): JSON here too.
        return Response(
            {
                "detail": f"The request body is larger than "
                f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                "code": "request_too_large",
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"detail": "Invalid input.", "code": "invalid", "errors": _django_errors(exc)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": "Invalid input.", "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": str(exc.detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def json_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"detail": "The hub hit an internal error; it has been logged.", "code": "server_error"},
        status=500,
    )
