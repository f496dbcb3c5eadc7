"""Creating networks: the schema is built from a template captured once per migration state.

Replaying every migration for each new network costs time that grows with the number of
migrations. Instead, the first provisioning at a given migration state migrates a scratch
schema while recording every statement the migration run executes (DDL, RunSQL, RunPython's
writes, the post_migrate content types and permissions, the django_migrations rows). The
statements are unqualified, so replaying them with `search_path` pointing at a new schema
rebuilds the same schema; they are kept and sent one statement per execute (Citus forwards
DDL to its workers as the raw string and refuses several at once), pipelined, so the
replay still costs about one round trip. The state key hashes every tenant migration
file, so a new or edited migration produces a new template automatically.

The fastest route needs no building at all while a new network waits: a few spare schemas
are built from the current template ahead of time (`schema_spares_fill`, run by a Celery
task after each network is created) and `network_create` renames one into place. Functions
whose `search_path` was pinned with `SET search_path FROM CURRENT` are re-pinned to the new
name in the same transaction. Without a spare (a burst of sign-ups, or the first
network after a migration) it falls back to replaying the template.

tests/tenants/test_provisioning.py proves that a schema built this way has the same
tables, columns, constraints, indexes, triggers and functions as one built by migrating.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
import logging
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core import serializers, signing
from django.core.exceptions import ValidationError
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import IntegrityError, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from psycopg import ClientCursor, sql

from core.audit.services import audit_record
from core.members.models import Member, Role
from core.members.services import join_settings_start
from kernel.csvfile import CsvWriter
from kernel.db import connection
from kernel.errors import ApplicationError, PermissionDenied
from kernel.storage import network_media_delete
from ledger.federation.selectors import federation_transfers_of
from ledger.services import gift_grant

from .models import (
    SLUG_VALIDATOR,
    Domain,
    Network,
    NetworkExport,
    ProvisioningJob,
    SchemaTemplate,
    SpareSchema,
    schema_name_for,
)

logger = logging.getLogger(__name__)

RESERVED_SLUGS = frozenset(
    {
        "www",
        "api",
        "admin",
        "static",
        "media",
        "public",
        "mail",
        "smtp",
        "app",
        "staff",
        "status",
        "help",
        "support",
        "docs",
        "billing",
        "hexitime",
        "template",
    }
)
_SKIPPED_STATEMENT = re.compile(
    r"^\s*(SELECT|SHOW|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET\s+search_path)\b", re.I
)
_TEMPLATE_BUILD_LOCK = 0x6E6574_74706C  # pg_advisory_lock key: "net tpl"
_SPARE_FILL_LOCK = 0x6E6574_737072  # "net spr"
_SCHEMA_LOCK_SPACE = 0x6D6967  # first key of the two-key per-schema migration lock: "mig"


class NetworkNameRefused(ApplicationError):
    pass


@dataclass(frozen=True)
class ProvisionStep:
    """Progress reported to a caller (the provisioning task shows these to the organiser)."""

    name: str
    done: int
    total: int


ProgressCallback = Callable[[ProvisionStep], None]


HANDOVER_SALT = "tenants.handover"
HANDOVER_MAX_AGE = 15 * 60  # seconds the progress page's sign-in link stays valid
_PROVISION_STEPS = 4


def network_domain(slug: str) -> str:
    return f"{slug}.{settings.HEXITIME_BASE_DOMAIN}"


def slug_validate(slug: str) -> None:
    """Refuse a subdomain an organiser cannot have, saying why and what to try instead."""
    if slug in RESERVED_SLUGS:
        raise NetworkNameRefused(f"“{slug}” is reserved. Please choose another.", field="slug")
    try:
        SLUG_VALIDATOR(slug)
    except Exception:
        raise NetworkNameRefused(str(SLUG_VALIDATOR.message), field="slug") from None
    if Network.objects.filter(slug=slug).exists():
        raise NetworkNameRefused(
            f"“{slug}” is taken. How about “{slug_suggest(slug)}”?",
            field="slug",
            suggestion=slug_suggest(slug),
        )


def slug_suggest(slug: str) -> str:
    taken = set(Network.objects.filter(slug__startswith=slug).values_list("slug", flat=True))
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"[:40]


def platform_bootstrap() -> Network:
    """Ensure the public network row and the base-domain route exist (idempotent)."""
    public, _ = Network.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"slug": "public", "name": "Hexitime"},
    )
    Domain.objects.get_or_create(
        domain=settings.HEXITIME_BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
    )
    return public


def network_create(
    *,
    slug: str,
    name: str,
    organisation_type: str = Network.OrganisationType.OTHER,
    on_progress: ProgressCallback | None = None,
    on_created: Callable[[Network], None] | None = None,
) -> Network:
    """Create a network, its schema and its domain `<slug>.<base domain>`.

    The network row, domain and schema are created in one transaction: a failure leaves
    none of them behind. `on_created` runs inside that transaction, so what it records
    about the new network commits with it or not at all. Organiser accounts, ledger
    accounts and theming are added by their own services once the schema exists.
    """
    report = on_progress or (lambda step: None)
    slug_validate(slug)
    report(ProvisionStep("Preparing the network template", 1, 3))
    template = schema_template_current()
    report(ProvisionStep("Building the network's database", 2, 3))
    try:
        with transaction.atomic(durable=True):
            network = Network.objects.create(
                slug=slug,
                name=name,
                organisation_type=organisation_type,
                schema_name=schema_name_for(slug),
                # A spare and a replay are both built from this template.
                migration_state=template.state,
            )
            Domain.objects.create(domain=network_domain(slug), tenant=network, is_primary=True)
            if not _schema_spare_claim(network.schema_name, template.state):
                schema_build(network.schema_name, template)
            if settings.HEXITIME_SPARE_SCHEMAS:
                transaction.on_commit(_schema_spares_refill, robust=True)
            if on_created is not None:
                on_created(network)
    except IntegrityError:
        raise NetworkNameRefused(
            f"“{slug}” was taken a moment ago. How about “{slug_suggest(slug)}”?", field="slug"
        ) from None
    report(ProvisionStep("Ready", 3, 3))
    return network


def network_suspend(*, network: Network, actor: Member | None, reason: str) -> Network:
    """Suspend a network: its pages answer with a "suspended" page and its API refuses,
    while every row of its data stays as it is. Platform staff only (or an operator's
    command, `actor` None). Recorded in the public schema's audit log."""
    return _network_status_set(network, Network.Status.SUSPENDED, actor=actor, reason=reason)


