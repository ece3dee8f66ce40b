"""Settings for the portfolio portal, driven only by environment variables.

Two ways to run with the same code (see README "Configuration"):

* embedded default: SQLite under ``var/``, kombu's filesystem broker under
  ``var/broker``, local-memory cache, file e-mail backend under ``var/mail``;
* production: ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` (Redis),
  ``CACHE_URL`` (Redis), ``EMAIL_URL`` (SMTP).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.management.utils import get_random_secret_key
from whitenoise.compress import Compressor

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Importing the settings creates no folder and writes no file: ``manage.py
# prepare_embedded`` (portal/embedded.py, run by ``make run`` and ``make test``)
# creates the folders named here and the secret key file.
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
SECRET_KEY_FILE = VAR_DIR / "secret_key"


def _embedded_secret_key() -> str:
    """The key kept under var/ so sessions and encrypted credentials survive restarts
    of the embedded portal; until ``prepare_embedded`` has written it, a key for
    this process alone."""
    if SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text().strip()
    return get_random_secret_key()


SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused form post gets the portal's 403 page (what happened, a way back).
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "portal",
    "analytics",
    "compliance",
    "reports",
    "dashboards",
]

MIDDLEWARE = [
    # Cache-Control: no-store on pages and API answers (not static files or
    # /health/); outermost, so it also marks the JSON errors made below.
    "portal.no_store.NoStoreMiddleware",
    # Outermost, so that every error under /api/ (a 404 page, a 500 page, a CSRF
    # refusal) answers JSON.
    "portal.api.errors.ApiErrorsJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy on every page (settings "Content-Security-Policy").
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Logs out a session idle for SESSION_IDLE_TIMEOUT_SECONDS.
    "portal.session_idle.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

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
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions
    # take the write lock up front so concurrent writers wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a Celery worker process in the integration tests
    # sees the same test database as the test process.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_portal.sqlite3")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://portal")}

AUTH_USER_MODEL = "portal.User"
# Personal API tokens: knox keeps a digest only (portal.models.ApiToken).
KNOX_TOKEN_MODEL = "portal.ApiToken"  # noqa: S105 (a model name, not a secret)
# Argon2id hashes every new password (and re-hashes an older one at its next
# login); the others remain so that hashes made before still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Each user lands on their role's dashboard (a URL name, so the core imports no app
# above it); an explicit ``next=`` still wins.
LOGIN_REDIRECT_URL = "dashboards:landing"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic (run by `make run`, `make test` and the test session) writes each
    # file under a content-hashed name with .gz and .br copies beside it; WhiteNoise
    # serves those names compressed with a far-future immutable Cache-Control. A
    # template naming a file that was not collected is an error, never a stale URL.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Files of report runs: a folder under var/ by default; any django-storages
    # backend in production (e.g. REPORTS_STORAGE_BACKEND=storages.backends.s3.S3Storage
    # with REPORTS_STORAGE_OPTIONS='{"bucket_name": "reports"}').
    "reports": {
        "BACKEND": env.str(
            "REPORTS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json(
            "REPORTS_STORAGE_OPTIONS", default={"location": str(VAR_DIR / "reports")}
        ),
    },
}
# Only with DEBUG (unhashed names, no collectstatic needed) does WhiteNoise also
# serve straight from the finders.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
# Pages only ever name the hashed copies, so the unhashed ones are not kept (nor
# compressed); source maps are fetched by developer tools alone and are served
# as they are, which halves the Brotli work of a collection.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# A report PDF renders in a child process with these limits (reports/renderers/pdf.py).
REPORT_PDF_TIMEOUT_SECONDS = env.float("REPORT_PDF_TIMEOUT_SECONDS", default=300)
REPORT_PDF_MEMORY_MB = env.int("REPORT_PDF_MEMORY_MB", default=2048)
MEDIA_URL = "media/"

_email = env.email_url("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
if EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    # django-environ drops the leading slash of an absolute path.
    EMAIL_FILE_PATH = "/" + _email["EMAIL_FILE_PATH"].lstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

# --- Celery -----------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Tasks never wait on an ETA longer than this: a message not acknowledged
    # within the visibility timeout is redelivered to another worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Task state lives in our own tables; no result backend is relied upon.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "analytics.*": {"queue": "analytics"},
    "compliance.*": {"queue": "compliance"},
    "reports.deliver*": {"queue": "delivery"},
    "reports.*": {"queue": "reports"},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic jobs, one entry per app's job; django-celery-beat copies them into
# its tables when beat starts, where admins can pause or retime them.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "analytics-nightly-snapshots": {
        "task": "analytics.snapshots_refresh_all",
        "schedule": crontab(hour=2, minute=0),
    },
    # HTTP pull sources whose next poll is due (each is claimed before its fetch is sent).
    "analytics-poll-data-sources": {
        "task": "analytics.data_sources_poll_due",
        "schedule": crontab(minute="*"),
    },
    # Stale prices, gaps, spikes, breaks, missing FX; completeness per portfolio and date.
    "analytics-nightly-data-quality": {
        "task": "analytics.data_quality_scan_all",
        "schedule": crontab(hour=1, minute=30),
    },
    # Every portfolio's compliance rules, fanned out in chunks; then due escalations
    # and expired snoozes. After the nightly data-quality scan and snapshots.
    "compliance-daily-evaluation": {
        "task": "compliance.evaluate_daily",
        "schedule": crontab(hour=3, minute=0),
    },
    # Work whose lease expired with no live holder is re-sent (see portal.leases).
    "portal-leases-sweep": {
        "task": "portal.leases_sweep",
        "schedule": env.int("LEASE_SWEEP_SECONDS", default=30),
    },
    # Report schedules whose next slot is due, and slots still waiting for data.
    "reports-schedules-dispatch": {
        "task": "reports.schedules_dispatch",
        "schedule": env.int("SCHEDULES_DISPATCH_SECONDS", default=60),
    },
    # Daily digest e-mails for users who chose them.
    "compliance-daily-digest": {
        "task": "compliance.digests_send",
        "schedule": crontab(hour=7, minute=0),
    },
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The filesystem transport has no fanout exchange for remote control; Redis does.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = not CELERY_BROKER_URL.startswith("filesystem://")

# --- Leases on claimed work ----------------------------------------------------
# Seconds a claim on a row is good for (see portal.leases): a few times the work's
# expected duration, renewed every third of it while the holder lives, so work
# whose process died is taken over within one lease plus one sweep.
LEASE_SECONDS: dict[str, float] = {
    "default": env.float("LEASE_DEFAULT_SECONDS", default=60.0),
    "snapshot": env.float("LEASE_SNAPSHOT_SECONDS", default=60.0),
    "evaluation": env.float("LEASE_EVALUATION_SECONDS", default=120.0),
    "import": env.float("LEASE_IMPORT_SECONDS", default=120.0),
    "idempotency_key": env.float("LEASE_IDEMPOTENCY_KEY_SECONDS", default=60.0),
    "report_run": env.float("LEASE_REPORT_RUN_SECONDS", default=300.0),
    "occurrence": env.float("LEASE_OCCURRENCE_SECONDS", default=120.0),
    "delivery": env.float("LEASE_DELIVERY_SECONDS", default=300.0),
}

# --- Scheduled deliveries ------------------------------------------------------
# Attachments up to this many bytes in all go in the e-mail; a larger copy is sent
# as signed download links that expire after DELIVERY_LINK_MAX_AGE_SECONDS.
DELIVERY_ATTACHMENT_MAX_BYTES = env.int("DELIVERY_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DELIVERY_LINK_MAX_AGE_SECONDS = env.int("DELIVERY_LINK_MAX_AGE_SECONDS", default=24 * 3600)
# A downloaded report PDF carries the downloading user's name and the time on every
# page when this is on (a single download asks for it with ?watermark=1 too).
REPORTS_PDF_WATERMARK = env.bool("REPORTS_PDF_WATERMARK", default=False)
# Transient failures (mail server down, webhook 5xx, timeout) are retried after
# base · 2^(attempt−1) seconds with full jitter, capped below the broker's
# visibility timeout, until DELIVERY_MAX_ATTEMPTS attempts have failed.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=5)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=30.0)
DELIVERY_RETRY_MAX_SECONDS = env.float("DELIVERY_RETRY_MAX_SECONDS", default=900.0)
# The portal's address as recipients outside it see it (links in e-mails and webhooks).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Analytics ---------------------------------------------------------------
# Annual risk-free rate for Sharpe, Sortino and friends (0.02 = 2 %), converted per
# period as (1 + rf)^(1/252) − 1, for portfolios without a risk-free series
# (Portfolio.risk_free_factor).
ANALYTICS_RISK_FREE_RATE = env.float("ANALYTICS_RISK_FREE_RATE", default=0.0)
# Portfolios per task in the nightly snapshot fan-out.
SNAPSHOT_CHUNK_SIZE = env.int("SNAPSHOT_CHUNK_SIZE", default=25)

# --- Data import and data quality --------------------------------------------
# Uploads up to this size are imported in the request; larger ones are queued to a
# worker, so no web request parses a large (or hostile: a zip bomb) file.
INGEST_INLINE_MAX_BYTES = env.int("INGEST_INLINE_MAX_BYTES", default=1024 * 1024)
# An uploaded file larger than this is refused with 413 before it is read or kept.
INGEST_UPLOAD_MAX_BYTES = env.int("INGEST_UPLOAD_MAX_BYTES", default=100 * 1024 * 1024)
# A request body that is not a file (JSON push batches, form fields) is refused
# with 413 above this; files above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary
# file rather than memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Caps on one input, refused as a whole when the reader reaches them: data rows of
# any file (blank rows count), and a workbook's zip parts in bytes uncompressed,
# checked against the zip header and again while decompressing: each part kept in
# memory (shared strings, styles), and the sheet, which is only streamed.
INGEST_MAX_ROWS = env.int("INGEST_MAX_ROWS", default=2_000_000)
INGEST_XLSX_MAX_PART_BYTES = env.int("INGEST_XLSX_MAX_PART_BYTES", default=50 * 1024 * 1024)
INGEST_XLSX_MAX_SHEET_BYTES = env.int("INGEST_XLSX_MAX_SHEET_BYTES", default=1024 * 1024 * 1024)
# Every imported date must lie in this range (ISO dates, both included): a year
# 9999 or 0001 is a placeholder or a typo, and a row error.
INGEST_DATE_MIN = env.str("INGEST_DATE_MIN", default="1900-01-01")
INGEST_DATE_MAX = env.str("INGEST_DATE_MAX", default="2100-12-31")
# Key material for the encrypted credentials of pull sources (default: SECRET_KEY).
INGEST_CREDENTIALS_KEY = env.str("INGEST_CREDENTIALS_KEY", default="") or SECRET_KEY
# A price is stale after this many sessions of its exchange without a new close.
DATA_QUALITY_STALE_SESSIONS = env.int("DATA_QUALITY_STALE_SESSIONS", default=3)
# A price is also stale when the same close comes on this many consecutive sessions
# (a vendor repeating its last value); 0 turns the check off.
DATA_QUALITY_UNCHANGED_SESSIONS = env.int("DATA_QUALITY_UNCHANGED_SESSIONS", default=5)
# A daily move beyond this many standard deviations of the previous window is a spike.
DATA_QUALITY_SPIKE_SIGMAS = env.float("DATA_QUALITY_SPIKE_SIGMAS", default=6.0)
DATA_QUALITY_SPIKE_WINDOW = env.int("DATA_QUALITY_SPIKE_WINDOW", default=60)
# How far back (calendar days) the scans look for gaps, spikes and missing FX.
DATA_QUALITY_LOOKBACK_DAYS = env.int("DATA_QUALITY_LOOKBACK_DAYS", default=400)

# --- REST API ---------------------------------------------------------------
# Personal tokens (portal.api_tokens): an expiry at most API_TOKEN_MAX_DAYS ahead
# (administrators may make one that never expires); a token from POST /api/token/
# (username and password) lasts API_LOGIN_TOKEN_HOURS.
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=90)
API_LOGIN_TOKEN_HOURS = env.int("API_LOGIN_TOKEN_HOURS", default=10)
# A tabular API answer as CSV of more rows than this is streamed (its checksum is
# then in the audit event, not a header); portal.api_tabular.
API_STREAM_ROWS = env.int("API_STREAM_ROWS", default=10_000)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_MAX_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
}
# knox's own migrations create its knox_authtoken table even though its model is
# swapped for portal.ApiToken (they predate the swappable option); that stray table
# references portal_user, so PostgreSQL refuses the TRUNCATE of a test flush.
# Without migrations, the swapped model makes no table at all.
MIGRATION_MODULES = {"knox": None}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "portal.api.permissions.TokenScopeAllows",
    ],
    # portal.api.throttles: 429 with Retry-After; "<count>/<second|minute|hour|day>",
    # empty for no limit.
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttles.PerUserThrottle",
        "portal.api.throttles.PerTokenThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="2000/hour"),
        "token": env.str("API_THROTTLE_TOKEN", default="1000/hour"),
        "token_login": env.str("API_THROTTLE_TOKEN_LOGIN", default="20/minute"),
    },
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's handler, plus a JSON 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE.
    "EXCEPTION_HANDLER": "portal.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Portfolio portal API",
    "DESCRIPTION": (
        "Performance, risk, compliance and reports for the portfolios you are entitled to."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The errors every operation can answer (portal.api.schema_hooks).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema_hooks.error_responses_add",
    ],
    # Choice sets that share a field name ("scope", "level") across apps are named
    # here, else the schema would name them by a hash and warn.
    "ENUM_NAME_OVERRIDES": {
        "RuleScopeEnum": "compliance.models.RuleScope.values",
        "AccessLevelEnum": "portal.models.AccessLevel",
        "ReportScopeEnum": "reports.definition.SCOPES",
        "ReportShareLevelEnum": "reports.models.ShareLevel",
        "DashboardShareLevelEnum": "dashboards.models.ShareLevel",
        "DeliveryChannelEnum": "reports.models.DeliveryChannel",
        "DeliveryStateEnum": "reports.models.DeliveryState",
        "OccurrenceStateEnum": "reports.models.OccurrenceState",
        "ApiTokenScopeEnum": "portal.models.ApiTokenScope",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Sessions -----------------------------------------------------------------
# A session ends SESSION_MAX_AGE_SECONDS after login, or earlier once no request
# came for SESSION_IDLE_TIMEOUT_SECONDS (portal.session_idle); 0 turns the idle
# timeout off.
SESSION_COOKIE_AGE = env.int("SESSION_MAX_AGE_SECONDS", default=8 * 3600)
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Django's database sessions, with the session row read faster (portal.session_store).
SESSION_ENGINE = "portal.session_store"
# The OpenAPI schema and Swagger UI answer only a logged-in user unless this is true.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

# --- Login lockout (django-axes) ----------------------------------------------
# A username tried from one address is refused after AXES_FAILURE_LIMIT failed
# logins (page or token endpoint) until AXES_COOLOFF_TIME hours have passed or an
# admin lifts the lockout (admin "Access attempts": delete, or "Lift lockout").
# While locked, even the right password is refused. The address is the one the
# audit log records (portal.origins, TRUSTED_PROXIES).
AUTHENTICATION_BACKENDS = [
    "portal.lockouts.LockoutBackend",  # django-axes' backend, see there
    # ModelBackend, with the session's user read faster (portal.session_users).
    "portal.session_users.PortalModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=1.0)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "portal.origins.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "portal.lockouts.lockout_response"
# A failure while locked out does not push the end of the lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
# Lockouts and their lifting are in the audit trail (portal.lockouts); axes' own
# INFO line for every login stays off unless AXES_VERBOSE=true.
AXES_VERBOSE = env.bool("AXES_VERBOSE", default=False)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes asks

# --- Proxies, HTTPS and browser hardening ---------------------------------------
# Peers whose X-Forwarded-For is believed (IP addresses or CIDR networks; see
# portal.origins). Empty: the connection's peer is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Behind a proxy that terminates TLS, the header it sets on HTTPS requests
# (e.g. X-Forwarded-Proto); never set it unless the proxy always sets or strips it.
_proxy_ssl_header = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
# PORTAL_HTTPS=true (production, served over HTTPS only) turns on secure cookies,
# the redirect to HTTPS and HSTS; each can still be set on its own. Off, the
# embedded portal keeps working over plain http on 127.0.0.1.
# (SECURE_COOKIES is the older name of the switch.)
PORTAL_HTTPS = env.bool("PORTAL_HTTPS", default=env.bool("SECURE_COOKIES", default=False))
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PORTAL_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PORTAL_HTTPS)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PORTAL_HTTPS)
# A load balancer's health check may still come over plain http.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if PORTAL_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PORTAL_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PORTAL_HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) ------------------------------------------
# Pages run only the portal's own script files and styles: no inline <script>, no
# event-handler attributes, no eval (plotly.js's strict bundle builds no function
# from a string), nothing from another origin, no plugins, no framing. Data reaches
# scripts in json_script blocks (type="application/json", never executed) and data-
# attributes; plotly.js's global rules come from static/vendor/plotly.css instead of
# the <style> it would inject. img-src allows data: and blob: for plotly.js's
# "download plot as PNG" and the logos reports embed as data: URIs.
# CSP_REPORT_ONLY=true sends the same policy as Content-Security-Policy-Report-Only
# (the browser reports violations and blocks nothing), to try a change live first.
# (A module-level CSP_REPORT_ONLY is django-csp 3's setting and fails its check.)
# The one inline style allowed is the empty one, by its hash: plotly.js clears a
# colour bar's style with style="" (nothing to inject), and the browser would
# otherwise log a violation on every chart with a colour bar.
EMPTY_STYLE_HASH = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-hashes'", EMPTY_STYLE_HASH],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY
