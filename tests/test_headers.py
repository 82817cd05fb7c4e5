"""Security headers and limits: CSP with no inline code anywhere, Permissions-Policy, no Server
banner from gunicorn, and the request body limit on the JSON and the import APIs."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, wait_for
from tests.test_crawl import CSP, policy

TEMPLATES = ROOT / "templates"
# WeasyPrint renders these to PDF on the server; no browser ever loads them, so CSP does not
# apply, and a PDF has no other way to be styled.
PDF_TEMPLATES = TEMPLATES / "reports" / "pdf"
INLINE = {
    # A JSON data block (type application/json or ld+json) is never executed, so CSP's
    # script-src does not apply to it; any other inline script needs 'unsafe-inline'.
    "inline <script>": re.compile(
        r"<script(?![^>]*\b(?:src=|type=\"application/(?:ld\+)?json\"))[^>]*>", re.IGNORECASE
    ),
    "<style>": re.compile(r"<style\b", re.IGNORECASE),
    'style=""': re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "htmx hx-on": re.compile(r"\shx-on", re.IGNORECASE),
}


def page_templates() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*.html") if PDF_TEMPLATES not in path.parents)


def test_no_page_template_has_inline_script_or_style():
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in page_templates()
        for name, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    assert len(page_templates()) > 30
    assert found == []


def test_the_inline_checks_find_what_they_look_for():
    samples = {
        "inline <script>": "<script>alert(1)</script>",
        "<style>": "<style>p{}</style>",
        'style=""': '<p style="color:red">',
        "event handler attribute": '<a onclick="x()">',
        "javascript: URL": '<a href="javascript:x()">',
        "htmx hx-on": '<div hx-on::after-request="x()">',
    }
    for name, pattern in INLINE.items():
        assert pattern.search(samples[name]), name
    assert not INLINE["inline <script>"].search('<script src="/static/js/wizard.js" defer>')
    assert not INLINE["inline <script>"].search('<script type="application/ld+json">{}</script>')
    assert INLINE["inline <script>"].search('<script type="module">x()</script>')


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/accounts/login/", "/api/v1/me", "/no-such-page/", "/api/docs/", "/admin/login/"],
)
def test_every_kind_of_answer_has_csp_and_permissions_policy(client, path):
    response = client.get(path)
    assert policy(response["Content-Security-Policy"]) == CSP
    assert response["Permissions-Policy"] == (
        "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
        "magnetometer=(), microphone=(), payment=(), usb=()"
    )


@pytest.mark.django_db
def test_the_api_docs_page_runs_no_inline_script_or_style(client):
    """drf-spectacular's split view serves its script as a file; our template override moves
    its inline style to static/css/swagger-page.css."""
    page = client.get("/api/docs/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page
    assert "/static/css/swagger-page.css" in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_sends_no_server_banner():
    """The real server with the project's gunicorn.conf.py, as production runs it."""
    port = free_port()
    env = dict(os.environ, DEBUG="1", DJANGO_SETTINGS_MODULE="lifes.settings")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "lifes.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def answer():
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/static/css/lifes.css")
                return connection.getresponse()
            except OSError:
                return None

        response = wait_for(answer, timeout=60)
        assert response.status == 200
        assert response.getheader("Server") is None
        assert policy(response.getheader("Content-Security-Policy")) == CSP
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.django_db
def test_json_bodies_over_the_form_limit_get_413_json(api_client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api_client.force_authenticate(world["requester"])
    body = '{"name": "' + "x" * 1000 + '"}'
    response = api_client.post("/api/v1/auth/tokens", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than 1000 bytes.",
        "code": "request_too_large",
    }


@pytest.mark.django_db
def test_the_consent_import_api_has_the_same_body_limit(api_client, world, settings):
    """DRF hands non-JSON parsers the raw stream, where Django's limit does not apply; the
    import's parser applies the import form's limit itself."""
    from consent.models import ConsentRecord, Participant

    settings.CONSENT_IMPORT_MAX_BYTES = 1000
    api_client.force_authenticate(world["owner"])
    records, participants = ConsentRecord.objects.count(), Participant.objects.count()
    body = "pseudonym,purpose\n" + "p1,GRU\n" * 200

    response = api_client.post(
        "/api/v1/consent/datasets/leiden-diabetes-cohort/imports", body, content_type="text/csv"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert (ConsentRecord.objects.count(), Participant.objects.count()) == (records, participants)