def network_resume(*, network: Network, actor: Member | None, reason: str = "") -> Network:
    """Lift a suspension: the network serves pages and API again, exactly as before."""
    return _network_status_set(network, Network.Status.ACTIVE, actor=actor, reason=reason)


def _network_status_set(
    network: Network, status: str, *, actor: Member | None, reason: str
) -> Network:
    if network.schema_name == get_public_schema_name():
        raise ApplicationError("The public site cannot be suspended.")
    if actor is not None and not actor.is_staff:
        raise PermissionDenied("Only platform staff can suspend or resume a network.")
    with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
        locked = Network.objects.select_for_update().get(pk=network.pk)
        if locked.status == status:
            return locked
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            verb="network.suspend" if status == Network.Status.SUSPENDED else "network.resume",
            target=locked,
            before={"status": before},
            after={"status": status},
            reason=reason,
        )
    return locked


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


def _queue_provisioning(job_id: Any) -> None:
    from .tasks import network_provision

    network_provision.delay(job_id=str(job_id))


def provisioning_job_run(*, job_id: Any) -> ProvisioningJob:
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


def handover_token(job: ProvisioningJob) -> str:
    """A signed, short-lived token that signs the organiser into their new network once."""
    if job.status != ProvisioningJob.Status.DONE or job.network is None:
        raise ApplicationError("The network is not ready yet.")
    return signing.dumps(
        {"job": str(job.pk), "schema": job.network.schema_name, "member": job.organiser_id},
        salt=HANDOVER_SALT,
    )


def _handover_claim(token: str, network: Network) -> dict[str, Any]:
    """What a genuine, fresh hand-over token for `network` says; PermissionDenied otherwise."""
    try:
        claim = signing.loads(token, salt=HANDOVER_SALT, max_age=HANDOVER_MAX_AGE)
    except signing.SignatureExpired:
        raise PermissionDenied("This sign-in link has expired. Please sign in.") from None
    except signing.BadSignature:
        raise PermissionDenied("This sign-in link is not valid.") from None
    if claim.get("schema") != network.schema_name:
        raise PermissionDenied("This sign-in link is for another network.")
    return claim


def _handover_organiser(claim: dict[str, Any]) -> Member:
    organiser = Member.objects.filter(pk=claim["member"], is_active=True).first()
    if organiser is None:
        raise PermissionDenied("This sign-in link is not valid.")
    return organiser


