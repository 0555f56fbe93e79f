"""Weft's settings: one module, configured from environment variables (see README.md, "Settings")."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core.metrics_directory import metrics_directory_prepare

BASE_DIR = Path(__file__).resolve().parent.parent
N = TypeVar("N", int, float)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def _env_number(name: str, default: N, parse: Callable[[str], N], kind: str) -> N:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {raw!r}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_decimal(name: str) -> Decimal | None:
    """An amount of money, or None when unset (no limit)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ImproperlyConfigured(f"{name} must be a decimal number, got {raw!r}") from exc
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name} must be a number >= 0, got {raw!r}")
    return value


def env_optional_int(name: str) -> int | None:
    return env_int(name, -1) if os.environ.get(name, "").strip() else None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# ---------------------------------------------------------------------------
# Core
# https://docs.djangoproject.com/en/5.2/ref/settings/
# ---------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)

_INSECURE_DEFAULT_SECRET = "django-insecure-weft-development-only"  # noqa: S105 -- refused below outside debug
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _INSECURE_DEFAULT_SECRET)
if SECRET_KEY == _INSECURE_DEFAULT_SECRET and not DEBUG:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=true for local development).")

# Fernet keys (comma-separated) that encrypt connection secrets at rest: the first encrypts, all decrypt,
# so a new key goes first and the old one stays until `manage.py rotate_encryption_keys` has run.
WEFT_ENCRYPTION_KEYS = env_list("WEFT_ENCRYPTION_KEYS", "")
if not WEFT_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "Set WEFT_ENCRYPTION_KEYS (a Fernet key; see README.md, Settings) or DJANGO_DEBUG=true for local "
        "development."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # django_dramatiq configures the broker; it must come before the apps that declare actors.
    "django_dramatiq",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "storages",
    "accounts",
    "connections",
    "workflows",
    "runs",
    "uploads",
    "triggers",
    "mcp_server",
    "evaluations",
]

MIDDLEWARE = [
    # Outermost, so that the time it measures is the whole answer's.
    "core.metrics.RequestMetricsMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before the body limit, so that its early 413 carries X-Frame-Options like every other answer.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "workflowsite.urls"
WSGI_APPLICATION = "workflowsite.wsgi.application"
ASGI_APPLICATION = "workflowsite.asgi.application"

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

# ---------------------------------------------------------------------------
# Database: SQLite in the project folder by default, PostgreSQL (psycopg 3) via DATABASE_URL.
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# ---------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A web process serves requests on many threads (WEB_THREADS, and the event loop's for the live streams), so
# persistent per-thread connections would grow with them until PostgreSQL refuses everyone: web processes
# borrow from a bounded psycopg pool instead (workflowsite/asgi.py turns it on; workers and schedulers keep
# one persistent connection per thread).
# https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
DATABASE_POOL = env_bool("DATABASE_POOL", False)
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 2)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
DATABASE_POOL_TIMEOUT_SECONDS = env_float("DATABASE_POOL_TIMEOUT_SECONDS", 10.0)
if not 1 <= DATABASE_POOL_MIN_SIZE <= DATABASE_POOL_MAX_SIZE:
    raise ImproperlyConfigured("DATABASE_POOL_MIN_SIZE must be at least 1 and at most DATABASE_POOL_MAX_SIZE")
if DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # CONN_HEALTH_CHECKS (on, from DATABASE_URL's parsing) makes the pool check a connection before lending
    # it: after a database restart a request gets a new connection, not a dead one.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DATABASE_POOL_MIN_SIZE,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT_SECONDS,
    }
# Requests for sync views (all but the live event stream) run on this many threads per web process
# (workflowsite/asgi.py says why); beyond it they wait their turn. A request holds a pooled connection only
# while it runs, so threads above DATABASE_POOL_MAX_SIZE serve cached reads while others wait for the pool.
WEB_THREADS = env_int("WEB_THREADS", 32)
if WEB_THREADS < 1:
    raise ImproperlyConfigured("WEB_THREADS must be at least 1")
