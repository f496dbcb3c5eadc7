"""Self-service start: an organiser asks for a network on the public site
(`network_start`), a Celery task builds it with its first organiser (`provisioning_job_run`),
and stuck jobs are found and repaired (`provisioning_jobs_stuck`, `provisioning_job_repair`).

The task is queued by name (`tenants.tasks.network_provision`) after the job row commits,
so this module never imports tenants.tasks. Signing the organiser in afterwards is
tenants.services.handover."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.joining.services import join_settings_start
from core.members.models import Member, Role
from kernel.db import connection
from kernel.errors import ApplicationError
from ledger.services import gift_grant
from tenants.models import Network, ProvisioningJob

from .networks import network_create
from .schemas import schema_template_current
from .slugs import NetworkNameRefused, slug_suggest, slug_validate

logger = logging.getLogger(__name__)
_PROVISION_STEPS = 4


def network_start(
    *,
    slug: str,
    name: str,
    organisation_type: str,
    organiser_name: str,
    organiser_email: str,
    organiser_password: str,
) -> ProvisioningJob:
    """Queue a new network for an organiser (the public site's "start a network").

    Everything that can be checked now is checked now: the subdomain (reserved, malformed,
    taken, or being provisioned for someone else) and the password (the configured
    validators). The password is stored only as a hash. The provisioning task is queued
    after the job row commits.
    """
    slug_validate(slug)
    organiser_email = organiser_email.strip().lower()
    try:
        password_validation.validate_password(
            organiser_password, user=Member(email=organiser_email, full_name=organiser_name)
        )
    except ValidationError as invalid:
        raise ApplicationError(" ".join(invalid.messages), field="organiser_password") from None
    try:
        with transaction.atomic(durable=True):
            job = ProvisioningJob.objects.create(
                slug=slug,
                name=name,
                organisation_type=organisation_type,
                organiser_name=organiser_name,
                organiser_email=organiser_email,
                organiser_password=make_password(organiser_password),
                steps_total=_PROVISION_STEPS,
            )
            transaction.on_commit(lambda: _queue_provisioning(job.pk), robust=True)
    except IntegrityError:
        raise NetworkNameRefused(
            f"“{slug}” is being set up for someone else. How about “{slug_suggest(slug)}”?",
            field="slug",
            suggestion=slug_suggest(slug),
        ) from None
    return job


def _queue_provisioning(job_id: uuid.UUID) -> None:
    current_app.send_task("tenants.tasks.network_provision", kwargs={"job_id": str(job_id)})


def provisioning_job_run(*, job_id: uuid.UUID | str) -> ProvisioningJob:
    """Build the job's network and its first organiser; called by the provisioning task.

    Resumable from any point: the network, its domain, its schema, the organiser with the
    welcome gift and the job's "done" commit in one transaction, so a run killed anywhere
    leaves either all of them or none, and the next delivery starts again cleanly. A
    session advisory lock per job makes a second delivery wait for a live first run; a
    dead run's lock goes with its connection (that is how `provisioning_jobs_stuck` tells
    a dead run from a slow one). A finished or failed job is returned as it is. A refusal
    (the subdomain was taken meanwhile), an error, or too many interrupted runs fail the job
    with a message for the organiser.
    """
    job = ProvisioningJob.objects.get(pk=job_id)
    if job.status in _JOB_FINISHED:
        return job
    # Capturing a template (the first network at a new migration state) ends with
    # django-tenants closing the connection, which would let go of the run's session lock.
    schema_template_current()
    with _job_lock(job.pk):
        job.refresh_from_db()
        if job.status in _JOB_FINISHED:
            return job
        if job.attempts >= PROVISION_MAX_ATTEMPTS:
            _job_fail(job, PROVISION_INTERRUPTED)
            return job
        _job_update(job, status=ProvisioningJob.Status.RUNNING, attempts=job.attempts + 1)
        try:
            if job.network is not None:
                # Committed by a version that created the organiser in a later transaction.
                with transaction.atomic(durable=True):
                    _provisioning_finish(job.network, job)
            else:
                network_create(
                    slug=job.slug,
                    name=job.name,
                    organisation_type=job.organisation_type,
                    on_progress=lambda step: _job_update(
                        job, step=step.name, steps_done=min(step.done, 2)
                    ),
                    on_created=lambda network: _provisioning_finish(network, job),
                )
        except NetworkNameRefused as refused:
            job.refresh_from_db()
            _job_fail(job, refused.message)
            return job
        except Exception:
            logger.exception("Provisioning %s failed", job.slug)
            job.refresh_from_db()
            _job_fail(job, "Something went wrong while building your network. Please try again.")
            raise
    return job


_JOB_FINISHED = {ProvisioningJob.Status.DONE, ProvisioningJob.Status.FAILED}
_JOB_UNDER_WAY = [ProvisioningJob.Status.QUEUED, ProvisioningJob.Status.RUNNING]
PROVISION_MAX_ATTEMPTS = 3
PROVISION_INTERRUPTED = (
    "Setting up your network was interrupted several times, so we stopped trying. "
    "Nothing was created: please start again."
)
# A queued job's message may simply be waiting behind others; after settings.OUTBOX_GRACE
# seconds without news it is presumed lost (re-sending it is harmless: a second delivery
# finds the job done).
_PROVISIONING_LOCK_SPACE = 0x707276  # first key of the per-job run lock: "prv"


def _provisioning_finish(network: Network, job: ProvisioningJob) -> None:
    """The organiser, its gift and the job's outcome, in the caller's transaction (the one
    that makes the network exist): a network never becomes active without its organiser."""
    organiser = _organiser_create(network, job)
    _job_update(
        job,
        network=network,
        status=ProvisioningJob.Status.DONE,
        step="Ready",
        steps_done=_PROVISION_STEPS,
        organiser_id=organiser.pk,
        organiser_password="",
    )


def _job_fail(job: ProvisioningJob, message: str) -> None:
    _job_update(job, status=ProvisioningJob.Status.FAILED, error=message, organiser_password="")


@contextmanager
def _job_lock(job_id: uuid.UUID) -> Iterator[None]:
    """The per-job session lock a run holds from start to finish (see provisioning_job_run)."""
    key = [_PROVISIONING_LOCK_SPACE, str(job_id)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", key)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)


def _job_run_alive(job_id: uuid.UUID) -> bool:
    """Whether some live session holds the job's run lock (caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))",
            [_PROVISIONING_LOCK_SPACE, str(job_id)],
        )
        return not cursor.fetchone()[0]