def handover_check(*, token: str, network: Network) -> Member:
    """The organiser a hand-over token would sign in, refusing (PermissionDenied) exactly
    what `handover_consume` refuses, but using nothing up: what a GET of the link (or a
    link-preview bot fetching it) may do. Call it with `network` as the current tenant."""
    claim = _handover_claim(token, network)
    unused = ProvisioningJob.objects.filter(
        pk=claim["job"], network=network, handed_over_at__isnull=True
    ).exists()
    if not unused:
        raise PermissionDenied("This sign-in link has already been used. Please sign in.")
    return _handover_organiser(claim)


def handover_consume(*, token: str, network: Network) -> Member:
    """The organiser a hand-over token names, if it is genuine, fresh, unused and for
    `network`; marks it used. Refuses (PermissionDenied) anything else, using nothing up.
    Call it with `network` as the current tenant."""
    claim = _handover_claim(token, network)
    with transaction.atomic(durable=True):
        used = ProvisioningJob.objects.filter(
            pk=claim["job"], network=network, handed_over_at__isnull=True
        ).update(handed_over_at=timezone.now())
        if not used:
            raise PermissionDenied("This sign-in link has already been used. Please sign in.")
        organiser = _handover_organiser(claim)
    return organiser


def schema_build(schema_name: str, template: SchemaTemplate) -> None:
    """Create `schema_name` from the template's statements (caller's transaction).

    One statement per execute: Citus forwards DDL to its workers as the raw string and
    refuses a string of several. They are sent in psycopg's pipeline mode, without waiting
    for each answer, so the build still costs about one round trip."""
    opening = [
        sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)),
        sql.SQL("SET LOCAL search_path = {}, public").format(sql.Identifier(schema_name)),
    ]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.connection.pipeline():
            for statement in [
                *(s.as_string(raw.connection) for s in opening),
                *template.statements,
            ]:
                cursor.execute(statement)
    # The build changed search_path behind django-tenants' back: make it set it again.
    connection.search_path_set_schemas = None


def schema_migrate(*, schema_name: str) -> None:
    """Apply a network schema's pending migrations, all or none of them, and record the
    migration state on its network (`Network.migration_state`).

    Every migration, its django_migrations row, the post-migrate content types and
    permissions and the recorded state commit in one transaction, so a failure or a killed
    process leaves the schema as it was, and not marked as migrated. A per-schema advisory
    lock makes a second concurrent run wait rather than migrate the same schema twice.
    Migrations marked `atomic = False` run inside the transaction too: they must not use
    statements such as CREATE INDEX CONCURRENTLY that PostgreSQL refuses inside one.
    """
    try:
        with transaction.atomic(durable=True):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    [_SCHEMA_LOCK_SPACE, schema_name],
                )
            run_migrations(
                args=[],
                options={**_migrate_options(), "skip_checks": True},
                executor_codename="tenants_migrate",
                schema_name=schema_name,
                allow_atomic=True,
            )
            connection.set_schema_to_public()
            Network.objects.filter(schema_name=schema_name).update(
                migration_state=_migration_state()
            )
    finally:
        connection.set_schema_to_public()


def _schema_spare_claim(schema_name: str, state: str) -> bool:
    """Rename a spare schema built at `state` to `schema_name` (caller's transaction).

    SKIP LOCKED lets concurrent provisioning take different spares; a rollback returns the
    spare to the pool untouched."""
    spare = (
        SpareSchema.objects.select_for_update(skip_locked=True)
        .filter(state=state)
        .order_by("pk")
        .first()
    )
    if spare is None:
        return False
    # Two statements, each on its own (Citus forwards DDL to the workers as the raw string).
    rename = sql.SQL("ALTER SCHEMA {spare} RENAME TO {schema}").format(
        spare=sql.Identifier(spare.name), schema=sql.Identifier(schema_name)
    )
    repin = sql.SQL(
        """DO $$ DECLARE f record; BEGIN
          FOR f IN SELECT p.oid::regprocedure AS sig, substr(c, 13) AS path
                   FROM pg_proc p, unnest(p.proconfig) AS c
                   WHERE p.pronamespace = {schema_literal}::regnamespace
                     AND c LIKE 'search_path=%' LOOP
            EXECUTE format('ALTER FUNCTION %s SET search_path = %s', f.sig,
                           replace(f.path, {spare_literal}, {schema_literal}));
          END LOOP;
        END $$"""
    ).format(spare_literal=sql.Literal(spare.name), schema_literal=sql.Literal(schema_name))
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for statement in (rename, repin):
            cursor.execute(statement.as_string(raw.connection))
    spare.delete()
    return True


