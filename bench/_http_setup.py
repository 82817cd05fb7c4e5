"""Run by bench_http.py inside the benchmark's environment, after seed_demo: signed-in sessions
(second factor passed where the role needs it), API tokens and the demo's objects, as JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifes.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import api_token_create  # noqa: E402
from demo.world import DEMO_NODE_TOKEN  # noqa: E402
from permits.models import Permit, PermitStatus  # noqa: E402

BACKEND = next(b for b in settings.AUTHENTICATION_BACKENDS if "axes" not in b.lower())


def session_of(user: User) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


people = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith="@demo.lifes.test")}
permit = Permit.objects.filter(status=PermitStatus.ACTIVE).select_related("request").first()
entry = permit.permit_datasets.select_related("dataset").first()
print(
    json.dumps(
        {
            "sessions": {
                name: session_of(people[name]) for name in ("requester", "owner", "chair")
            },
            "requester_token": api_token_create(
                actor=None, user=people["requester"], name="bench"
            ).key,
            "node_token": DEMO_NODE_TOKEN,
            "request": permit.request.reference,
            "permit": permit.number,
            "dataset": entry.dataset.slug,
        }
    )
)