def provisioning_jobs_stuck() -> list[ProvisioningJob]:
    """Jobs under way that nothing is working on: "running" with no live run holding the
    job's lock (the worker died), or "queued" for longer than settings.OUTBOX_GRACE with
    no run (the message was lost). Oldest first."""
    stuck = []
    queued_before = timezone.now() - timedelta(seconds=settings.OUTBOX_GRACE)
    for job in ProvisioningJob.objects.filter(status__in=_JOB_UNDER_WAY).order_by("created_at"):
        if job.status == ProvisioningJob.Status.QUEUED and job.updated_at > queued_before:
            continue
        with transaction.atomic():
            if not _job_run_alive(job.pk):
                stuck.append(job)
    return stuck


def provisioning_job_repair(*, job: ProvisioningJob, give_up: bool = False) -> ProvisioningJob:
    """Put a stuck job back on the queue, or fail it ("please start again") once it has
    been interrupted PROVISION_MAX_ATTEMPTS times or when `give_up`. Does nothing to a job
    that a live run holds or that finished meanwhile; safe to run while workers work."""
    with transaction.atomic(durable=True):
        if _job_run_alive(job.pk):  # the lock is ours until commit: no run can start
            return job
        job = ProvisioningJob.objects.select_for_update().get(pk=job.pk)
        if job.status in _JOB_FINISHED:
            return job
        if give_up or job.attempts >= PROVISION_MAX_ATTEMPTS:
            _job_fail(job, PROVISION_INTERRUPTED)
        else:
            _job_update(job, status=ProvisioningJob.Status.QUEUED, step="Waiting for a worker")
            transaction.on_commit(lambda: _queue_provisioning(job.pk))
    return job


def provisioning_jobs_repair() -> int:
    """Repair every stuck job (the beat task's work); returns how many were repaired."""
    stuck = provisioning_jobs_stuck()
    for job in stuck:
        provisioning_job_repair(job=job)
    return len(stuck)


def _job_update(job: ProvisioningJob, **fields: Any) -> None:
    """Save progress at once (autocommit outside a transaction), so the progress page sees
    every step; `updated_at` is the job's heartbeat."""
    for field, value in fields.items():
        setattr(job, field, value)
    job.save(update_fields=[*fields, "updated_at"])


def _organiser_create(network: Network, job: ProvisioningJob) -> Member:
    """The network's first member: its organiser, with the welcome gift (caller's
    transaction)."""
    with tenant_context(network):
        organiser = Member.objects.filter(email=job.organiser_email).first()
        if organiser is None:
            organiser = Member.objects.create(
                email=job.organiser_email,
                full_name=job.organiser_name,
                password=job.organiser_password,  # already hashed by network_start
                role=Role.ORGANISER,  # its permissions: core.members.backends
            )
        gift_grant(member=organiser)
        join_settings_start()
    return organiser