def schema_spares_fill(*, count: int | None = None) -> int:
    """Build spare schemas from the current template until `count` are waiting; drop spares
    built for an older migration state. Returns how many were built. Safe to run
    concurrently (an advisory lock serialises fillers)."""
    count = settings.HEXITIME_SPARE_SCHEMAS if count is None else count
    template = schema_template_current()
    built = 0
    with _advisory_lock(_SPARE_FILL_LOCK):
        for stale in SpareSchema.objects.exclude(state=template.state):
            with transaction.atomic(durable=True), connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(stale.name))
                )
                stale.delete()
        while SpareSchema.objects.filter(state=template.state).count() < count:
            name = f"_spare_{template.state[:12]}_{uuid.uuid4().hex[:12]}"
            with transaction.atomic(durable=True):
                schema_build(name, template)
                SpareSchema.objects.create(name=name, state=template.state)
            connection.set_schema_to_public()
            built += 1
    return built


def _schema_spares_refill() -> None:
    from .tasks import schema_spares_fill_task

    schema_spares_fill_task.delay()


def tenant_migration_state() -> str:
    """A hash of what builds a network schema: every migration (file contents included),
    and every installed model with its permissions, because the post-migrate step writes a
    content type and permissions for each model, shared apps' included. Shared apps'
    migrations count too: a network schema records them in its django_migrations (their
    operations do nothing there), so a schema at this state has nothing left to apply."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    digest = hashlib.sha256()
    for app_label, name in sorted(loader.graph.nodes):
        migration = loader.graph.nodes[(app_label, name)]
        source = inspect.getsource(inspect.getmodule(migration))  # type: ignore[arg-type]
        digest.update(f"{app_label}.{name}\0".encode())
        digest.update(hashlib.sha256(source.encode()).digest())
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        opts = model._meta
        permissions = sorted([*opts.default_permissions, *(c for c, _ in opts.permissions)])
        digest.update(f"{opts.label}:{','.join(permissions)}\0".encode())
    return digest.hexdigest()


def schema_template_current() -> SchemaTemplate:
    """The template for the current migration state, captured now if it does not exist.

    Kept in memory once seen: migration files do not change under a running process.
    """
    state = _migration_state()
    template = _templates.get(state)
    if template is None:
        template = SchemaTemplate.objects.filter(state=state).first()
    if template is None:
        with _advisory_lock(_TEMPLATE_BUILD_LOCK):
            template = SchemaTemplate.objects.filter(state=state).first()
            if template is None:
                template = _schema_template_capture(state)
    _templates[state] = template
    return template


_templates: dict[str, SchemaTemplate] = {}


@functools.cache
def _migration_state() -> str:
    return tenant_migration_state()


def _schema_template_capture(state: str) -> SchemaTemplate:
    scratch = f"_template_{state[:12]}"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(scratch)))
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
    statements: list[str] = []
    try:
        with connection.execute_wrapper(_StatementRecorder(statements)):
            run_migrations(
                args=[],
                options=_migrate_options(),
                executor_codename="template",
                schema_name=scratch,
            )
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(scratch))
            )
    template, _ = SchemaTemplate.objects.get_or_create(
        state=state,
        defaults={"statements": statements, "statement_count": len(statements)},
    )
    logger.info(
        "Captured network schema template %s: %d statements in %.2fs",
        state[:12],
        len(statements),
        time.perf_counter() - started,
    )
    return template


def _migrate_options() -> dict[str, Any]:
    """The `migrate` command's defaults, quiet and non-interactive."""
    options = vars(MigrateCommand().create_parser("hexitime", "migrate").parse_args([]))
    return {**options, "verbosity": 0, "interactive": False, "database": "default"}


class _StatementRecorder:
    """An execute wrapper that keeps each state-changing statement with its values inlined."""

    def __init__(self, into: list[str]) -> None:
        self.statements = into

    def __call__(
        self, execute: Callable[..., Any], sql_text: str, params: Any, many: bool, context: dict
    ) -> Any:
        result = execute(sql_text, params, many, context)
        if not _SKIPPED_STATEMENT.match(sql_text):
            raw_connection = context["connection"].connection
            for one in params if many else [params]:
                self.statements.append(
                    ClientCursor(raw_connection).mogrify(sql_text, one).rstrip().rstrip(";")
                )
        return result


@contextmanager
def _advisory_lock(key: int) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


# --- Platform staff: export and delete (suspend/resume above) -----------------------------

