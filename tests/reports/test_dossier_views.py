"""The PDF dossier is built for the person who asked for it: it says whose view it is and
holds exactly what the visibility rule gives them (text read back from the PDF with pypdf)."""

from __future__ import annotations

import pytest

from reports.models import ReportStatus
from tests.reports.conftest import build, pdf_text
from tests.requests.conftest import (  # noqa: F401 - fixtures
    DELIBERATION_MARKERS,
    EXPECTED_SIGHT,
    PRIVATE_MARKERS,
    PUBLIC_MARKERS,
    review,
    scene,
)


def _flat(text: str) -> str:
    """PDF text breaks lines inside table cells; compare with the spaces and breaks gone."""
    return "".join(text.split())


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED_SIGHT))
def test_each_dossier_holds_what_its_reader_may_see(scene, client, name):  # noqa: F811
    user = scene[name]
    report = build(user, kind="dossier", subject=scene["request"].reference)
    assert report.status == ReportStatus.DONE, report.message

    client.force_login(user)
    response = client.get(f"/reports/{report.pk}/download")
    assert response.status_code == 200
    text = _flat(pdf_text(b"".join(response.streaming_content)))

    private, deliberation = EXPECTED_SIGHT[name]
    assert _flat(f"Prepared for {user.full_name} <{user.email}>.") in text
    for marker in PUBLIC_MARKERS:
        assert _flat(marker) in text, f"{name}: {marker} missing"
    for marker in PRIVATE_MARKERS:
        assert (_flat(marker) in text) == private, f"{name}: {marker}"
    assert ("teammate@demo.lifes.test" in text) == private
    for marker in DELIBERATION_MARKERS:
        assert (marker in text) == deliberation, f"{name}: {marker}"
    # voters and members by e-mail in the votes table and the audit trail (not counting the
    # reader's own address in "Prepared for")
    body = text.replace(_flat(f"Prepared for {user.full_name} <{user.email}>."), "")
    assert ("member1@demo.lifes.test" in body) == deliberation
    assert ("member2@demo.lifes.test" in body) == deliberation
    if not deliberation:
        for hidden in (
            "Mila Member",
            "Mo Member",
            "request.vote",
            "declare_conflict",
            "request.conflict_declare",
        ):
            assert _flat(hidden) not in body, f"{name}: {hidden} leaks"
        assert _flat("events of the board's deliberation are left out of this view") in text