# Read replicas: a GET's reads go to the first replica within the lag limit, unless its user wrote in the
# last DATABASE_REPLICA_STICKY_SECONDS (core/replicas.py says which reads).
# https://docs.djangoproject.com/en/5.2/topics/db/multi-db/
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", "")
DATABASE_REPLICA_STICKY_SECONDS = env_float("DATABASE_REPLICA_STICKY_SECONDS", 5.0)
DATABASE_REPLICA_MAX_LAG_SECONDS = env_float("DATABASE_REPLICA_MAX_LAG_SECONDS", 10.0)
for _number, _url in enumerate(DATABASE_REPLICA_URLS):
    _replica = dj_database_url.parse(_url)
    if {_replica["ENGINE"], DATABASES["default"]["ENGINE"]} != {"django.db.backends.postgresql"}:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS needs PostgreSQL, for the replicas and DATABASE_URL"
        )
    DATABASES[f"replica_{_number}"] = {
        **DATABASES["default"],
        **{key: _replica[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")},
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), **_replica.get("OPTIONS", {})},
        # Tests see the primary's data through every replica alias.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"] if DATABASE_REPLICA_URLS else []
if DATABASE_REPLICA_URLS:
    MIDDLEWARE.append("core.replicas.ReplicaReadsMiddleware")

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Runs are written by worker threads while the server reads; WAL and a busy timeout keep SQLite honest.
    # Each thread keeps its connection (DATABASE_CONN_MAX_AGE) as on PostgreSQL: opening one costs a few ms of
    # CPU (the schema is read again, functions registered), which every worker message paid twice.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------
# Cache: django-redis when REDIS_URL is set, process-local memory otherwise.
# https://docs.djangoproject.com/en/5.2/topics/cache/
# ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# A web process serves up to WEB_THREADS requests at once, each wanting a Redis connection: past
# REDIS_MAX_CONNECTIONS (per process) a request waits for one, up to REDIS_POOL_TIMEOUT_SECONDS, instead of
# failing (redis-py's default pool raises past 100).
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 100)
REDIS_POOL_TIMEOUT_SECONDS = env_float("REDIS_POOL_TIMEOUT_SECONDS", 10.0)
if REDIS_MAX_CONNECTIONS < 1:
    raise ImproperlyConfigured(f"REDIS_MAX_CONNECTIONS must be at least 1, got {REDIS_MAX_CONNECTIONS}")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "weft"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                "CONNECTION_POOL_CLASS": "redis.BlockingConnectionPool",
                "CONNECTION_POOL_KWARGS": {
                    "max_connections": REDIS_MAX_CONNECTIONS,
                    "timeout": REDIS_POOL_TIMEOUT_SECONDS,
                },
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "weft"}}
    # django-ratelimit warns that a process-local cache does not share counts; that is the point of the
    # embedded default, and production sets REDIS_URL.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# ---------------------------------------------------------------------------
# Background work: Dramatiq. DRAMATIQ_BROKER_URL (redis:// or amqp://) wins, then REDIS_URL; with neither,
# a stub broker served by an in-process worker so that `make run` executes runs on a fresh machine.
# https://dramatiq.io/ and https://github.com/Bogdanp/django_dramatiq
# ---------------------------------------------------------------------------
DRAMATIQ_BROKER_URL = env_str("DRAMATIQ_BROKER_URL") or REDIS_URL
# A worker silent this long is dead: the sweeper takes over its running runs (their heartbeat), and the Redis
# broker hands the messages it had fetched to live workers (its process heartbeat). See runs/README.md.
RUN_STALE_AFTER_SECONDS = env_float("RUN_STALE_AFTER_SECONDS", 45.0)
_DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
    # Re-enqueues runs whose worker died (see runs/README.md, "Crash safety").
    "runs.middleware.RunRecoveryMiddleware",
    # Sets OpenTelemetry up in each worker process and runs each message in its run's trace (core/tracing.py).
    "core.tracing.TraceContextMiddleware",
]
if DRAMATIQ_BROKER_URL.startswith(("amqp://", "amqps://")):
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
        "OPTIONS": {"url": DRAMATIQ_BROKER_URL},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
