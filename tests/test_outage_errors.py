"""During an outage the API answers a JSON 503 with Retry-After, never a 500 (issue 11)."""

from __future__ import annotations

import json

import pytest
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout

from lifes.api import exception_handler, is_outage
from lifes.errorpages import server_error


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        RedisConnectionError("Connection refused"),
        RedisTimeout("Timeout reading from socket"),
    ],
)
def test_an_outage_is_a_json_503_with_retry_after(exc, settings):
    settings.OUTAGE_RETRY_AFTER = 7

    response = exception_handler(exc, {})

    assert response.status_code == 503
    assert response.data == {
        "detail": "The hub cannot reach one of its services just now; try again shortly.",
        "code": "service_unavailable",
    }
    assert response["Retry-After"] == "7"


def test_a_programming_error_is_not_an_outage():
    assert not is_outage(ValueError("bug"))
    assert exception_handler(ValueError("bug"), {}) is None  # a 500, logged as such


def test_an_outage_outside_the_api_views_is_a_503_too(rf, settings):
    settings.OUTAGE_RETRY_AFTER = 5
    request = rf.get("/api/v1/me")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        response = server_error(request)  # Django calls it inside its except block

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert json.loads(response.content)["code"] == "service_unavailable"

    page = rf.get("/requests/")
    try:
        raise OperationalError("could not connect to server")
    except OperationalError:
        html = server_error(page)
    assert (html.status_code, html["Retry-After"]) == (503, "5")
