"""Settings for LIFES Hub, read from the environment (django-environ).

Safe defaults for a laptop: SQLite, eager Celery, console email. Production is whatever runs with
``DEBUG`` off, and it refuses to start without a real ``SECRET_KEY``, ``ALLOWED_HOSTS`` and
``DATABASE_URL`` (see ``_fail_fast`` below).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
_env_file = BASE_DIR / ".env"
if _env_file.exists():
    environ.Env.read_env(_env_file)

DEBUG = env.bool("DEBUG", default=False)
_INSECURE_KEY = "django-insecure-lifes-development-only"  # noqa: S105 - refused when DEBUG is off
SECRET_KEY = env.str("SECRET_KEY", default=_INSECURE_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL of the hub: the `iss` of permits and the links in emails and PDFs.
HUB_URL = env.str("HUB_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_countries",
    "mozilla_django_oidc",
    # LIFES apps, in dependency order (an app imports only from those above it).
    "audit",
    "accounts",
    "catalogue",
    "consent",
    "requests_app",
    "permits",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lifes.urls"
WSGI_APPLICATION = "lifes.wsgi.application"
ASGI_APPLICATION = "lifes.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # every write is an explicit service transaction
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the write lock instead of failing at once: the dev server runs threads.
    # IMMEDIATE: a transaction takes the write lock when it begins, so two writers queue instead
    # of one failing with "database is locked" when it upgrades from a read.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
ANONYMOUS_USER_NAME = None  # guardian: anonymous users hold no object permissions

# OpenID Connect for institutional identity providers: on when a client id is configured.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="your institution")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.insert(0, "accounts.oidc.LifesOIDCBackend")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LIFES Hub <noreply@lifes.test>")

# Celery: a real broker when CELERY_BROKER_URL is set (redis:// or amqp://), eager otherwise.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"  # eager mode: tasks run in-process, nothing is sent
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "audit-verify-daily": {"task": "audit.tasks.audit_verify_task", "schedule": timedelta(days=1)},
    "audit-checkpoint-hourly": {
        "task": "audit.tasks.audit_checkpoint_task",
        "schedule": timedelta(hours=1),
    },
    "review-reminders": {
        "task": "requests_app.tasks.stage_reminders_task",
        "schedule": timedelta(hours=1),
    },
    "permits-expire": {
        "task": "permits.tasks.permits_expire_task",
        "schedule": timedelta(minutes=5),
    },
    "permits-revocation-list": {
        "task": "permits.tasks.revocation_list_publish_task",
        "schedule": timedelta(minutes=15),
    },
}

# The hub's Ed25519 signing keys (permits/keys.py). Private keys live in SIGNING_KEY_DIR as
# <kid>.pem (PKCS8, encrypted with SIGNING_KEY_PASSPHRASE when set, mode 0600), or, in
# containers, as the one key in SIGNING_KEY_PEM. Never in the database.
SIGNING_KEY_DIR = Path(env.str("SIGNING_KEY_DIR", default=str(BASE_DIR / "keys")))
SIGNING_KEY_PASSPHRASE = env.str("SIGNING_KEY_PASSPHRASE", default="")
SIGNING_KEY_PEM = env.str("SIGNING_KEY_PEM", default="", multiline=True)
JWKS_MAX_AGE = env.int("JWKS_MAX_AGE", default=300)
# Permits (permits/): output rules and validity written into every permit, the lifetime of the
# signed revocation list (nodes refuse a list past its exp), and the GA4GH visa key (ES256, P-256:
# the file visa-es256.pem in SIGNING_KEY_DIR, created on first use, or VISA_SIGNING_KEY_PEM).
PERMIT_MIN_CELL_COUNT = env.int("PERMIT_MIN_CELL_COUNT", default=10)
PERMIT_DEFAULT_VALIDITY_DAYS = env.int("PERMIT_DEFAULT_VALIDITY_DAYS", default=365)
PERMIT_REVOCATION_LIST_TTL = env.int("PERMIT_REVOCATION_LIST_TTL", default=3600)
PERMIT_EXPIRY_BATCH_SIZE = env.int("PERMIT_EXPIRY_BATCH_SIZE", default=500)
VISA_SIGNING_KEY_PEM = env.str("VISA_SIGNING_KEY_PEM", default="", multiline=True)
VISA_TTL = env.int("VISA_TTL", default=3600)
# Audit checkpoints are signed by the hub key; dotted paths keep audit free of permits imports.
AUDIT_CHECKPOINT_SIGNER = "permits.keys.sign_checkpoint"
AUDIT_CHECKPOINT_VERIFIER = "permits.keys.verify_checkpoint"
# On PostgreSQL a trigger refuses UPDATE/DELETE/TRUNCATE on the audit log. `manage.py flush` (and
# so the test runner) may erase it only where this is on: development and tests, never production.
AUDIT_MAINTENANCE_ON_FLUSH = env.bool("AUDIT_MAINTENANCE_ON_FLUSH", default=DEBUG)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "lifes.schema.LifesAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "lifes.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"anon": env.str("API_ANON_RATE", default="120/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LIFES Hub API",
    "DESCRIPTION": "Access requests, consent checks and signed permits for federated health data.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "VoteChoiceEnum": "requests_app.models.VoteChoice",
        "OwnerDecisionEnum": [("granted", "Granted"), ("refused", "Refused")],
    },
}

# Uploads: files go to storage, never into memory wholesale.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Production hardening: on whenever DEBUG is off (so `check --deploy` passes).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"


def _fail_fast() -> None:
    """Refuse to run a production process on development defaults."""
    if DEBUG:
        return
    problems = []
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must name the hosts this hub serves")
    if not env.str("DATABASE_URL", default=""):
        problems.append("DATABASE_URL must point at the production database")
    if problems:
        raise ImproperlyConfigured("Production settings (DEBUG is off): " + "; ".join(problems))


_fail_fast()