elif DRAMATIQ_BROKER_URL:
    DRAMATIQ_BROKER = {
        "BROKER": "runs.broker.PromptRedisBroker",
        "OPTIONS": {"url": DRAMATIQ_BROKER_URL, "heartbeat_timeout": int(RUN_STALE_AFTER_SECONDS * 1000)},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
else:
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.stub.StubBroker",
        "OPTIONS": {},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
# The in-process worker serves the stub broker inside the web process (make run); tests drive workers
# themselves and switch it off.
WEFT_INPROCESS_WORKER = env_bool("WEFT_INPROCESS_WORKER", not DRAMATIQ_BROKER_URL)
# Its threads: each runs one message (a run, an experiment's advance) at a time, so they bound how many runs
# execute at once, an experiment's `concurrency` included.
WEFT_INPROCESS_WORKER_THREADS = env_int("WEFT_INPROCESS_WORKER_THREADS", 8)
if WEFT_INPROCESS_WORKER_THREADS < 1:
    raise ImproperlyConfigured("WEFT_INPROCESS_WORKER_THREADS must be at least 1")

# ---------------------------------------------------------------------------
# Authentication: email-only accounts (django-allauth), DRF with sessions and personal API tokens.
# https://docs.allauth.org/en/latest/account/configuration.html
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Both find accounts only by User.email_key (see accounts/emails.py): ModelBackend through
# UserManager.get_by_natural_key, the allauth one through its lookup override.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "accounts.backends.EmailKeyAuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "none")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Failed password logins, counted together for every login form (allauth's, the admin's and the browsable
# API's all authenticate through the account adapter): per client address and per account.
ACCOUNT_RATE_LIMITS = {"login_failed": env_str("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/300s/key")}
# The client address of per-address limits. Behind N proxies that each append to X-Forwarded-For, set
# TRUSTED_PROXY_COUNT=N: the N-th entry from the right is the client (entries further left can be forged).
# Or name a header that the proxy sets to the client address and that clients cannot set themselves.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env_str("TRUSTED_CLIENT_IP_HEADER") or None
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

# Personal API tokens one user may hold at once.
API_TOKENS_MAX_PER_USER = env_int("API_TOKENS_MAX_PER_USER", 50)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Weft <weft@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "core.renderers.OrjsonRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON nested too deep, non-finite numbers and unpaired surrogates are a 400 (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Weft API",
    "DESCRIPTION": "Build, save, version and run AI workflows. Authenticate with a session or "
    "`Authorization: Bearer <token>` (create tokens at /api/tokens).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.document_common_errors",
    ],
    # Swagger UI from the sidecar package: no CDN, so /api/docs/ works offline and under the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several serializers expose `status`: one name per choice set keeps the schema and check --deploy clean.
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "runs.models.RunStatus",
        "NodeStatusEnum": "runs.models.NodeStatus",
        "HealthStatusEnum": ["ok", "error"],
        "ApprovalDecisionEnum": "runs.models.ApprovalDecision",
        "DecisionInputEnum": ["approve", "reject"],
    },
}

# ---------------------------------------------------------------------------
# Internationalization and time
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------
# Static files (WhiteNoise) and media (filesystem by default, S3 when AWS_STORAGE_BUCKET_NAME is set)
# https://whitenoise.readthedocs.io/ and https://django-storages.readthedocs.io/
# ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "us-east-1")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID") or None
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY") or None
AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE", "auto")
AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 300)
# Presigned URLs signed with SigV4 (boto3 would otherwise presign with the deprecated SigV2).
AWS_S3_SIGNATURE_VERSION = env_str("AWS_S3_SIGNATURE_VERSION", "s3v4")
AWS_DEFAULT_ACL = None
AWS_S3_FILE_OVERWRITE = False

