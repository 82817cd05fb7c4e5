"""404 and 500 pages: JSON under /api/ (the API never answers in HTML), pages elsewhere."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lifes.api import _wants_json, is_outage, json_not_found, json_server_error, outage_response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return json_not_found(request)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Called inside Django's ``except`` block: an outage raised outside a DRF view (session or
    # authentication middleware on a database that is down) is a 503, not a 500.
    exc = sys.exc_info()[1]
    if exc is not None and is_outage(exc):
        return outage_response(as_json=_wants_json(request))
    if _wants_json(request):
        return json_server_error(request)
    return render(request, "500.html", status=500)
