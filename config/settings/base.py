"""Settings shared by every environment; values come from the environment.

With no DATABASE_URL / REDIS_URL docg runs embedded: SQLite, an in-process
broker and in-memory layers, so `make run` needs no services at all.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ

from .environment import local_url, read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
read_env_file()

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="docg-insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
FRONTEND_URL = env("FRONTEND_URL", default=local_url())

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "servestatic",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_dramatiq",
    "django_htmx",
    "social_django",
    "docg.common",
    "docg.orgs",
    "docg.audit",
    "docg.connectors",
    "docg.workflows",
    "docg.executions",
    "docg.documents",
    "docg.providers",
    "docg.demo",
    "docg.dashboard",
    "docg.benchmarks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "docg.common.middleware.ApiBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "docg.dashboard.middleware.OrganizationLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "docg.dashboard.context.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# No ATOMIC_REQUESTS: it breaks async views (SSE); services open their own transactions.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# psycopg's pool: a request borrows an open connection and gives it back at its end. Under ASGI each
# request runs in a thread of its own, so without it every request opened a connection (and PostgreSQL
# started a backend for it). On by default unless CONN_MAX_AGE asks for persistent connections instead,
# as the Procfile's worker line does: its threads live long, and a kept connection is cheaper for them.
# Bounded, so a burst of requests waits for a free connection instead of opening more until PostgreSQL
# refuses them all; a request that waits past the timeout answers 503 with Retry-After
# (docg.common.api.unavailable).
_POOL = env.bool("DATABASE_POOL", default=not DATABASES["default"]["CONN_MAX_AGE"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses persistent connections beside a pool
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded worker threads write beside the web requests: wait for the lock
    # instead of failing, and take it at BEGIN so two writers never deadlock on upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
# Threads that serve Django's HTTP requests in the web process (docg.common.sync_http): as many as the
# pool has connections, so no request thread waits for one.
WEB_THREADS = env.int(
    "WEB_THREADS", default=DATABASES["default"].get("OPTIONS", {}).get("pool", {}).get("max_size", 10)
)
DATABASE_UNAVAILABLE_RETRY_AFTER = env.int("DATABASE_UNAVAILABLE_RETRY_AFTER", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "orgs.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "dashboard:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
TIME_ZONE = "UTC"
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's output (the Procfile's release step); config/asgi.py serves it in production.
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# ServeStatic (config/static.py) serves the source folders here; production.py serves collectstatic's output.
SERVESTATIC_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# --- File storage (templates, generated documents) ----------------------------------
# S3-compatible storage (AWS S3, DigitalOcean Spaces via AWS_S3_ENDPOINT_URL) when a
# bucket is named; the local MEDIA_ROOT otherwise. DO_SPACES_* are accepted as aliases.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default=env("DO_SPACES_BUCKET", default=""))
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=env("DO_SPACES_ENDPOINT", default="")) or None
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=env("DO_SPACES_REGION", default="")) or None
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=env("DO_SPACES_KEY", default="")) or None
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=env("DO_SPACES_SECRET", default="")) or None
# Download links (S3 presigned URLs and our own signed file links) live this long.
DOCUMENT_LINK_SECONDS = env.int("DOCUMENT_LINK_SECONDS", default=300)
if AWS_STORAGE_BUCKET_NAME:
    DEFAULT_FILE_STORAGE_CONFIG = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": AWS_S3_REGION_NAME,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "location": env("AWS_LOCATION", default=""),
            "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "signature_version": "s3v4",
            # Documents are private: never a public ACL, never a silent overwrite.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": DOCUMENT_LINK_SECONDS,
        },
    }
else:
    DEFAULT_FILE_STORAGE_CONFIG = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_CONFIG,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Request bodies: the API refuses anything larger with a 413 in the error shape.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
TEMPLATE_MAX_UPLOAD_BYTES = env.int("TEMPLATE_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
# Uploads past 256 KB are spooled to a temporary file as they arrive and inspected from there.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# --- E-mail docg sends itself (approvers' notifications) ------------------------------
# EMAIL_URL as smtp://user:password@host:25, smtp+tls://…:587 or smtp+ssl://…:465; by default
# messages are printed on the console (`make run`). The workflows' own e-mail steps use their connections.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="docg <no-reply@localhost>")

# --- Redis, queue, realtime -------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
REDIS_STREAM_MAXLEN = env.int("REDIS_STREAM_MAXLEN", default=1000)
REDIS_STREAM_TTL = env.int("REDIS_STREAM_TTL", default=86400)
# Connections a process opens for stream writes and replays at most; a thread past that waits for one.
# Apart from these, a web process keeps one connection for its shared stream reader (hub.py).
REDIS_STREAM_CONNECTIONS = env.int("REDIS_STREAM_CONNECTIONS", default=4)
DOCG_MODE = "redis" if REDIS_URL else "embedded"

# The Dramatiq broker: Redis by default, or RabbitMQ (BROKER_URL=amqp://…), which hands a dead
# consumer's unacknowledged messages to another worker at once instead of after a heartbeat timeout.
BROKER_URL = env("BROKER_URL", default=REDIS_URL)
_BROKERS = {
    "redis": "dramatiq.brokers.redis.RedisBroker",
    "rediss": "dramatiq.brokers.redis.RedisBroker",
    "amqp": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
    "amqps": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
}
_DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
    "docg.executions.middleware.ReaperMiddleware",
    "docg.providers.google.schedule.FormsPollMiddleware",
    "docg.executions.periodic.PeriodicMiddleware",
]

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
if BROKER_URL:
    _scheme = BROKER_URL.split("://", 1)[0].lower()
    if _scheme not in _BROKERS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"BROKER_URL must start with redis://, rediss://, amqp:// or amqps:// (got {_scheme}://)."
        )
    DRAMATIQ_BROKER = {"BROKER": _BROKERS[_scheme], "OPTIONS": {"url": BROKER_URL}, "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE}
else:
    DRAMATIQ_BROKER = {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}, "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE}
DRAMATIQ_AUTODISCOVER_MODULES = ["actors"]


# --- Secrets at rest ----------------------------------------------------------
def _development_fernet_key(secret: str) -> str:
    # A stable key derived from SECRET_KEY so `make run` works with no setup;
    # production.py refuses to start without real FERNET_KEYS.
    return base64.urlsafe_b64encode(hashlib.sha256(f"docg-fernet:{secret}".encode()).digest()).decode()


FERNET_KEYS = env.list("FERNET_KEYS", default=[_development_fernet_key(SECRET_KEY)])

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        # Integrations: `Authorization: Api-Key <key>` (docg/orgs/api_keys.py).
        "docg.orgs.tenancy.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "docg.common.api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "docg.common.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "docg.common.api.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "docg.common.api.metadata.TolerantMetadata",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Per client address and per account on routes that take a password or create an account
# (docg.common.api.throttling); "<count>/<second|minute|hour|day>".
AUTH_THROTTLE_RATES = {
    "credentials_ip": env("AUTH_THROTTLE_IP_RATE", default="30/minute"),
    "credentials_account": env("AUTH_THROTTLE_ACCOUNT_RATE", default="10/minute"),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_REFRESH_SERIALIZER": "docg.orgs.api.serializers.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "docg API",
    "DESCRIPTION": "Business documents, end to end: workflows, runs, templates and connections.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.document_for_clients",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Execution engine -------------------------------------------------------------
# A running step's lease; the reaper re-enqueues steps whose lease passed (a dead worker).
STEP_LEASE_SECONDS = env.int("STEP_LEASE_SECONDS", default=60)
REAPER_INTERVAL_SECONDS = env.float("REAPER_INTERVAL_SECONDS", default=10)
# Each worker process beats every WORKER_HEARTBEAT_SECONDS; one silent for WORKER_HEARTBEAT_TIMEOUT_SECONDS
# whose liveness lock (docg.executions.heartbeat) is free too is dead, and its running steps are taken over
# without waiting for their leases.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=2)
WORKER_HEARTBEAT_TIMEOUT_SECONDS = env.float("WORKER_HEARTBEAT_TIMEOUT_SECONDS", default=6)
# A message whose send failed after commit is sent again from the outbox once this late.
OUTBOX_RESEND_AFTER_SECONDS = env.float("OUTBOX_RESEND_AFTER_SECONDS", default=2)
# How long a step keeps retrying, on fresh connections, to record a result through a database blip.
DB_RETRY_SECONDS = env.float("DB_RETRY_SECONDS", default=5)
# How long the API remembers a start's Idempotency-Key (and its answer).
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
STEP_RETRY_BASE_SECONDS = env.float("STEP_RETRY_BASE_SECONDS", default=2)
STEP_RETRY_MAX_SECONDS = env.float("STEP_RETRY_MAX_SECONDS", default=300)
MAX_TRIGGER_DATA_BYTES = env.int("MAX_TRIGGER_DATA_BYTES", default=256 * 1024)
# Start the Dramatiq worker threads inside the web process (embedded mode, `make run`).
DOCG_EMBEDDED_WORKER = env.bool("DOCG_EMBEDDED_WORKER", default=False)
SSRF_ALLOWED_HOSTS = env.list("SSRF_ALLOWED_HOSTS", default=[])
SSRF_ALLOWED_NETWORKS = env.list("SSRF_ALLOWED_NETWORKS", default=[])

# --- Live events (SSE / websockets) ------------------------------------------------
SSE_HEARTBEAT_SECONDS = env.float("SSE_HEARTBEAT_SECONDS", default=15)
SSE_RETRY_MS = env.int("SSE_RETRY_MS", default=3000)
STREAM_TOKEN_TTL_SECONDS = env.int("STREAM_TOKEN_TTL_SECONDS", default=300)

# --- Documents ------------------------------------------------------------------------
# Warm LibreOffice for PDF: slots per process, the binaries, and when to recycle a slot.
PDF_POOL_SIZE = env.int("PDF_POOL_SIZE", default=2)
LIBREOFFICE_SOFFICE = env("LIBREOFFICE_SOFFICE", default="soffice")
LIBREOFFICE_PYTHON = env("LIBREOFFICE_PYTHON", default="/usr/bin/python3")
PDF_STARTUP_TIMEOUT_SECONDS = env.float("PDF_STARTUP_TIMEOUT_SECONDS", default=30)
PDF_MAX_CONVERSIONS_PER_PROCESS = env.int("PDF_MAX_CONVERSIONS_PER_PROCESS", default=500)
# Unset: jemalloc for soffice when the system has it, profiles and documents in transit on /dev/shm
# when it is writable (docg/documents/pdf.py); "" turns either off.
LIBREOFFICE_PRELOAD = env("LIBREOFFICE_PRELOAD", default=None)
PDF_WORK_DIR = env("PDF_WORK_DIR", default=None)

# --- Connectors ------------------------------------------------------------------------
# Where each provider's API lives. Operators point these at a proxy or sandbox with
# DOCG_API_ROOT_<NAME> (e.g. DOCG_API_ROOT_HUBSPOT); the tests point them at loopback fakes.
_API_ROOT_DEFAULTS = {
    "hubspot": "https://api.hubapi.com",
    "google_oauth": "https://oauth2.googleapis.com",
    "google_docs": "https://docs.googleapis.com",
    "google_slides": "https://slides.googleapis.com",
    "google_drive": "https://www.googleapis.com",
    "google_forms": "https://forms.googleapis.com",
    "gmail": "https://gmail.googleapis.com",
    "microsoft_login": "https://login.microsoftonline.com",
    "microsoft_graph": "https://graph.microsoft.com",
    "clicksign": "https://app.clicksign.com",
    "stripe": "https://api.stripe.com",
}
CONNECTOR_API_ROOTS = {
    name: env(f"DOCG_API_ROOT_{name.upper()}", default=default).rstrip("/")
    for name, default in _API_ROOT_DEFAULTS.items()
}

from .billing import *  # noqa: E402, F403
from .oauth import *  # noqa: E402, F403

# --- Operating at volume (issue 15) -------------------------------------------------
# Bulk retry/cancel: runs per operation, runs per batch transaction, and the lease after
# which the sweep re-sends an operation whose worker died.
BULK_MAX_RUNS = env.int("BULK_MAX_RUNS", default=10_000)
BULK_BATCH_SIZE = env.int("BULK_BATCH_SIZE", default=50)
BULK_LEASE_SECONDS = env.float("BULK_LEASE_SECONDS", default=60)
# Outgoing event subscriptions: retry delays (the last repeats), how long to keep trying one
# event, after how many days of failures a subscription is disabled, and the dispatch interval.
SUBSCRIPTION_RETRY_SECONDS = env.list("SUBSCRIPTION_RETRY_SECONDS", cast=float, default=[10, 60, 300, 1800, 3600, 7200])
SUBSCRIPTION_RETRY_HOURS = env.float("SUBSCRIPTION_RETRY_HOURS", default=24)
SUBSCRIPTION_DISABLE_DAYS = env.float("SUBSCRIPTION_DISABLE_DAYS", default=3)
SUBSCRIPTION_TICK_SECONDS = env.float("SUBSCRIPTION_TICK_SECONDS", default=5)
# Retention defaults (an organization's policy overrides them; 0 keeps forever), how often the
# purge runs (claimed once per interval across workers) and how many runs one batch deletes.
RETENTION_RUN_DAYS = env.int("RETENTION_RUN_DAYS", default=0)
RETENTION_DOCUMENT_DAYS = env.int("RETENTION_DOCUMENT_DAYS", default=0)
RETENTION_INTERVAL_SECONDS = env.float("RETENTION_INTERVAL_SECONDS", default=3600)
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=500)
