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
# templates/, static/ and locale/: the checkout's, else the copies the wheel carries in lifes/.
RESOURCE_DIR = BASE_DIR if (BASE_DIR / "templates").is_dir() else Path(__file__).resolve().parent

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
# The harvestable catalogue (/catalogue.jsonld): who publishes it, under which licence.
CATALOGUE_TITLE = env.str("CATALOGUE_TITLE", default="LIFES Hub catalogue")
CATALOGUE_PUBLISHER_NAME = env.str("CATALOGUE_PUBLISHER_NAME", default="LIFES Hub")
CATALOGUE_PUBLISHER_TYPE = env.str("CATALOGUE_PUBLISHER_TYPE", default="NonProfitOrganisation")
CATALOGUE_LICENCE_URL = env.str(
    "CATALOGUE_LICENCE_URL", default="http://creativecommons.org/publicdomain/zero/1.0/"
)
CATALOGUE_PAGE_SIZE = env.int("CATALOGUE_PAGE_SIZE", default=50)

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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    # LIFES apps, in dependency order (an app imports only from those above it).
    "outbox",
    "idempotency",
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
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "lifes.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "idempotency.middleware.IdempotencyKeyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Domain errors a page lets through: their status and message, never a 500.
    "lifes.middleware.DomainErrorMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lifes.urls"
WSGI_APPLICATION = "lifes.wsgi.application"
ASGI_APPLICATION = "lifes.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [RESOURCE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.navigation",
                "consent.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # every write is an explicit service transaction
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A pooled connection is tested before a request uses it, so a database blip costs no request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Every wait on PostgreSQL is bounded: connecting (libpq connect_timeout), a slow statement on a
# live server (statement_timeout, server side), and a server or network that went silent (the
# client deadline of lifes/postgresql: a few seconds beyond the statement timeout).
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=20.0)
DATABASE_CLIENT_DEADLINE = env.float(
    "DATABASE_CLIENT_DEADLINE", default=DATABASE_STATEMENT_TIMEOUT + 5.0
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "lifes.postgresql"
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    _pg_options["options"] = (
        f"{_pg_options.get('options', '')} "
        f"-c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT * 1000)}"
    ).strip()
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
    # First, so a locked-out account or address is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
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
LOGIN_REDIRECT_URL = "requests:dashboard"  # signing in lands on the work waiting
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
# The institution's issuer, named as the source of GA4GH ResearcherStatus visas.
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.insert(1, "accounts.oidc.LifesOIDCBackend")

# Sign-in throttling (django-axes, failures stored in the database so every web process sees
# them): AXES_FAILURE_LIMIT failed sign-ins lock the account *and*, separately, the address they
# came from for AXES_COOLOFF_MINUTES. Staff unlock early in the admin ("Access attempts":
# delete the rows) or with `manage.py axes_reset_username EMAIL` / `axes_reset_ip ADDRESS`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.signin.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.signin.lockout_response"
# Behind reverse proxies the client address is in X-Forwarded-For: say how many proxies
# (accounts/signin.py, ``client_address``).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "accounts.signin.client_address"
# Password-reset mails per client address and per address asked for (django-ratelimit).
PASSWORD_RESET_RATE = env.str("PASSWORD_RESET_RATE", default="5/h")
RATELIMIT_IP_META_KEY = AXES_CLIENT_IP_CALLABLE  # the same client address as the lockout

# Two-factor sign-in (django-otp, TOTP + one-time recovery codes): required for staff, board
# chairs and secretaries, and data stewards (accounts/selectors.py, requires_two_factor).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="LIFES Hub")
TWO_FACTOR_RECOVERY_CODES = 10

# API tokens: the default and longest lifetime of a person's token (nodes: see README, "Tokens").
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)
API_TOKEN_MAX_TTL_DAYS = env.int("API_TOKEN_MAX_TTL_DAYS", default=365)

