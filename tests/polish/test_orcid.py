"""#18 point 10: an ORCID iD must have the ORCID format and its ISO 7064 11,2 check digit, in
the wizard and in the API; a refused iD leaves the stored one unchanged."""

from __future__ import annotations

import pytest

from accounts.validators import orcid_checksum_ok
from requests_app.models import AccessRequest
from tests.factories import request_in_state

BAD = ["1234-5678", "xyz", "0000-0002-1825-0098", "0000-0002-1825-009"]


def test_orcid_checksum_follows_iso_7064_mod_11_2():
    # ORCID's published examples (support.orcid.org, "Structure of the ORCID Identifier")
    assert orcid_checksum_ok("0000-0002-1825-0097")
    assert orcid_checksum_ok("0000-0001-5109-3700")
    assert orcid_checksum_ok("0000-0002-1694-233X")
    assert not orcid_checksum_ok("0000-0002-1694-2330")


@pytest.mark.django_db
@pytest.mark.parametrize("orcid", BAD)
def test_the_wizard_refuses_a_bad_orcid(client, world, orcid):
    request = request_in_state("draft", world["requester"], ["leiden-diabetes-cohort"])
    before = request.pi_orcid
    client.force_login(world["requester"])

    response = client.post(
        f"/requests/{request.reference}/edit/people/",
        {"pi_name": "Rana Requester", "pi_email": "r@example.org", "pi_orcid": orcid},
    )

    assert response.status_code in (200, 400)
    assert "ORCID iD" in response.content.decode()
    assert "has-error" in response.content.decode()
    request.refresh_from_db()
    assert request.pi_orcid == before


@pytest.mark.django_db
@pytest.mark.parametrize("orcid", BAD)
def test_the_api_refuses_a_bad_orcid(client, world, orcid):
    request = request_in_state("draft", world["requester"], ["leiden-diabetes-cohort"])
    before = request.pi_orcid
    client.force_login(world["requester"])

    response = client.patch(
        f"/api/v1/requests/{request.reference}",
        {"pi_orcid": orcid},
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert "pi_orcid" in response.json()["errors"]
    assert AccessRequest.objects.get(pk=request.pk).pi_orcid == before


@pytest.mark.django_db
def test_a_good_orcid_is_kept_normalised(client, world):
    request = request_in_state("draft", world["requester"], ["leiden-diabetes-cohort"])
    client.force_login(world["requester"])

    response = client.patch(
        f"/api/v1/requests/{request.reference}",
        {"pi_orcid": "https://orcid.org/0000-0002-1694-233x"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    request.refresh_from_db()
    assert request.pi_orcid == "0000-0002-1694-233X"