_STATIC_BACKEND = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage"
        if AWS_STORAGE_BUCKET_NAME
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {"BACKEND": _STATIC_BACKEND},
}

# ---------------------------------------------------------------------------
# Security. Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# ---------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script anywhere: pages bootstrap with json_script and ES modules. Styles may be set inline because
# Swagger UI and the admin do so; that cannot run code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURE_REDIRECT_EXEMPT = [r"^api/health$"]
# Request bodies above this are refused with 413 before any view parses them.
WEFT_MAX_BODY_BYTES = env_int("WEFT_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEFT_MAX_BODY_BYTES
# JSON bodies nested deeper than this are refused with 400 before they are parsed; a graph needs about 10.
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 64)
if not 1 <= JSON_MAX_DEPTH <= 500:
    # Python's own JSON parser recurses once per level and stops near 1,000: past that it is a 500 again.
    raise ImproperlyConfigured(f"JSON_MAX_DEPTH must be between 1 and 500, got {JSON_MAX_DEPTH}")
# Image uploads (multipart) have their own, larger limit.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
# Decoded size limit (width x height) that refuses decompression bombs before Pillow allocates them.
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 40_000_000)
# Image nodes may name an http(s) URL; the fetcher refuses private, loopback, link-local and reserved
# addresses and ports other than these. Networks listed here are exempt (e.g. an intranet image host);
# the default is none.
UPLOAD_FETCH_ALLOWED_PORTS = [int(port) for port in env_list("UPLOAD_FETCH_ALLOWED_PORTS", "80,443")]
UPLOAD_FETCH_ALLOWED_NETWORKS = env_list("UPLOAD_FETCH_ALLOWED_NETWORKS", "")
# Connect and each read of an image URL; the whole fetch (redirects included) ends at the deadline, and a
# worker process fetches at most UPLOAD_FETCH_MAX_CONCURRENT URLs at once (see docs/security.md).
UPLOAD_FETCH_TIMEOUT_SECONDS = env_float("UPLOAD_FETCH_TIMEOUT_SECONDS", 10.0)
UPLOAD_FETCH_DEADLINE_SECONDS = env_float("UPLOAD_FETCH_DEADLINE_SECONDS", 30.0)
UPLOAD_FETCH_MAX_CONCURRENT = env_int("UPLOAD_FETCH_MAX_CONCURRENT", 8)
# HTTP Request nodes follow the same address rules on any port; networks listed here are exempt (e.g. an
# intranet API); the default is none. A node's own timeout bounds each request.
HTTP_ALLOWED_NETWORKS = env_list("HTTP_ALLOWED_NETWORKS", "")
# Stored images per user, and their total size; an upload past either is refused with 409.
UPLOAD_MAX_PER_USER = env_int("UPLOAD_MAX_PER_USER", 1000)
UPLOAD_MAX_TOTAL_BYTES_PER_USER = env_int("UPLOAD_MAX_TOTAL_BYTES_PER_USER", 1024 * 1024 * 1024)

