"""The test suite: real PostgreSQL and Redis (see `hexitime test`), fast password hashing."""

import os

from hexitime.embedded import redis_url_db, redis_url_with_db

# In parallel (pytest-xdist), each worker "gwN" has a test database of its own (pytest-django
# adds the suffix) and a Redis database of its own, the one REDIS_URL names plus N: one
# worker's Celery worker never takes another's tasks, and a test's cache.clear() empties
# only its own worker's cache. Set before the base settings read it.
if (_worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    _redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["REDIS_URL"] = redis_url_with_db(_redis, redis_url_db(_redis) + int(_worker[2:]))

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Each test run gets its own media folder, so tests never see each other's uploads.
MEDIA_ROOT = str(HEXITIME_HOME / f"test-media{_worker}")  # noqa: F405
# ...and never a bucket named in the shell (tests/platform/test_storage.py brings its own).
STORAGES["default"] = {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"}  # noqa: F405
# Static files are served from the apps' folders, not a collectstatic output.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Nothing refills the spares: tests/conftest.py builds a pool once per session, which each
# test's rollback returns, and tests/tenants/test_provisioning.py fills spares itself.
HEXITIME_SPARE_SCHEMAS = 0