EXPORT_VALID_FOR = timedelta(hours=24)
_EXPORT_SKIPPED_MODELS = {
    "contenttypes.contenttype",
    "sessions.session",
    "auth.permission",
    # Members consented to aggregate reports, not to their answers leaving the platform.
    "insights.equalityanswers",
    # Their raw counts, small ones included: only ever published suppressed and rounded.
    "insights.equalitysnapshot",
    # The stored network map: derived, recomputed on request (core/insights/map_store.py).
    "insights.mapsnapshot",
}
_EXPORT_SKIPPED_FIELDS = {"password", "key"}  # password hashes, API tokens
# Where rows have a meaningful order other than their id: entries in posting order (ids are
# no order on Citus; see ledger.models.Entry).
_EXPORT_ORDER = {"ledger.entry": ["account_id", "sequence"]}


class StaffActionRefused(ApplicationError):
    pass


def _require_staff(actor: Member) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.is_staff):
        raise PermissionDenied("Only platform staff may do this.")


def network_export(*, actor: Member, network: Network) -> bytes:
    """A zip of the network's data: for every table of its schema, `<model>.json` (Django's
    serialisation) and `<model>.csv`. Password hashes, API tokens and equality monitoring
    answers are left out. Records
    the export (with its checksum) and an audit event in the public schema."""
    _require_staff(actor)
    buffer = io.BytesIO()
    with tenant_context(network), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest: dict[str, int] = {}
        for model in _tenant_models():
            label = model._meta.label_lower
            fields = [
                f.name for f in model._meta.concrete_fields if f.name not in _EXPORT_SKIPPED_FIELDS
            ]
            rows = model._default_manager.order_by(*_EXPORT_ORDER.get(label, ["pk"]))
            archive.writestr(
                f"json/{label}.json",
                serializers.serialize("json", rows, fields=fields, indent=1),
            )
            text = io.StringIO()
            writer = CsvWriter(text)
            writer.writerow(["pk", *fields])
            count = 0
            for row in rows.values_list("pk", *fields):
                writer.writerow(row)
                count += 1
            archive.writestr(f"csv/{label}.csv", text.getvalue())
            manifest[label] = count
        archive.writestr(
            "manifest.json",
            json.dumps(
                {
                    "network": network.slug,
                    "name": network.name,
                    "rows": manifest,
                    "exported_at": timezone.now().isoformat(),
                },
                indent=1,
            ),
        )
    data = buffer.getvalue()
    with transaction.atomic(durable=True):
        export = NetworkExport.objects.create(
            network=network,
            actor_id=actor.pk,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )
        audit_record(
            actor=actor,
            verb="network.export",
            target=network,
            after={"export": export.pk, "sha256": export.sha256, "size": export.size},
        )
    return data


def _tenant_models() -> list[type[models.Model]]:
    found: list[type[models.Model]] = []
    for config in apps.get_app_configs():
        if config.name not in settings.TENANT_APPS:
            continue
        found.extend(
            model
            for model in config.get_models()
            if model._meta.label_lower not in _EXPORT_SKIPPED_MODELS
        )
    return found


def network_delete(*, actor: Member, network: Network, confirmation: str) -> None:
    """Delete a network, drop its schema and, once that is committed, its uploaded media
    (logos, photos: its folder or key prefix), for good.

    Refused unless staff exported it within the last 24 hours and typed its subdomain to
    confirm, and for a network with federation transfers (they are kept for good: the
    other networks' positions rest on them). The audit event (in the public schema)
    outlives the network. The media go too because a later network given the same
    subdomain gets the same schema name, and so the same folder or prefix."""
    _require_staff(actor)
    if confirmation.strip() != network.slug:
        raise StaffActionRefused(
            f"Type the network's subdomain, “{network.slug}”, to confirm.", field="confirmation"
        )
    recent = network.exports.filter(created_at__gte=timezone.now() - EXPORT_VALID_FOR)
    if not recent.exists():
        raise StaffActionRefused("Export the network's data first (within the last 24 hours).")
    if federation_transfers_of(network).exists():
        raise StaffActionRefused(
            f"{network.name} has exchanged time with other networks, and the federation "
            "ledger keeps those transfers for good, so the network cannot be deleted. "
            "Suspend it instead."
        )
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            verb="network.delete",
            target=network,
            before={"slug": network.slug, "name": network.name, "schema": network.schema_name},
            reason=confirmation,
        )
        Network.objects.select_for_update().get(pk=network.pk).delete(force_drop=True)
        schema_name = network.schema_name
        transaction.on_commit(lambda: network_media_delete(schema_name), robust=True)