# ---------------------------------------------------------------------------
# LLM providers (engine/providers) and connections (connections/): each key set here is a site connection
# every user can use, with the slug of its provider (gemini, groq, openai).
# ---------------------------------------------------------------------------
GEMINI_API_KEY = env_str("GEMINI_API_KEY") or None
GROQ_API_KEY = env_str("GROQ_API_KEY") or None
OPENAI_API_KEY = env_str("OPENAI_API_KEY") or None
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL") or None
GROQ_BASE_URL = env_str("GROQ_BASE_URL") or None
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL") or None
# A user's connection URL may not reach loopback, private or link-local addresses, except in these networks
# (e.g. 127.0.0.1/32 for an Ollama beside `make run`). Site connections (environment, admin) are trusted.
PROVIDER_ALLOWED_NETWORKS = env_list("PROVIDER_ALLOWED_NETWORKS", "")
# CIDRs a user's MCP connection may reach although loopback, private or link-local.
MCP_ALLOWED_NETWORKS = env_list("MCP_ALLOWED_NETWORKS", "")
LLM_TIMEOUT_SECONDS = env_float("LLM_TIMEOUT_SECONDS", 60.0)
LLM_MAX_ATTEMPTS = env_int("LLM_MAX_ATTEMPTS", 3)
# The model chain (<connection slug>/<model id>, tried in order) of LLM and Vision nodes that name none;
# entries whose connection a user does not have are left out. Groq's text models refuse images, hence two.
LLM_DEFAULT_MODELS = env_list("LLM_DEFAULT_MODELS", "gemini/gemini-2.5-flash,groq/llama-3.3-70b-versatile")
LLM_DEFAULT_VISION_MODELS = env_list(
    "LLM_DEFAULT_VISION_MODELS", "gemini/gemini-2.5-flash,groq/meta-llama/llama-4-scout-17b-16e-instruct"
)

# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
RUN_CONCURRENCY = env_int("RUN_CONCURRENCY", 8)
RUN_NODE_TIMEOUT_SECONDS = env_float("RUN_NODE_TIMEOUT_SECONDS", 120.0)
RUN_TIMEOUT_SECONDS = env_float("RUN_TIMEOUT_SECONDS", 900.0)
# A dead worker's runs and messages are picked up again within RUN_STALE_AFTER_SECONDS (set with the broker
# above) + RUN_SWEEP_INTERVAL_SECONDS (55 s).
RUN_MAX_RECOVERIES = env_int("RUN_MAX_RECOVERIES", 3)
# A running run writes heartbeat_at this often; each worker sweeps for stale runs this often.
RUN_HEARTBEAT_SECONDS = env_float("RUN_HEARTBEAT_SECONDS", 3.0)
RUN_SWEEP_INTERVAL_SECONDS = env_float("RUN_SWEEP_INTERVAL_SECONDS", 10.0)
# A queued run not picked up for this long has its message sent again (a duplicate is harmless).
RUN_QUEUED_RESEND_AFTER_SECONDS = env_float("RUN_QUEUED_RESEND_AFTER_SECONDS", 300.0)
# Fair admission (runs/admission.py): an owner's runs that may be queued with a message or running at once;
# the rest are held in the database and admitted oldest first as that owner's runs end, so that one owner's
# burst never queues ahead of another owner's run. The default is `make worker`'s 2 processes x 4 threads:
# a lone user still fills every worker thread.
RUN_MAX_RUNNING_PER_USER = env_int("RUN_MAX_RUNNING_PER_USER", 8)
RUN_MAX_ACTIVE_PER_USER = env_int("RUN_MAX_ACTIVE_PER_USER", 20)
# The longest an Approval node may wait for a decision (its own timeoutSeconds is capped to this).
APPROVAL_MAX_WAIT_SECONDS = env_float("APPROVAL_MAX_WAIT_SECONDS", 7 * 86400.0)
# Email a run's owner when an Approval node starts waiting, with a signed link to decide it (the link still
# needs a login). Links start with SITE_URL, the address people open Weft at.
APPROVAL_NOTIFY_EMAIL = env_bool("APPROVAL_NOTIFY_EMAIL", False)
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
RUN_MAX_LLM_CALLS = env_int("RUN_MAX_LLM_CALLS", 200)
RUN_MAX_LLM_TOKENS = env_int("RUN_MAX_LLM_TOKENS", 2_000_000)
# How deep Sub-workflow and Map nodes may nest (a workflow calling one that calls another...).
RUN_MAX_SUBWORKFLOW_DEPTH = env_int("RUN_MAX_SUBWORKFLOW_DEPTH", 5)
RUN_MAX_CHILD_RUNS = env_int("RUN_MAX_CHILD_RUNS", 1000)

