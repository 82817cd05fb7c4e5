"""Test settings: the real settings with the few overrides tests need (fast hashing, local mail)."""

import os

os.environ.setdefault("DEBUG", "true")

from lifes.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405 - whitenoise warns about a missing root
