"""Django settings for Supportdesk, read from the environment.

Every setting that differs between a laptop and production comes from an
environment variable, listed in the README's configuration table. With none
set, the project runs on a SQLite file in ``var/`` with a local-memory cache.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import structlog
from django.core.exceptions import ImproperlyConfigured
from structlog.typing import Processor

from supportdesk import log_processors

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean. Use 1/0, true/false, yes/no or on/off."
    )


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing. Set it to a long random string, or set DEBUG=1 "
            "for local development."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Absolute base URL used in emails and webhooks, where no request is at hand.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "django_structlog",
    "django_tasks_db",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "agents",
    "cases",
    "refunds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "supportdesk.htmx.HtmxLoginRedirectMiddleware",
    "refunds.middleware.PolicyMisconfiguredMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
WSGI_APPLICATION = "supportdesk.wsgi.application"
ASGI_APPLICATION = "supportdesk.asgi.application"

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
                "supportdesk.context_processors.shop",
            ],
        },
    },
]

# Database: SQLite in var/ unless DATABASE_URL names another database.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers
    # queue behind busy_timeout instead of failing to upgrade a read lock.
    # WAL lets readers continue while one connection writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and sessions. With REDIS_URL, the cache lives in Redis and sessions use
# cached_db: Redis serves reads and the database keeps every session, so a
# Redis restart or outage logs nobody out.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "supportdesk"),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                # A Redis outage degrades to cache misses (logged below) rather
                # than to server errors. Sessions fall back to the database.
                "IGNORE_EXCEPTIONS": True,
                # After a failure, skip Redis for a while instead of waiting
                # for the socket timeout on every call.
                "CLIENT_CLASS": "supportdesk.cache_breaker.BreakerClient",
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "supportdesk.cache"
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# The shop's time zone: return windows end at midnight here, and dates on the
# pages are shown in it.
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Folder that collectstatic fills and whitenoise serves files from.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# Security headers. HTTPS settings are on unless DEBUG, and SECURE_SSL_REDIRECT
# can be turned off where a proxy in front already redirects.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "supportdesk.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"

# Email through Django's mailers: the console in development, SMTP otherwise.
EMAIL_BACKEND_PATH = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": {}}}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS"),
        "timeout": 10,
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@shop.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The email channel. Customers write to SUPPORT_EMAIL; replies, receipts and
# surveys go out from it. With plus addressing on, replies carry a Reply-To
# such as support+c-000123.<signature>@shop.example, so turn it on only when
# the mail server delivers "+" addresses to the support mailbox.
SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", DEFAULT_FROM_EMAIL)
SUPPORT_EMAIL_PLUS_ADDRESSING = env_bool("SUPPORT_EMAIL_PLUS_ADDRESSING")
# Secrets of the inbound mail endpoint: a bearer token, an HMAC key, or both.
# With neither set, the endpoint answers 404.
MAIL_INBOUND_TOKEN = os.environ.get("MAIL_INBOUND_TOKEN", "")
MAIL_INBOUND_HMAC_SECRET = os.environ.get("MAIL_INBOUND_HMAC_SECRET", "")
# Largest raw message accepted, and largest attachment stored, in bytes.
MAIL_MAX_MESSAGE_BYTES = int(os.environ.get("MAIL_MAX_MESSAGE_BYTES", "26214400"))
MAIL_MAX_ATTACHMENT_BYTES = int(os.environ.get("MAIL_MAX_ATTACHMENT_BYTES", "10485760"))

# Uploaded files such as email attachments. They are served only through
# views that check the agent's access, never from a public MEDIA_URL.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# Background tasks run through django.tasks with the database backend from
# django-tasks-db; `manage.py db_worker` executes them.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# The request.META key that contains the client's address, for the refund
# lookup's rate limit. Behind a reverse proxy REMOTE_ADDR is the proxy's own
# address, so every customer would share one limit: name the header that
# the proxy overwrites with the client's address, such as HTTP_X_REAL_IP.
RATELIMIT_IP_META_KEY = os.environ.get("RATELIMIT_IP_META_KEY", "REMOTE_ADDR")
# When the cache cannot count (Redis down), let the public forms work rather
# than reject every customer with "too many attempts". The cache logs the
# outage. Each ownership code still allows only five tries, counted in the
# database, but new codes can be requested without limit until Redis is back.
RATELIMIT_FAIL_OPEN = True

# Delivery of the refunds outbox (webhooks to the shop, emails to customers),
# all in seconds. A worker that dies during an attempt keeps its message
# leased for LEASE_SECONDS, after which the periodic sweep delivers it again.
REFUNDS_OUTBOX_LEASE_SECONDS = int(
    os.environ.get("REFUNDS_OUTBOX_LEASE_SECONDS", "120")
)
REFUNDS_OUTBOX_SWEEP_SECONDS = int(os.environ.get("REFUNDS_OUTBOX_SWEEP_SECONDS", "60"))
REFUNDS_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("REFUNDS_OUTBOX_MAX_ATTEMPTS", "10"))
REFUNDS_OUTBOX_BACKOFF_SECONDS = int(
    os.environ.get("REFUNDS_OUTBOX_BACKOFF_SECONDS", "30")
)
REFUNDS_OUTBOX_MAX_BACKOFF_SECONDS = 6 * 60 * 60
REFUNDS_WEBHOOK_TIMEOUT_SECONDS = int(
    os.environ.get("REFUNDS_WEBHOOK_TIMEOUT_SECONDS", "10")
)
# Oldest signature time stamp the confirmation endpoint accepts, against
# replayed requests.
REFUNDS_WEBHOOK_TOLERANCE_SECONDS = 5 * 60

# Shop details shown to customers.
SHOP_NAME = os.environ.get("SHOP_NAME", "Demo Shop")
# Currency of orders whose export has no Currency column.
SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "USD").upper()

# The JSON API under /api/v1/: JWT bearer tokens, problem details for errors,
# JSON numbers read as Decimal. See docs/api.md.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["supportdesk.api.permissions.HasRole"],
    "DEFAULT_PARSER_CLASSES": ["supportdesk.api.parsers.DecimalJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "supportdesk.api.throttles.UserThrottle",
        "supportdesk.api.throttles.IPThrottle",
    ],
    "EXCEPTION_HANDLER": "supportdesk.api.problems.exception_handler",
    # Proxies in front that append to X-Forwarded-For; 0 trusts REMOTE_ADDR.
    "NUM_PROXIES": int(os.environ.get("API_NUM_PROXIES", "0")),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per period ("s", "m", "h" or "d") for each throttle scope: per
# user, per client address, and per address on the token endpoints.
API_THROTTLE_RATES = {
    "user": os.environ.get("API_RATE_USER", "600/m"),
    "ip": os.environ.get("API_RATE_IP", "1200/m"),
    "token": os.environ.get("API_RATE_TOKEN", "20/m"),
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=int(os.environ.get("API_ACCESS_TOKEN_MINUTES", "5"))
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        hours=int(os.environ.get("API_REFRESH_TOKEN_HOURS", "24"))
    ),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a hash of the password hash, so a password change revokes
    # every token issued before it.
    "CHECK_REVOKE_TOKEN": True,
    "USER_AUTHENTICATION_RULE": "supportdesk.api.auth.user_may_use_api",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Supportdesk API",
    "DESCRIPTION": "Orders, support cases and refund requests, with the same "
    "rules as the agent pages. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.SupportCase.Status",
        "RefundStatusEnum": "refunds.models.RefundRequest.Status",
        "RefundReasonEnum": "refunds.models.RefundRequest.Reason",
        "RefundOutcomeEnum": "refunds.models.RefundRequest.Outcome",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "supportdesk.api.schema.add_problem_responses",
    ],
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Logging: JSON lines in production, readable key=value lines with DEBUG.
# Module loggers use the standard library; structlog renders their records and
# adds the request id, user id and client IP bound by django-structlog.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "console" if DEBUG else "json")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
_shared_processors: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# Records from the standard library (Django, gunicorn, our modules) get their
# ``extra`` fields, then status link tokens are redacted from every field.
_foreign_pre_chain: list[Processor] = [
    *_shared_processors,
    structlog.stdlib.ExtraAdder(),
    log_processors.gunicorn_access_fields,
    log_processors.redact_status_tokens,
]
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer()
                if LOG_FORMAT == "json"
                else structlog.dev.ConsoleRenderer(colors=False),
            ],
            "foreign_pre_chain": _foreign_pre_chain,
            "pass_foreign_args": True,
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django_structlog": {"level": os.environ.get("REQUEST_LOG_LEVEL", "INFO")},
    },
}
structlog.configure(
    processors=[
        *_shared_processors,
        log_processors.redact_status_tokens,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)