# Evaluations: the most rows one dataset may hold (each row is a run per repeat of every experiment on it).
DATASET_MAX_ROWS = env_int("DATASET_MAX_ROWS", 10_000)
# Output limits (docs/security.md): one node's output and what a run's results store (outputs and inputs),
# as JSON bytes; a node over either fails with kind output_limit. Run details show at most this many
# characters of each node's inputs and output (the whole output: GET /api/runs/<id>/nodes/<node>/output).
RUN_MAX_NODE_OUTPUT_BYTES = env_int("RUN_MAX_NODE_OUTPUT_BYTES", 1024 * 1024)
RUN_MAX_OUTPUT_BYTES = env_int("RUN_MAX_OUTPUT_BYTES", 10 * 1024 * 1024)
RUN_DETAIL_MAX_OUTPUT_CHARS = env_int("RUN_DETAIL_MAX_OUTPUT_CHARS", 4_000)
# Per user per day (UTC), overridable per user in the admin (runs.UserBudget); unset means no limit.
RUN_DAILY_COST_BUDGET = env_decimal("RUN_DAILY_COST_BUDGET")
RUN_DAILY_TOKEN_BUDGET = env_optional_int("RUN_DAILY_TOKEN_BUDGET")
# USD per million input/output tokens per provider and model (JSON), read at start-up.
LLM_PRICES_FILE = env_str("LLM_PRICES_FILE", str(BASE_DIR / "engine" / "prices.json"))
# Live run events (GET /api/runs/{id}/events): Redis Streams with REDIS_URL, in process memory otherwise.
# Events kept per run for replay (an LLM answer is one event per streamed piece), how long a finished
# run's events stay, and how often an idle stream sends a heartbeat comment (and re-checks the run).
RUN_EVENTS_MAXLEN = env_int("RUN_EVENTS_MAXLEN", 10_000)
RUN_EVENTS_TTL_SECONDS = env_int("RUN_EVENTS_TTL_SECONDS", 300)
RUN_EVENTS_HEARTBEAT_SECONDS = env_float("RUN_EVENTS_HEARTBEAT_SECONDS", 15.0)
# Event streams one user may hold open at once, counted across web processes (a browser tab holds one per
# run it shows); past it a new stream is a 429.
RUN_EVENTS_MAX_STREAMS_PER_USER = env_int("RUN_EVENTS_MAX_STREAMS_PER_USER", 20)
if RUN_EVENTS_MAX_STREAMS_PER_USER < 1:
    raise ImproperlyConfigured(
        f"RUN_EVENTS_MAX_STREAMS_PER_USER must be at least 1, got {RUN_EVENTS_MAX_STREAMS_PER_USER}"
    )
EXECUTE_RATE_LIMIT = env_str("EXECUTE_RATE_LIMIT", "100/m")
# How long an MCP tools/call waits for its run; a run still going then is cancelled and the call fails.
MCP_CALL_TIMEOUT_SECONDS = env_float("MCP_CALL_TIMEOUT_SECONDS", 300.0)
# Calls of one webhook URL; each also counts against its owner's EXECUTE_RATE_LIMIT.
WEBHOOK_RATE_LIMIT = env_str("WEBHOOK_RATE_LIMIT", "30/m")
# Calls a user's connection tests and model lists make to providers.
CONNECTION_CALL_RATE_LIMIT = env_str("CONNECTION_CALL_RATE_LIMIT", "30/m")
# Webhook bodies above this size are refused with 413 before they are parsed.
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 256 * 1024)
# A signed webhook call's X-Weft-Timestamp may be this far from the server's clock, either way; within
# it, each signature is accepted once (seen signatures are kept in the cache that long).
WEBHOOK_TOLERANCE_SECONDS = env_int("WEBHOOK_TOLERANCE_SECONDS", 300)
if not 1 <= WEBHOOK_TOLERANCE_SECONDS <= 86_400:
    raise ImproperlyConfigured(
        f"WEBHOOK_TOLERANCE_SECONDS must be between 1 and 86400, got {WEBHOOK_TOLERANCE_SECONDS}"
    )
