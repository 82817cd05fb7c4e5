"""Attachments and reports are private files: only access-checked views hand them over."""

from __future__ import annotations

import importlib
import re

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

import lifes.urls
from reports.models import ReportStatus
from requests_app.models import Attachment
from tests.reports.conftest import build
from tests.requests.conftest import PDF


def _files(scene) -> tuple[Attachment, Attachment]:
    request = scene["request"]
    return (
        request.attachments.get(kind="ethics_letter"),
        request.attachments.get(kind="dpia"),
    )


def _url(attachment: Attachment) -> str:
    return f"/requests/{attachment.request.reference}/attachments/{attachment.pk}/"


@pytest.mark.django_db
def test_anonymous_and_outsiders_cannot_download_an_attachment(scene, client, api_client):
    letter, dpia = _files(scene)
    for attachment in (letter, dpia):
        response = client.get(_url(attachment))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        api = api_client.get(
            f"/api/v1/requests/{attachment.request.reference}/attachments/{attachment.pk}"
        )
        assert api.status_code in (401, 403)
        assert api.json()["code"] in ("not_authenticated", "authentication_failed")
    client.force_login(scene["industry"])
    assert client.get(_url(letter)).status_code == 404
    assert client.get(_url(dpia)).status_code == 404


@pytest.mark.django_db
def test_reviewers_and_owners_open_the_ethics_letter_and_only_cleared_readers_the_dpia(
    scene, client
):
    letter, dpia = _files(scene)
    expected = {  # who: (ethics letter, DPIA)
        "requester": (200, 200),
        "member1": (200, 200),  # declared no conflict
        "undeclared": (200, 404),  # a reviewer who has not declared yet
        "member2": (200, 404),  # recused
        "owner": (200, 404),
        "auditor": (200, 404),
    }
    for name, codes in expected.items():
        client.force_login(scene[name])
        page = client.get(f"/requests/{scene['request'].reference}/").content.decode()
        assert (_url(letter) in page, _url(dpia) in page) == (True, codes[1] == 200), name
        got = []
        for attachment in (letter, dpia):
            response = client.get(_url(attachment))
            got.append(response.status_code)
            if response.status_code == 200:
                assert b"".join(response.streaming_content) == PDF
                assert response["Content-Disposition"] == (
                    f'attachment; filename="{attachment.original_name}"'
                )
                assert response["X-Content-Type-Options"] == "nosniff"
        assert tuple(got) == codes, name


@pytest.mark.django_db
def test_the_api_download_url_works_with_a_token(scene, token_client):
    api = token_client(scene["undeclared"])
    body = api.get(f"/api/v1/requests/{scene['request'].reference}").json()

    (letter,) = body["attachments"]  # the DPIA is private for a reviewer who has not declared
    response = api.get(letter["download_url"])

    assert letter["download_url"].startswith("http://testserver/api/v1/requests/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.django_db
def test_media_files_are_not_served_at_a_public_url_even_with_debug(scene, client, settings):
    letter, _dpia = _files(scene)
    client.force_login(scene["requester"])
    assert client.get(f"/{settings.MEDIA_URL}{letter.file.name}").status_code == 404
    # the URL configuration as it is built with DEBUG on has no route for media either
    settings.DEBUG = True
    try:
        debug_urls = importlib.reload(lifes.urls)
        with pytest.raises(Resolver404):
            resolve(f"/{settings.MEDIA_URL}{letter.file.name}", urlconf=debug_urls)
    finally:
        settings.DEBUG = False
        importlib.reload(lifes.urls)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("server", "header"), [("nginx", "X-Accel-Redirect"), ("sendfile", "X-Sendfile")]
)
def test_production_servers_hand_the_file_to_the_web_server(
    scene, client, settings, server, header
):
    letter, _dpia = _files(scene)
    settings.PRIVATE_FILES_SERVER = server
    client.force_login(scene["member1"])

    response = client.get(_url(letter))

    assert response.status_code == 200
    assert response.content == b""
    expected = f"/private-files/{letter.file.name}" if server == "nginx" else str(letter.file.path)
    assert response[header] == expected
    assert response["Content-Disposition"] == 'attachment; filename="ethics-approval.pdf"'


@pytest.mark.django_db
def test_reports_are_private_files_with_unguessable_names(scene, client, api_client, token_client):
    reference = scene["request"].reference
    report = build(scene["member1"], kind="dossier", subject=reference)
    assert report.status == ReportStatus.DONE
    assert re.fullmatch(r"reports/[0-9a-f]{32}\.pdf", report.file.name)
    assert reference not in report.file.name

    # anonymous and unauthorised readers are refused
    assert client.get(f"/reports/{report.pk}/download").status_code == 302
    assert api_client.get(f"/api/v1/reports/{report.pk}/download").status_code in (401, 403)
    for name in ("industry", "requester", "member2"):
        assert (
            token_client(scene[name]).get(f"/api/v1/reports/{report.pk}/download").status_code
            == 404
        )
    assert client.get(f"/{settings.MEDIA_URL}{report.file.name}").status_code == 404

    # the API's download_url works with a token
    api = token_client(scene["member1"])
    url = api.get(f"/api/v1/reports/{report.pk}").json()["download_url"]
    assert url == f"http://testserver/api/v1/reports/{report.pk}/download"
    response = api.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
