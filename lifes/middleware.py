"""Refuse NUL characters in the URL before any view sees them.

A ``%00`` in a path segment or query parameter reaches lookups such as
``Permit.objects.filter(number=...)``, and PostgreSQL refuses NUL in text with an error that
would be a 500. No URL of the hub ever needs one, so the request is refused with 400: JSON under
``/api/`` (the project's error body), the plain 400 page elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "The URL contains a NUL character.", "code": "nul"}, status=400
                )
            raise BadRequest("The URL contains a NUL character.")
        return self.get_response(request)


class DomainErrorMiddleware:
    """The one error path for pages: a ``DomainError`` a view lets through becomes the answer
    its kind means (``NotFound`` the 404 page, ``NotAllowed`` the 403 page, the rest a page with
    the message and its status), or the project's JSON error body for JSON callers. The API's
    DRF views answer through ``lifes.api.exception_handler`` before this sees anything.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.core.exceptions import PermissionDenied
        from django.core.handlers.exception import response_for_exception
        from django.http import Http404
        from django.shortcuts import render

        from lifes.api import _wants_json, error_body
        from lifes.errors import DomainError, NotAllowed, NotFound

        if not isinstance(exception, DomainError):
            return None
        if _wants_json(request):
            return JsonResponse(error_body(exception), status=exception.status_code)
        if isinstance(exception, NotFound):
            return response_for_exception(request, Http404(exception.message))
        if isinstance(exception, NotAllowed):
            return response_for_exception(request, PermissionDenied(exception.message))
        return render(request, "error.html", {"error": exception}, status=exception.status_code)