# How often `runscheduler` (and the in-process worker of `make run`) looks for due schedules.
SCHEDULER_TICK_SECONDS = env_float("SCHEDULER_TICK_SECONDS", 15.0)
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)

# ---------------------------------------------------------------------------
# Code nodes (engine/sandbox, docs/security.md): Deno from the `deno` package, Pyodide where `make install`
# puts it (beside the virtualenv's packages).
# ---------------------------------------------------------------------------
CODE_PYODIDE_DIR = env_str("CODE_PYODIDE_DIR", str(Path(sys.prefix) / "pyodide"))
CODE_POOL_SIZE = env_int("CODE_POOL_SIZE", 2)
CODE_MAX_TIMEOUT_SECONDS = env_float("CODE_MAX_TIMEOUT_SECONDS", 30.0)
CODE_MAX_MEMORY_MB = env_int("CODE_MAX_MEMORY_MB", 256)
CODE_MAX_PRINT_BYTES = env_int("CODE_MAX_PRINT_BYTES", 64 * 1024)

# Agent nodes (engine/kinds/agent.py): the limits of a node that sets none.
AGENT_MAX_ITERATIONS = env_int("AGENT_MAX_ITERATIONS", 10)
AGENT_MAX_TOOL_CALLS = env_int("AGENT_MAX_TOOL_CALLS", 20)
AGENT_TOOL_CONCURRENCY = env_int("AGENT_TOOL_CONCURRENCY", 4)
AGENT_MAX_TOKENS = env_optional_int("AGENT_MAX_TOKENS")

# Graph limits enforced by engine.validate_graph on every write and execution.
GRAPH_MAX_NODES = env_int("GRAPH_MAX_NODES", 500)
GRAPH_MAX_EDGES = env_int("GRAPH_MAX_EDGES", 2000)
GRAPH_MAX_TEXT_CHARS = env_int("GRAPH_MAX_TEXT_CHARS", 100_000)

# ---------------------------------------------------------------------------
# Logging: JSON lines with a request id outside debug, readable lines in debug.
# ---------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
        # Query-string values (a `?token=`) and webhook tokens are not written: see docs/security.md.
        "redact_urls": {"()": "core.logging.RedactUrlsFilter"},
        # Refused bad input (django.security.*: too many fields, a body too big) at WARNING, no traceback.
        "refused_input": {"()": "core.logging.RefusedInputAsWarningFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "readable": {"format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id", "redact_urls", "refused_input"],
            "formatter": "readable" if DEBUG else "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # On the loggers, not only the handler, so that every handler gets redacted records.
        "django.request": {"filters": ["redact_urls"]},
        "django.server": {"handlers": ["stdout"], "filters": ["redact_urls"], "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "pika": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # google-genai's HTTP client and the SDK itself log a line at INFO for every model call.
        "httpx2": {"level": "WARNING"},
        "google_genai": {"level": "WARNING"},
    },
}

# ---------------------------------------------------------------------------
# Metrics: GET /metrics (Prometheus text format) for `Authorization: Bearer $METRICS_TOKEN`; without the
# token the endpoint answers 404. Every process writes its samples under PROMETHEUS_MULTIPROC_DIR (default:
# a folder under the temp folder, cleaned at start); share it between the web and worker processes so
# that one scrape adds them up. See docs/operations.md.
# https://prometheus.github.io/client_python/multiprocess/
# ---------------------------------------------------------------------------
METRICS_TOKEN = env_str("METRICS_TOKEN")
PROMETHEUS_MULTIPROC_DIR = metrics_directory_prepare(env_str("PROMETHEUS_MULTIPROC_DIR"))

# ---------------------------------------------------------------------------
# Sentry: only when SENTRY_DSN is set, without personal data.
# ---------------------------------------------------------------------------
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.dramatiq import DramatiqIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), DramatiqIntegration()],
        send_default_pii=False,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )
