"""The platform: health check, OpenAPI schema, production settings, the demo world."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from audit.services import chain_verify
from tests.conftest import ROOT

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#k2!p9q@w4e8r1t6y3u0i5o2p7a9s4d6f8g1h3j5k7l9z2x4c6v8b0n",
    "ALLOWED_HOSTS": "hub.lifes.example",
    "DATABASE_URL": "postgres://lifes@db.lifes.example:5432/lifes",
    "CELERY_BROKER_URL": "redis://redis.lifes.example:6379/0",
    "HUB_URL": "https://hub.lifes.example",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        )
    }
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    expected_broker = "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "ok"
    assert response.json() == {"status": "ok", "database": "ok", "broker": expected_broker}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"] == "error"


def test_openapi_schema_builds_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


@pytest.mark.django_db
def test_api_docs_are_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    body = response.content.decode()
    assert response.status_code == 200
    for cdn in ("cdn.", "jsdelivr", "unpkg"):
        assert cdn not in body
    assert client.get("/api/schema/").status_code == 200


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_required_settings(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_audited(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert "requester@demo.lifes.test" in first
    assert "demo-lifes-2026" in first
    assert "Demo world ready (0 objects created)" in second
    report = chain_verify()
    assert report.is_intact
    from catalogue.models import Algorithm, Dataset, Node

    assert (Dataset.objects.count(), Algorithm.objects.count(), Node.objects.count()) == (3, 2, 1)


@pytest.mark.django_db
def test_demo_node_token_authenticates_the_node(api_client, world):
    from demo.world import DEMO_NODE_TOKEN

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {DEMO_NODE_TOKEN}")
    assert api_client.get("/api/v1/me").json()["email"] == "lumc-station-1@nodes.lifes.test"
