"""Settings of the hub, read from the environment with django-environ.

Every variable is documented in `.env.example`. `ICI_MODE` says which defaults
apply: `demo` and `test` may run without secrets (with public, insecure keys);
anything else (`production`, the default) refuses to start without them.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.str("ICI_MODE", default="") != "test":
    # A local .env (never committed) for the demo and production; the process
    # environment wins. The tests never read it.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

ICI_MODE = env.str("ICI_MODE", default="production")
if ICI_MODE not in {"demo", "test", "production"}:
    raise ImproperlyConfigured(f"ICI_MODE must be demo, test or production, not {ICI_MODE!r}")
ICI_RELAXED = ICI_MODE in {"demo", "test"}

# Public keys for the demo and the tests only: anything encrypted with them is
# readable by anyone who reads this file, so never store a real partner
# credential in a demo database.
_DEMO_SECRET_KEY = "demo-insecure-0f1c2b7e9a5d4c3b8e6f-not-for-production"
_DEMO_FIELD_KEY = "ZGVtby1pbnNlY3VyZS1maWVsZC1rZXktMzItYnl0ZXM="


def invoice_file_storage(env: environ.Env) -> dict:
    """STORAGES["invoicefiles"] from ICI_INVOICE_FILE_STORAGE and, for `s3`, ICI_S3_*."""
    backend = env.str("ICI_INVOICE_FILE_STORAGE", default="local")
    if backend == "local":
        # FileSystemStorage at ICI_INVOICE_FILE_DIR; files readable by their owner only.
        return {
            "BACKEND": "invoicefiles.services.storage.LocalInvoiceFileStorage",
            "OPTIONS": {"file_permissions_mode": 0o600},
        }
    if backend != "s3":
        raise ImproperlyConfigured(f"ICI_INVOICE_FILE_STORAGE must be local or s3, not {backend!r}")
    bucket = env.str("ICI_S3_BUCKET", default="")
    if not bucket:
        raise ImproperlyConfigured(
            "ICI_S3_BUCKET must be set when ICI_INVOICE_FILE_STORAGE=s3 (see .env.example)"
        )
    addressing_style = env.str("ICI_S3_ADDRESSING_STYLE", default="")
    if addressing_style not in ("", "auto", "path", "virtual"):
        raise ImproperlyConfigured(
            f"ICI_S3_ADDRESSING_STYLE must be empty, auto, path or virtual, "
            f"not {addressing_style!r}"
        )
    options = {
        "bucket_name": bucket,
        "endpoint_url": env.str("ICI_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("ICI_S3_REGION", default="") or "us-east-1",
        "location": env.str("ICI_S3_PREFIX", default="invoice-files/"),
        "addressing_style": addressing_style or None,
        # Private objects, never a public or unsigned URL; a name is never reused.
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        # A file read through the storage (a download) spools to disk past 8 MiB.
        "max_memory_size": 8 * 1024 * 1024,
    }
    # Unset: boto3's own chain (AWS_* variables, ~/.aws, an instance or task role).
    for option, name in (
        ("access_key", "ICI_S3_ACCESS_KEY_ID"),
        ("secret_key", "ICI_S3_SECRET_ACCESS_KEY"),
    ):
        if value := env.str(name, default=""):
            options[option] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def _required(name, demo_default):
    value = env.str(name, default="")
    if value:
        return value
    if ICI_RELAXED:
        return demo_default
    raise ImproperlyConfigured(f"{name} must be set when ICI_MODE={ICI_MODE} (see .env.example)")


SECRET_KEY = _required("DJANGO_SECRET_KEY", _DEMO_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=ICI_MODE == "demo")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", "testserver"] if ICI_RELAXED else [],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Field encryption (billers.fields.EncryptedTextField): Fernet keys, newest
# first. The first encrypts; all of them decrypt. Separate from SECRET_KEY.
ICI_FIELD_ENCRYPTION_KEYS = env.list("ICI_FIELD_ENCRYPTION_KEYS", default=[]) or (
    [_DEMO_FIELD_KEY] if ICI_RELAXED else []
)
if not ICI_FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        f"ICI_FIELD_ENCRYPTION_KEYS must be set when ICI_MODE={ICI_MODE} (see .env.example)"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # OpClass in index definitions (payments); inert on SQLite.
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "simple_history",
    "billers",
    "partners",
    "payments",
    "invoicefiles",
    "portal",
    "onboarding",
]

MIDDLEWARE = [
    # First: every response and log line carries the request id; under /api/ an
    # unexpected exception is answered 500 internal_error JSON.
    "icintegrations.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files, before anything that would touch a session or the database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cache-Control: no-store on /api/ answers (they hold names and addresses).
    "icintegrations.cache_control.ApiNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "icintegrations.urls"
WSGI_APPLICATION = "icintegrations.wsgi.application"

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
            ],
        },
    },
]

# Database: SQLite in var/ by default, DATABASE_URL for PostgreSQL.
VAR_DIR = Path(env.str("ICI_VAR_DIR", default="") or BASE_DIR / "var")
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url_config(DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the django-q2 worker write to the same file: WAL lets
    # readers run beside a writer, IMMEDIATE takes the write lock at BEGIN (so a
    # transaction never fails half-way on an upgrade), and the busy timeout
    # makes a writer wait for the lock instead of raising "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("ICI_SQLITE_BUSY_TIMEOUT", default=20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# Persistent connections: opening one per request costs more than most queries
# (PostgreSQL: ~450 against ~66 lookups/s; SQLite: the PRAGMAs and a WAL
# checkpoint on every close).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-q2: the ORM broker by default, Redis when ICI_REDIS_URL is set.
ICI_REDIS_URL = env.str("ICI_REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("ICI_Q_NAME", default="icintegrations"),
    "workers": env.int("ICI_Q_WORKERS", default=2),
    # The delivery row is the truth and the task only a trigger (see
    # ARCHITECTURE.md): a task must finish well inside `timeout`, and `retry`
    # must exceed `timeout` so that the ORM broker never runs a task twice.
    "timeout": 60,
    "retry": 180,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
}
if ICI_REDIS_URL:
    Q_CLUSTER["redis"] = ICI_REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Invoice files (invoicefiles): where uploads and their BIFs are kept, the largest
# upload taken, and how long one file's task may run (a million rows take about a
# minute; the claim on the file row keeps a redelivered task from running twice).
ICI_INVOICE_FILE_DIR = Path(
    env.str("ICI_INVOICE_FILE_DIR", default="") or VAR_DIR / "invoice-files"
)
# Where the uploads and their BIFs are kept: the `invoicefiles` storage of STORAGES
# below, chosen by ICI_INVOICE_FILE_STORAGE: `local` (ICI_INVOICE_FILE_DIR, for one
# box or a volume every machine mounts) or `s3` (an S3-compatible bucket, ICI_S3_*).
ICI_INVOICE_FILE_STORAGE = env.str("ICI_INVOICE_FILE_STORAGE", default="local")
ICI_INVOICE_FILE_MAX_BYTES = env.int("ICI_INVOICE_FILE_MAX_BYTES", default=512 * 1024 * 1024)
ICI_INVOICE_FILE_TASK_TIMEOUT = env.int("ICI_INVOICE_FILE_TASK_TIMEOUT", default=1800)
# The longest line of a file the reader takes, in bytes (a row's quoted line breaks
# included, in characters): a longer one refuses its row (the header's, the file),
# and is never held in memory.
ICI_INVOICE_FILE_MAX_LINE_BYTES = env.int("ICI_INVOICE_FILE_MAX_LINE_BYTES", default=1024 * 1024)
# The sweep (a django-q2 schedule, every ICI_INVOICE_FILE_SWEEP_MINUTES) enqueues
# again a file queued longer than ICI_INVOICE_FILE_REQUEUE_SECONDS after its task
# was handed to the broker (the task was lost), and a file processing for longer
# than ICI_INVOICE_FILE_TASK_TIMEOUT (its worker died).
ICI_INVOICE_FILE_SWEEP_MINUTES = env.int("ICI_INVOICE_FILE_SWEEP_MINUTES", default=5)
ICI_INVOICE_FILE_REQUEUE_SECONDS = env.int("ICI_INVOICE_FILE_REQUEUE_SECONDS", default=900)
# Days a finished file's stored upload and BIF are kept on disk (the sweep deletes
# them after that; the file's row, counts and refused rows stay); 0 keeps them.
ICI_INVOICE_FILE_KEEP_DAYS = env.int("ICI_INVOICE_FILE_KEEP_DAYS", default=90)

# Health and metrics (icintegrations.health): /healthz, /readyz and /metrics.
# /metrics answers only a request with `Authorization: Bearer <ICI_METRICS_TOKEN>`,
# and 404 while the token is empty (off). /readyz waits at most READYZ_TIMEOUT
# seconds for Redis. The probes answer over plain HTTP even with SSL redirects on.
ICI_METRICS_TOKEN = env.str("ICI_METRICS_TOKEN", default="")
ICI_READYZ_TIMEOUT = env.float("ICI_READYZ_TIMEOUT", default=2.0)

# Seconds the web processes keep API clients, billers and their settings in
# memory between reads (icintegrations.memo); 0 reads them on every request.
ICI_CONFIG_CACHE_SECONDS = env.float("ICI_CONFIG_CACHE_SECONDS", default=10.0)

# Partner calls: seconds to connect, and to wait for an answer once sent.
ICI_PARTNER_CONNECT_TIMEOUT = env.float("ICI_PARTNER_CONNECT_TIMEOUT", default=3.05)
ICI_PARTNER_READ_TIMEOUT = env.float("ICI_PARTNER_READ_TIMEOUT", default=10.0)
# Days the record of each real-time partner call (PartnerCall) is kept; a daily
# django-q2 schedule deletes older ones. 0 keeps them. Payment posts are not these.
ICI_PARTNER_CALL_KEEP_DAYS = env.int("ICI_PARTNER_CALL_KEEP_DAYS", default=90)

# The Data Pump (payments/services/delivery/). A post that did not reach the
# partner is retried after BACKOFF_BASE * 2**n seconds (with jitter, at most
# BACKOFF_CAP) up to MAX_ATTEMPTS posts, then dead-lettered. A post whose outcome
# is unknown is reconciled: the invoice is read back RECONCILE_DELAY seconds
# later (time for a slow partner to finish applying it), up to MAX_READS tries,
# then it waits for review. A worker holds a delivery for LEASE_SECONDS (longer
# than a read and a post can take); after that the sweep takes it back. A
# partner that failed BREAKER_THRESHOLD calls in a row is left alone for
# BREAKER_COOLDOWN seconds, doubling up to BREAKER_COOLDOWN_CAP. A partner read
# made by RTDR at most SNAPSHOT_MAX_AGE seconds before a post stands in for the
# read before the post.
ICI_PUMP_BACKOFF_BASE = env.float("ICI_PUMP_BACKOFF_BASE", default=2.0)
ICI_PUMP_BACKOFF_CAP = env.float("ICI_PUMP_BACKOFF_CAP", default=300.0)
ICI_PUMP_MAX_ATTEMPTS = env.int("ICI_PUMP_MAX_ATTEMPTS", default=8)
ICI_PUMP_RECONCILE_DELAY = env.float("ICI_PUMP_RECONCILE_DELAY", default=15.0)
ICI_PUMP_MAX_READS = env.int("ICI_PUMP_MAX_READS", default=6)
ICI_PUMP_LEASE_SECONDS = env.float("ICI_PUMP_LEASE_SECONDS", default=60.0)
ICI_PUMP_BREAKER_THRESHOLD = env.int("ICI_PUMP_BREAKER_THRESHOLD", default=5)
ICI_PUMP_BREAKER_COOLDOWN = env.float("ICI_PUMP_BREAKER_COOLDOWN", default=10.0)
ICI_PUMP_BREAKER_COOLDOWN_CAP = env.float("ICI_PUMP_BREAKER_COOLDOWN_CAP", default=120.0)
ICI_PUMP_SNAPSHOT_MAX_AGE = env.float("ICI_PUMP_SNAPSHOT_MAX_AGE", default=300.0)
# The sweep (a django-q2 schedule) re-enqueues deliveries that are due: retries,
# read-backs, and deliveries whose task was lost with its worker.
ICI_PUMP_SWEEP_MINUTES = env.int("ICI_PUMP_SWEEP_MINUTES", default=1)
# A delivery whose task was enqueued this long ago and has not run is taken to
# have lost it (more than Q_CLUSTER's timeout, so a running task is never doubled).
ICI_PUMP_REQUEUE_SECONDS = env.float("ICI_PUMP_REQUEUE_SECONDS", default=120.0)
# A biller whose credentials the partner refused (401/403) has its deliveries
# held; every AUTH_RETRY_MINUTES the sweep lets one through as a probe.
ICI_PUMP_AUTH_RETRY_MINUTES = env.float("ICI_PUMP_AUTH_RETRY_MINUTES", default=30.0)

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"

# Login protection (django-axes), on the admin's and the portal's log-in alike:
# after ICI_LOGIN_FAILURE_LIMIT failed log-ins for one username from one client
# address, that username is refused from that address (429, right password or
# not) for ICI_LOGIN_COOLOFF_MINUTES after the last failure. Other usernames from
# the address, and the username from elsewhere, still log in. The client address
# is proxy-aware (icintegrations.client_address, ICI_TRUSTED_PROXY_COUNT). Lockouts
# are logged and listed in the admin (Axes > Access attempts): deleting the row
# lifts one.
AUTHENTICATION_BACKENDS = [
    "icintegrations.login_protection.LoginProtectionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
ICI_LOGIN_FAILURE_LIMIT = env.int("ICI_LOGIN_FAILURE_LIMIT", default=10)
ICI_LOGIN_COOLOFF_MINUTES = env.float("ICI_LOGIN_COOLOFF_MINUTES", default=15.0)
AXES_FAILURE_LIMIT = ICI_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=ICI_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "icintegrations.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "icintegrations.login_protection.lockout_response"
AXES_RESET_ON_SUCCESS = True

# Portal sessions end when the browser closes, and after this many idle seconds.
SESSION_COOKIE_AGE = env.int("ICI_SESSION_SECONDS", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Static files: `manage.py collectstatic` copies them to STATIC_ROOT (ICI_VAR_DIR/static),
# compressed and with hashed names; whitenoise serves them from every web process,
# with far-future cache headers.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The tests run without collectstatic: plain storage, no manifest needed.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if ICI_MODE == "test"
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    "invoicefiles": invoice_file_storage(env),
}

if not ICI_RELAXED:
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)

# Behind a proxy (all off by default; README "Deploying" gives production values).
# The header a TLS-terminating proxy sets, as "HEADER,value"
# (e.g. HTTP_X_FORWARDED_PROTO,https): a request carrying it counts as HTTPS.
_proxy_ssl_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            "DJANGO_SECURE_PROXY_SSL_HEADER must be HEADER,value, e.g. HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header[0], _proxy_ssl_header[1])
# Strict-Transport-Security: seconds browsers must use HTTPS only (0: no header).
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Redirect plain HTTP to HTTPS, except the probes a load balancer sends over HTTP
# and the scrape of /metrics (README "Health and metrics").
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# How many proxies in front of the hub append to X-Forwarded-For: the client address
# that throttles and lockouts count by is that many entries from the right
# (icintegrations.client_address). 0: the header is ignored, REMOTE_ADDR is used.
ICI_TRUSTED_PROXY_COUNT = env.int("ICI_TRUSTED_PROXY_COUNT", default=0)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit and text-only strings (400, not 500).
    "DEFAULT_PARSER_CLASSES": ["icintegrations.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["icintegrations.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["icintegrations.authentication.IsApiClient"],
    "DEFAULT_THROTTLE_CLASSES": ["icintegrations.throttling.ClientWindowThrottle"],
    "DEFAULT_THROTTLE_RATES": {"rtdr": env.str("ICI_RTDR_THROTTLE", default="600/min")},
    "EXCEPTION_HANDLER": "icintegrations.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "icintegrations API",
    "DESCRIPTION": "Real-time invoice lookup (RTDR), bill presentment and, as they land, "
    "payments and invoice files. Every endpoint takes `Authorization: Bearer <token>` "
    "(`manage.py create_api_client`). Errors are `{code, message, extra}`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
}

# The throttle counters and other short-lived state: Redis when there is one
# (shared by every process), else per process.
if ICI_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": ICI_REDIS_URL,
        }
    }

# Logging: one line per record on stderr, each with the request id (the web
# request's, or in a worker the one the task was enqueued with). ICI_LOG_FORMAT
# is `text` (the default, for a person) or `json` (one JSON object per line, for
# a log collector; icintegrations.logformat).
ICI_LOG_FORMAT = env.str("ICI_LOG_FORMAT", default="text")
if ICI_LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"ICI_LOG_FORMAT must be text or json, not {ICI_LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "icintegrations.middleware.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        "json": {"()": "icintegrations.logformat.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": ICI_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("ICI_LOG_LEVEL", default="INFO")},
    # axes.apps says "BEGIN" at every start.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes.apps": {"level": "WARNING"}},
}
