"""The Celery app. Tasks run inside the tenant schema they were queued from.

tenant-schemas-celery stamps the current schema into every message's headers (retries,
chords and beat entries included) and switches the worker's connection to that schema
before the task runs.
"""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

from hexitime.settings.env import settings_module_default

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module_default())

app = CeleryApp("hexitime")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
