"""Celery: Redis broker, tasks run in the tenant schema they were sent from."""

from __future__ import annotations

from celery.schedules import crontab

from hexitime.embedded import celery_broker_url

from .env import env_int, env_str

CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL", celery_broker_url(env_str("REDIS_URL", "redis://127.0.0.1:6379/0"))
)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
# Nothing in the platform reads a task's result: none is stored unless a caller asks for it
# (`apply_async(ignore_result=False)`, as tests do), and what is stored expires in an hour.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A task whose worker process died (killed, out of memory) goes back on the queue rather
# than being acknowledged as failed; tasks are idempotent, so running it again is safe.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A message taken by a worker that vanished altogether comes back after this many seconds
# (Redis's default is an hour). It must exceed the longest task and countdown we use.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 15 * 60}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/London"
# Beat sends each entry once per active network, inside that network's schema, unless the
# entry names `tenant_schemas` (see tenant_schemas_celery.scheduler); suspended networks
# are skipped (tenants.beat).
CELERY_BEAT_SCHEDULER = "tenants.beat.NetworkBeatScheduler"
# Work queued after a commit whose message was lost (Redis was down, or every retry failed)
# is queued again by a sweep every OUTBOX_SWEEP seconds, once it is OUTBOX_GRACE seconds
# old: notification emails (up to NOTIFICATION_EMAIL_HORIZON old) and provisioning jobs.
OUTBOX_GRACE = env_int("HEXITIME_OUTBOX_GRACE_SECONDS", 5 * 60)
OUTBOX_SWEEP = env_int("HEXITIME_OUTBOX_SWEEP_SECONDS", 60)
NOTIFICATION_EMAIL_HORIZON = 3 * 24 * 3600
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "notifications-email-sweep": {
        "task": "core.notifications.tasks.notifications_email_sweep_task",
        "schedule": OUTBOX_SWEEP,
    },
    "members-verification-sweep": {
        "task": "core.members.tasks.members_verification_sweep",
        "schedule": OUTBOX_SWEEP,
    },
    "invitations-email-sweep": {
        "task": "core.members.tasks.invitations_email_sweep_task",
        "schedule": OUTBOX_SWEEP,
    },
    "listings-matches-sweep": {
        "task": "core.listings.tasks.listing_matches_sweep_task",
        "schedule": OUTBOX_SWEEP,
    },
    "announcements-email-sweep": {
        "task": "core.announcements.tasks.announcements_email_sweep_task",
        "schedule": OUTBOX_SWEEP,
    },
    # Scheduled announcements whose time has come.
    "announcements-due": {
        "task": "core.announcements.tasks.announcements_due_task",
        "schedule": 60,
    },
    # Auto-confirm unanswered hours and send meeting reminders.
    "exchanges-due": {"task": "core.exchanges.tasks.exchanges_due", "schedule": 15 * 60},
    # The same for group sessions: auto-confirm attendance, settle, remind.
    "groupsessions-due": {
        "task": "core.groupsessions.tasks.groupsessions_due",
        "schedule": 15 * 60,
    },
    # Provisioning jobs whose worker died or whose message was lost: re-queue or fail them.
    "provisioning-repair": {
        "task": "tenants.tasks.provisioning_jobs_repair_task",
        "schedule": OUTBOX_SWEEP,
        "tenant_schemas": ["public"],
    },
    # The month's equality figures (core/insights/selectors/equality.py: a month's reports
    # are one).
    "equality-snapshot": {
        "task": "core.insights.tasks.equality_snapshot",
        "schedule": crontab(minute=5, hour=0, day_of_month=1),
    },
    # The network map and metrics, recomputed nightly as well as when exchanges complete.
    "insights-nightly": {
        "task": "core.insights.tasks.network_insights_nightly",
        "schedule": crontab(minute=15, hour=2),
    },
    "listings-digest": {
        "task": "core.listings.tasks.listings_digest",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
    },
    # One email a day at most of the requests matching each member's skills (for those who
    # chose it), late afternoon so a day's requests are in it.
    "notifications-daily-summaries": {
        "task": "core.notifications.tasks.notifications_daily_summaries_task",
        "schedule": crontab(minute=30, hour=17),
    },
    # Retention: delete sign-ups never verified within the grace period (docs/privacy.md).
    "members-purge-unverified": {
        "task": "core.members.tasks.members_purge_unverified",
        "schedule": crontab(minute=30, hour=3),
    },
    # ... and invitations long expired (#12 item 12), on the same schedule.
    "invitations-purge-expired": {
        "task": "core.members.tasks.invitations_purge_expired",
        "schedule": crontab(minute=30, hour=3),
    },
}
