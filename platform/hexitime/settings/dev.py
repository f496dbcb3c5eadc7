"""`hexitime up` on a developer's machine."""

from .base import *  # noqa: F403

DEBUG = True
# Static files are served from the apps' folders, not a collectstatic output.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
