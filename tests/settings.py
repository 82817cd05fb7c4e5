"""Test settings: the real settings with the few overrides tests need (fast hashing, local mail,
scratch signing keys, tasks in-process). The integration tests that need a real Celery worker
start one themselves (tests/conftest.py, ``celery_worker_process``)."""

import os
import tempfile
import uuid
from pathlib import Path

os.environ.setdefault("DEBUG", "true")

from lifes.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each xdist worker (PYTEST_XDIST_WORKER, inherited by the processes its tests start) gets
# its own uploads and signing keys, so two workers never write the same file.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
MEDIA_ROOT = BASE_DIR / ".test-media" / XDIST_WORKER  # noqa: F405
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405 - whitenoise warns about a missing root
# One scratch key directory per test run, inherited by the processes the tests start.
SIGNING_KEY_DIR = (
    Path(os.environ.setdefault("LIFES_TEST_KEY_DIR", tempfile.mkdtemp(prefix="lifes-test-keys-")))
    / XDIST_WORKER
)
# In-process tasks even when CI provides a broker: only the worker tests use the real one
# (their worker process is started with CELERY_TASK_ALWAYS_EAGER=false).
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "true") != "false"
# Appends place themselves in the audit log wherever tasks run in-process (as in development);
# the worker process started with CELERY_TASK_ALWAYS_EAGER=false leaves it to the sequencer.
AUDIT_SEQUENCE_INLINE = CELERY_TASK_ALWAYS_EAGER
# Task success lines follow eager mode as in lifes/settings.py (which decided it from the broker
# setting before the line above forced eager): quiet in-process, as `make run` is.
LOGGING["loggers"]["celery.app.trace"]["level"] = (  # noqa: F405
    "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"
)
# One queue per test run, inherited by the workers and servers its tests start: two runs that
# share a Redis (CI legs of two checkouts on one machine) never take each other's tasks — a
# worker of another run would answer from its own, empty database.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault(
    "CELERY_TASK_DEFAULT_QUEUE", f"lifes-test-{uuid.uuid4().hex[:12]}"
)
# Static files are looked up when asked for, as under `make run` (DEBUG): the test runner turns
# DEBUG off, and WhiteNoise would then list every app's static files again for each test's
# client (a thirtieth of the suite's time).
WHITENOISE_AUTOREFRESH = True
