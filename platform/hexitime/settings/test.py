"""The test suite: real PostgreSQL and Redis (see `hexitime test`), fast password hashing."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Each test run gets its own media folder, so tests never see each other's uploads.
MEDIA_ROOT = str(HEXITIME_HOME / "test-media")  # noqa: F405
# ...and never a bucket named in the shell (tests/platform/test_storage.py brings its own).
STORAGES["default"] = {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"}  # noqa: F405
# Static files are served from the apps' folders, not a collectstatic output.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Nothing refills the spares: tests/conftest.py builds a pool once per session, which each
# test's rollback returns, and tests/tenants/test_provisioning.py fills spares itself.
HEXITIME_SPARE_SCHEMAS = 0