# Shared by the rate limits; set CACHE_URL (redis://...) in production so every process counts
# the same requests.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [RESOURCE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True
# Dates as Europe writes them, in English too, and a time zone with every time (lifes/formats/).
FORMAT_MODULE_PATH = ["lifes.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [RESOURCE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded files are private: nothing serves MEDIA_URL (lifes/urls.py adds no route for it, not
# even with DEBUG); access-checked views hand files over (lifes/files.py).
MEDIA_URL = "media/"
# How those views hand a file over: "django" (FileResponse), "nginx" (X-Accel-Redirect to
# PRIVATE_FILES_URL, an internal location serving MEDIA_ROOT) or "sendfile" (X-Sendfile).
PRIVATE_FILES_SERVER = env.str("PRIVATE_FILES_SERVER", default="django")
if PRIVATE_FILES_SERVER not in ("django", "nginx", "sendfile"):
    raise ImproperlyConfigured("PRIVATE_FILES_SERVER must be django, nginx or sendfile.")
PRIVATE_FILES_URL = env.str("PRIVATE_FILES_URL", default="/private-files/")
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
# The queue tasks go to and workers read by default; two deployments (or two test runs) that
# share one broker keep apart by naming their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The longest task (a large report) is killed after CELERY_TASK_TIME_LIMIT seconds; the lease and
# the broker's visibility timeout are a minute longer, so neither hands out work still running.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 30, 1)
CELERY_VISIBILITY_TIMEOUT = env.int(
    "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60
)
# Every wait on the broker and the result backend is bounded (seconds); a publish is tried once
# more at most (the outbox sweep is the real retry); the visibility timeout (Redis) hands an
# unacknowledged task to another worker a minute after the longest task would have been killed.
BROKER_TIMEOUT = env.float("BROKER_TIMEOUT", default=3.0)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "socket_timeout": BROKER_TIMEOUT,
        "socket_connect_timeout": BROKER_TIMEOUT,
        "socket_keepalive": True,
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "health_check_interval": 25,
    }
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else {
        "connect_timeout": BROKER_TIMEOUT,
        "read_timeout": BROKER_TIMEOUT,
        "write_timeout": BROKER_TIMEOUT,
    }
    if CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://"))
    else {}
)
CELERY_REDIS_SOCKET_TIMEOUT = BROKER_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_TIMEOUT
CELERY_REDIS_SOCKET_KEEPALIVE = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
# How long the first answer to an API POST's Idempotency-Key is kept (seconds).
IDEMPOTENCY_KEY_TTL = env.int("IDEMPOTENCY_KEY_TTL", default=24 * 3600)
# Seconds a client is asked to wait (Retry-After) when a 503 says a dependency is down.
OUTAGE_RETRY_AFTER = env.int("OUTAGE_RETRY_AFTER", default=5)
# /healthz answers within this many seconds whatever its probes do (HEALTHZ_TIMEOUT < 3).
HEALTHZ_TIMEOUT = env.float("HEALTHZ_TIMEOUT", default=2.5)
# The transactional outbox (outbox/): a sent effect not acknowledged within REDELIVER_AFTER
# seconds (doubling per attempt, capped at MAX_BACKOFF) is sent again by the sweep; a delivery
# holds its row for LEASE seconds (longer than the longest task, so a duplicate never runs
# beside it); after MAX_ATTEMPTS sends a row is left for an operator (admin, `last_error`).
OUTBOX_REDELIVER_AFTER = env.float("OUTBOX_REDELIVER_AFTER", default=120.0)
OUTBOX_MAX_BACKOFF = env.float("OUTBOX_MAX_BACKOFF", default=3600.0)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=15.0)
OUTBOX_SWEEP_BATCH = env.int("OUTBOX_SWEEP_BATCH", default=200)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=25)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)
# Sweepers (beat, every SWEEP_SECONDS): work older than SWEEP_GRACE seconds that is still
# waiting for an effect (submitted without checks, approved without a permit, a report queued
# or running past REPORT_DEADLINE) is re-driven, at most once per SWEEP_REDRIVE_EVERY.
SWEEP_SECONDS = env.float("SWEEP_SECONDS", default=60.0)
# How often the beat refreshes the metrics page's figures (they show their time).
METRICS_REFRESH_SECONDS = env.float("METRICS_REFRESH_SECONDS", default=300.0)
# Lists count their rows exactly up to this many, then say "more than" (lifes/pagination.py).
PAGINATION_COUNT_CAP = env.int("PAGINATION_COUNT_CAP", default=1000)
# How many "waiting for you" items a dashboard (and the waiting API) shows at once.
WAITING_PAGE_SIZE = env.int("WAITING_PAGE_SIZE", default=25)
SWEEP_GRACE = env.float("SWEEP_GRACE", default=300.0)
SWEEP_REDRIVE_EVERY = env.float("SWEEP_REDRIVE_EVERY", default=3600.0)
REPORT_DEADLINE = env.float("REPORT_DEADLINE", default=CELERY_TASK_TIME_LIMIT + 60.0)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "idempotency-purge": {
        "task": "idempotency.tasks.idempotency_purge_task",
        "schedule": timedelta(hours=1),
    },
    "outbox-sweep": {"task": "outbox.sweep", "schedule": timedelta(seconds=OUTBOX_SWEEP_SECONDS)},
    "requests-sweep": {
        "task": "requests_app.tasks.requests_sweep_task",
        "schedule": timedelta(seconds=SWEEP_SECONDS),
    },
    "permits-sweep": {
        "task": "permits.tasks.permits_sweep_task",
        "schedule": timedelta(seconds=SWEEP_SECONDS),
    },
    "reports-sweep": {
        "task": "reports.tasks.reports_sweep_task",
        "schedule": timedelta(seconds=SWEEP_SECONDS),
    },
    "metrics-refresh": {
        "task": "reports.tasks.metrics_refresh_task",
        "schedule": timedelta(seconds=METRICS_REFRESH_SECONDS),
        "options": {"expires": 60},
    },
    "audit-verify-daily": {"task": "audit.tasks.audit_verify_task", "schedule": timedelta(days=1)},
    "audit-sequence": {
        "task": "audit.tasks.audit_sequence_task",
        "schedule": timedelta(seconds=1),
        "options": {"expires": 5},
    },
    "review-reminders": {
        "task": "requests_app.tasks.stage_reminders_task",
        "schedule": timedelta(hours=1),
    },
    "permits-expire": {
        "task": "permits.tasks.permits_expire_task",
        "schedule": timedelta(minutes=5),
    },
    "permits-acceptance": {
        "task": "permits.tasks.permits_acceptance_sweep_task",
        "schedule": timedelta(minutes=15),
    },
    "permits-revocation-list": {
        "task": "permits.tasks.revocation_list_publish_task",
        "schedule": timedelta(minutes=15),
    },
    "permits-results-reminders": {
        "task": "permits.tasks.results_reminders_task",
        "schedule": timedelta(hours=6),
    },
}

