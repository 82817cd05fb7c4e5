"""Audit test fixtures: a throwaway key directory for checkpoint signing, and people by role."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _signing_keys(settings, tmp_path):
    """Checkpoints are signed with the hub key; keep its private half out of the repository."""
    settings.SIGNING_KEY_DIR = tmp_path / "keys"
    settings.SIGNING_KEY_PASSPHRASE = ""
    settings.SIGNING_KEY_PEM = ""


@pytest.fixture
def people(db):
    from accounts.models import User

    def make(email: str, **flags):
        return User.objects.create_user(email, password="pw-for-tests-only", **flags)

    return {
        "auditor": make("auditor@example.test", full_name="Ada Auditor", is_auditor=True),
        "staff": make("staff@example.test", is_staff=True),
        "requester": make("requester@example.test", full_name="Rita Requester"),
        "inactive_auditor": make("gone@example.test", is_auditor=True, is_active=False),
    }
