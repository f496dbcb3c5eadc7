"""Celery: Redis broker, tasks run in the tenant schema they were sent from."""

from __future__ import annotations

from celery.schedules import crontab

from hexitime.embedded import celery_broker_url

from .env import env_str

CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL", celery_broker_url(env_str("REDIS_URL", "redis://127.0.0.1:6379/0"))
)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/London"
# Beat sends each entry once per active network, inside that network's schema, unless the
# entry names `tenant_schemas` (see tenant_schemas_celery.scheduler); suspended networks
# are skipped (tenants.beat).
CELERY_BEAT_SCHEDULER = "tenants.beat.NetworkBeatScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Auto-confirm unanswered hours and send meeting reminders.
    "exchanges-due": {"task": "core.exchanges.tasks.exchanges_due", "schedule": 15 * 60},
    # Joins never verified within the link's seven days (core.members.services).
    "members-unverified-expire": {
        "task": "core.members.tasks.members_unverified_expire",
        "schedule": crontab(minute=30, hour=3),
    },
    "listings-digest": {
        "task": "core.listings.tasks.listings_digest",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
    },
}
