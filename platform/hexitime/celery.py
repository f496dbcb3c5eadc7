"""The Celery app. Tasks run inside the tenant schema they were queued from.

tenant-schemas-celery stamps the current schema into every message's headers (retries,
chords and beat entries included) and switches the worker's connection to that schema
before the task runs.
"""

from __future__ import annotations

import os
import warnings

from celery.exceptions import SecurityWarning
from tenant_schemas_celery.app import CeleryApp

from hexitime.settings.env import settings_module_default

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module_default())

if os.environ.get("HEXITIME_UP"):
    # `hexitime up` on a developer's machine, often a container where everything runs as
    # root. Celery's warning about root is for workers that accept pickled messages, which
    # can run code; ours accept JSON only (CELERY_ACCEPT_CONTENT). Deployments, which run
    # as an unprivileged user (deploy/), keep the warning.
    warnings.filterwarnings("ignore", category=SecurityWarning)

app = CeleryApp("hexitime")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
