"""Dossier and certificate PDFs carry the signed tree head of the audit log they were built from."""

from __future__ import annotations

import jwt
import pytest

from audit.models import AuditTreeHead
from tests.reports.conftest import build, pdf_text


@pytest.mark.parametrize("kind", ["dossier", "certificate"])
def test_the_pdf_states_the_signed_tree_head_it_was_built_from(permitted, demo, kind):
    request, permit = permitted
    subject = request.reference if kind == "dossier" else permit.number

    report = build(demo["requester"], kind=kind, subject=subject)

    head = AuditTreeHead.objects.get(tree_size=report.head_seq)
    assert report.head_hash == head.root_hash
    claims = jwt.decode(head.signed, options={"verify_signature": False})
    assert (claims["tree_size"], claims["root_hash"]) == (head.tree_size, head.root_hash)
    with report.file.open("rb") as handle:
        text = "".join(pdf_text(handle.read()).split())  # the JWS wraps across lines
    assert head.root_hash in text
    assert head.signed in text
    assert f"Signedtreehead:{head.tree_size}events." in text