# The EHDS clocks (requests_app/services/ehds.py): lapse incomplete applications past their
# completion window; remind and escalate before a decision deadline. Both idempotent.
CELERY_BEAT_SCHEDULE["ehds-lapse-incomplete"] = {
    "task": "requests_app.tasks.incomplete_lapse_task",
    "schedule": timedelta(hours=1),
}
CELERY_BEAT_SCHEDULE["ehds-clock-reminders"] = {
    "task": "requests_app.tasks.clock_reminders_task",
    "schedule": timedelta(hours=1),
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
# EHDS: a granted permit waits this many days for every team member to accept the dataset terms,
# then lapses; an invitation link for a team member without an account is valid this long.
PERMIT_ACCEPTANCE_DAYS = env.int("PERMIT_ACCEPTANCE_DAYS", default=28)
TEAM_INVITATION_DAYS = env.int("TEAM_INVITATION_DAYS", default=14)
PERMIT_REVOCATION_LIST_TTL = env.int("PERMIT_REVOCATION_LIST_TTL", default=3600)
PERMIT_EXPIRY_BATCH_SIZE = env.int("PERMIT_EXPIRY_BATCH_SIZE", default=500)
VISA_SIGNING_KEY_PEM = env.str("VISA_SIGNING_KEY_PEM", default="", multiline=True)
VISA_TTL = env.int("VISA_TTL", default=3600)
# GA4GH Passport broker: lifetime of the passport-scoped access token (RFC 8693 exchange)
# and of the Passport JWT itself.
PASSPORT_TOKEN_TTL = env.int("PASSPORT_TOKEN_TTL", default=600)
PASSPORT_TTL = env.int("PASSPORT_TTL", default=3600)
# The public register (EHDS Art. 57/58): a permit or refusal appears this many working days
# (Monday to Friday) after the decision, so the applicant hears of it first and an error can be
# corrected; 0 publishes at once. Results (Art. 61): the publication is due this many months
# after the permit ends; the holder is reminded RESULTS_REMINDER_LEAD_DAYS before, and once more
# when it is overdue.
REGISTER_PUBLICATION_DELAY_WORKING_DAYS = env.int(
    "REGISTER_PUBLICATION_DELAY_WORKING_DAYS", default=5
)
REGISTER_PAGE_SIZE = env.int("REGISTER_PAGE_SIZE", default=50)
RESULTS_DUE_MONTHS = env.int("RESULTS_DUE_MONTHS", default=18)
RESULTS_REMINDER_LEAD_DAYS = env.int("RESULTS_REMINDER_LEAD_DAYS", default=60)

# Consent (consent/): operators' consent policy maps, added to consent/data/policy_map.json
# (paths, comma separated), and the largest consent import body the API accepts.
CONSENT_POLICY_MAPS = env.list("CONSENT_POLICY_MAPS", default=[])
CONSENT_IMPORT_MAX_BYTES = env.int("CONSENT_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

# The EHDS lifecycle (Reg. (EU) 2025/327; README, "The EHDS lifecycle"). Completeness check
# (Art. 68): an application returned as incomplete lapses after EHDS_COMPLETION_WINDOW_DAYS.
# Statutory clock (Art. 68): a decision within EHDS_DECISION_MONTHS of completeness, one
# extension of at most EHDS_EXTENSION_MONTHS. A shorter track of EHDS_SHORT_TRACK_MONTHS for
# requests from organisations of the kinds in EHDS_SHORT_TRACK_ORGANISATION_KINDS (comma
# separated, e.g. "public_body"; empty: nobody, as the regulation sets no shorter track).
# Reminders to those deciding EHDS_CLOCK_REMIND_DAYS before the deadline, escalation to the
# access body's staff EHDS_CLOCK_ESCALATE_DAYS before it.
EHDS_COMPLETION_WINDOW_DAYS = env.int("EHDS_COMPLETION_WINDOW_DAYS", default=28)
EHDS_DECISION_MONTHS = env.int("EHDS_DECISION_MONTHS", default=3)
EHDS_EXTENSION_MONTHS = env.int("EHDS_EXTENSION_MONTHS", default=3)
EHDS_SHORT_TRACK_MONTHS = env.int("EHDS_SHORT_TRACK_MONTHS", default=2)
EHDS_SHORT_TRACK_ORGANISATION_KINDS = env.list("EHDS_SHORT_TRACK_ORGANISATION_KINDS", default=[])
EHDS_CLOCK_REMIND_DAYS = env.int("EHDS_CLOCK_REMIND_DAYS", default=14)
EHDS_CLOCK_ESCALATE_DAYS = env.int("EHDS_CLOCK_ESCALATE_DAYS", default=5)
# Audit tree heads are signed by the hub key; dotted paths keep audit free of permits imports.
AUDIT_TREE_HEAD_SIGNER = "permits.keys.sign_tree_head"
AUDIT_TREE_HEAD_VERIFIER = "permits.keys.verify_tree_head"
# Appends sequence themselves (holding the sequencer's lock to their commit) where no worker
# runs the beat task: with eager Celery (development, tests) and always on SQLite. Production
# (a broker) leaves it to the sequencer, so writers never queue behind one another.
AUDIT_SEQUENCE_INLINE = env.bool("AUDIT_SEQUENCE_INLINE", default=CELERY_TASK_ALWAYS_EAGER)
# A committing writer wakes the sequencer at most this often (seconds, per process).
AUDIT_NUDGE_INTERVAL = env.float("AUDIT_NUDGE_INTERVAL", default=0.2)
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
    "DEFAULT_PARSER_CLASSES": ["lifes.parsers.GuardedJSONParser"],
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
        "OwnerDecisionEnum": "requests_app.models.OWNER_DECISIONS",
    },
    # the answers' components, one per form template (requests_app/schema.py)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "requests_app.schema.answers_components",
    ],
}

