"""`hexitime up` on a developer's machine."""

from .base import *  # noqa: F403
from .env import data_dir, env_str

DEBUG = True
# Static files are served from the apps' folders, not a collectstatic output.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}

# Emails go to files in the development mailbox, one console line each (hexitime.devmail);
# /dev/mail/ lists them.
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "hexitime.devmail.DevelopmentEmailBackend")
DEV_MAILBOX = data_dir() / "mail"
# One plain line per email, whatever level the process logs at (Celery's worker runs at
# WARNING under `hexitime up`), on the real stderr (the worker redirects sys.stderr into
# its own log records).
LOGGING["handlers"]["mail"] = {  # noqa: F405
    "class": "logging.StreamHandler",
    "stream": "ext://sys.__stderr__",
    "formatter": "plain",
}
LOGGING["formatters"] = {"plain": {"format": "%(message)s"}}  # noqa: F405
LOGGING["loggers"]["hexitime.mail"] = {"handlers": ["mail"], "level": "INFO", "propagate": False}  # noqa: F405
