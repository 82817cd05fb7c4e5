"""Test settings: the real settings with the few overrides tests need (fast hashing, local mail,
scratch signing keys, tasks in-process). The integration tests that need a real Celery worker
start one themselves (tests/conftest.py, ``celery_worker_process``)."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "true")

from lifes.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405 - whitenoise warns about a missing root
# One scratch key directory per test run, inherited by the processes the tests start.
SIGNING_KEY_DIR = Path(
    os.environ.setdefault("LIFES_TEST_KEY_DIR", tempfile.mkdtemp(prefix="lifes-test-keys-"))
)
# In-process tasks even when CI provides a broker: only the worker tests use the real one
# (their worker process is started with CELERY_TASK_ALWAYS_EAGER=false).
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "true") != "false"