# Uploads: files go to storage, never into memory wholesale.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# JSON bodies nested deeper than this are refused (lifes/parsers.py) before they reach code.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=64)
# Requests for PDF reports per person per hour (reports/services.py).
REPORTS_PER_HOUR = env.int("REPORTS_PER_HOUR", default=20)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The aggregate output of a run a node uploads with its receipt (permits/services/run_outputs.py):
# at most this many bytes, and of these content types only.
RUN_OUTPUT_MAX_BYTES = env.int("RUN_OUTPUT_MAX_BYTES", default=1024 * 1024)
RUN_OUTPUT_CONTENT_TYPES = env.list(
    "RUN_OUTPUT_CONTENT_TYPES", default=["application/json", "text/csv"]
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Eager Celery (make run, seed_demo) would log "Task ... succeeded" for every audit
        # sequencing among the demo accounts; a worker with a broker keeps its INFO lines.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        "kombu.connection": {"level": "ERROR" if CELERY_TASK_ALWAYS_EAGER else "WARNING"},
    },
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

# Content-Security-Policy (django-csp) on every response: scripts and styles only from our own
# static files, so no inline script or style runs (templates carry none; tests/test_headers.py).
_SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": [_SELF, *env.list("CSP_FORM_ACTION_EXTRA", default=[])],
    }
}
# Permissions-Policy: the hub needs none of the powerful browser features.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}


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

# The EHDS after the decision (requests_app/services/after.py, permits/services/reports.py):
# how many renewals a permit may have (the regulation's default: one), how often the holder
# reports progress and how long after the end the closeout report is due, how many days
# before a report is due the holder is reminded, and the currency of the fee schedules.
EHDS_MAX_RENEWALS = env.int("EHDS_MAX_RENEWALS", default=1)
EHDS_PROGRESS_REPORT_MONTHS = env.int("EHDS_PROGRESS_REPORT_MONTHS", default=12)
EHDS_CLOSEOUT_REPORT_DAYS = env.int("EHDS_CLOSEOUT_REPORT_DAYS", default=60)
EHDS_REPORT_REMINDER_DAYS = env.int("EHDS_REPORT_REMINDER_DAYS", default=14)
EHDS_FEE_CURRENCY = env.str("EHDS_FEE_CURRENCY", default="EUR")
CELERY_BEAT_SCHEDULE["permit-report-reminders"] = {
    "task": "permits.tasks.permit_reports_remind_task",
    "schedule": timedelta(hours=6),
}
