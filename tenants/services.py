"""Creating networks: the schema is built from a template captured once per migration state.

The fastest route needs no building at all while a new network waits: a few spare schemas
are built from the current template ahead of time (`schema_spares_fill`, run by a Celery
task after each network is created) and `network_create` renames one into place. Functions
whose `search_path` was pinned with `SET search_path FROM CURRENT` are re-pinned to the new
name in the same statement batch. Without a spare (a burst of sign-ups, or the first
network after a migration) it falls back to replaying the template.

Replaying every migration for each new network costs time that grows with the number of
migrations. Instead, the first provisioning at a given migration state migrates a scratch
schema while recording every statement the migration run executes (DDL, RunSQL, RunPython's
writes, the post_migrate content types and permissions, the django_migrations rows). The
statements are unqualified, so replaying them with `search_path` pointing at a new schema
rebuilds the same schema in one round trip. The state key hashes every tenant migration
file, so a new or edited migration produces a new template automatically.

tests/tenants/test_provisioning.py proves that a schema built this way has the same
tables, columns, constraints, indexes, triggers and functions as one built by migrating.
"""

from __future__ import annotations

import csv
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
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core import serializers, signing
from django.core.exceptions import ValidationError
from django.core.management.commands.migrate import Command as MigrateCommand
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import get_public_schema_name, tenant_context
from psycopg import ClientCursor, sql

from core.audit.services import audit_record
from core.members.models import Member
from hexitime.db import connection
from hexitime.errors import ApplicationError, PermissionDenied
from ledger.services import gift_grant

from .models import (
    SLUG_VALIDATOR,
    Domain,
    JoinPolicy,
    Network,
    NetworkExport,
    OrganisationType,
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


class NetworkNameRefused(ApplicationError):
    pass


@dataclass(frozen=True)
class ProvisionStep:
    """Progress reported to a caller (the provisioning task shows these to the organiser)."""

    name: str
    done: int
    total: int


ProgressCallback = Callable[[ProvisionStep], None]


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
    organisation_type: str = OrganisationType.OTHER,
    join_policy: str = JoinPolicy.APPROVAL,
    on_progress: ProgressCallback | None = None,
) -> Network:
    """Create a network, its schema and its domain `<slug>.<base domain>`.

    The network row, domain and schema are created in one transaction: a failure leaves
    none of them behind. Organiser accounts, ledger accounts and theming are added by
    their own services once the schema exists.
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
                schema_name=schema_name_for(slug),
                organisation_type=organisation_type,
                join_policy=join_policy,
            )
            Domain.objects.create(domain=network_domain(slug), tenant=network, is_primary=True)
            if not _schema_spare_claim(network.schema_name, template.state):
                schema_build(network.schema_name, template)
            if settings.HEXITIME_SPARE_SCHEMAS:
                transaction.on_commit(_schema_spares_refill)
    except IntegrityError:
        raise NetworkNameRefused(
            f"“{slug}” was taken a moment ago. How about “{slug_suggest(slug)}”?", field="slug"
        ) from None
    report(ProvisionStep("Ready", 3, 3))
    return network


def schema_build(schema_name: str, template: SchemaTemplate) -> None:
    """Create `schema_name` from the template's SQL in one round trip (caller's transaction)."""
    script = sql.SQL("CREATE SCHEMA {schema}; SET LOCAL search_path = {schema}, public;\n").format(
        schema=sql.Identifier(schema_name)
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(script.as_string(raw.connection) + template.sql)
    # The script changed search_path behind django-tenants' back: make it set it again.
    connection.search_path_set_schemas = None


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
    script = sql.SQL(
        """ALTER SCHEMA {spare} RENAME TO {schema};
        DO $$ DECLARE f record; BEGIN
          FOR f IN SELECT p.oid::regprocedure AS sig, substr(c, 13) AS path
                   FROM pg_proc p, unnest(p.proconfig) AS c
                   WHERE p.pronamespace = {schema_literal}::regnamespace
                     AND c LIKE 'search_path=%' LOOP
            EXECUTE format('ALTER FUNCTION %s SET search_path = %s', f.sig,
                           replace(f.path, {spare_literal}, {schema_literal}));
          END LOOP;
        END $$;"""
    ).format(
        spare=sql.Identifier(spare.name),
        schema=sql.Identifier(schema_name),
        spare_literal=sql.Literal(spare.name),
        schema_literal=sql.Literal(schema_name),
    )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(script.as_string(raw.connection))
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
    """A hash of every migration that builds a network schema (file contents included)."""
    tenant_labels = {c.label for c in apps.get_app_configs() if c.name in settings.TENANT_APPS}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    digest = hashlib.sha256()
    for app_label, name in sorted(loader.graph.nodes):
        if app_label not in tenant_labels:
            continue
        migration = loader.graph.nodes[(app_label, name)]
        source = inspect.getsource(inspect.getmodule(migration))  # type: ignore[arg-type]
        digest.update(f"{app_label}.{name}\0".encode())
        digest.update(hashlib.sha256(source.encode()).digest())
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
                options=migrate_options(),
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
        defaults={"sql": ";\n".join(statements) + ";\n", "statement_count": len(statements)},
    )
    logger.info(
        "Captured network schema template %s: %d statements in %.2fs",
        state[:12],
        len(statements),
        time.perf_counter() - started,
    )
    return template


def migrate_options() -> dict[str, Any]:
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


# --- Starting a network: an organiser's request, built by a Celery task -----------------

ORGANISER_GROUP = "Organisers"
"""The auth group (in each network's schema) that marks a network's organisers until member
roles land in core.members; the first organiser is put in it when the network is built."""

_LOGIN_HANDOFF_SALT = "tenants.login-handoff"
LOGIN_HANDOFF_MAX_AGE = 300  # seconds: the organiser is redirected straight away


class StartRefused(ApplicationError):
    pass


def network_start(
    *,
    name: str,
    slug: str,
    organisation_type: str,
    join_policy: str,
    organiser_email: str,
    organiser_full_name: str,
    organiser_password: str,
) -> ProvisioningJob:
    """Accept an organiser's request to start a network and queue building it.

    Refuses a subdomain that is reserved, malformed or taken (with a suggestion) and a
    weak password, before anything is written. The password is stored only as a hash.
    The provisioning task is queued after the job row commits.
    """
    from .tasks import network_provision_task

    slug_validate(slug)
    if organisation_type not in OrganisationType.values:
        raise StartRefused("Choose the kind of organisation.", field="organisation_type")
    if join_policy not in JoinPolicy.values:
        raise StartRefused("Choose who can join.", field="join_policy")
    email = organiser_email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise StartRefused("Enter a valid email address.", field="organiser_email") from None
    try:
        validate_password(
            organiser_password, user=Member(email=email, full_name=organiser_full_name)
        )
    except ValidationError as error:
        raise StartRefused(" ".join(error.messages), field="organiser_password") from None
    with transaction.atomic(durable=True):
        job = ProvisioningJob.objects.create(
            slug=slug,
            name=name.strip(),
            organisation_type=organisation_type,
            join_policy=join_policy,
            organiser_email=email,
            organiser_full_name=organiser_full_name.strip(),
            organiser_password_hash=make_password(organiser_password),
        )
        job_id = str(job.pk)
        transaction.on_commit(lambda: network_provision_task.delay(job_id))
    return job


def network_provision(*, job_id: str) -> ProvisioningJob:
    """Build the network a job asks for and its first organiser, recording progress.

    Idempotent: a job that is done or failed is returned as it is, so a redelivered task
    does nothing. A refusal (the subdomain was taken meanwhile) marks the job failed with
    the reason; nothing of the network is left behind (network_create is all or nothing).
    """
    job = ProvisioningJob.objects.get(pk=job_id)
    if job.status in {ProvisioningJob.Status.DONE, ProvisioningJob.Status.FAILED}:
        return job
    total = 5

    def progress(name: str, done: int) -> None:
        ProvisioningJob.objects.filter(pk=job.pk).update(
            status=ProvisioningJob.Status.RUNNING,
            step=name,
            steps_done=done,
            steps_total=total,
            updated_at=timezone.now(),
        )

    progress("Checking the subdomain", 0)
    try:
        network = network_create(
            slug=job.slug,
            name=job.name,
            organisation_type=job.organisation_type,
            join_policy=job.join_policy,
            on_progress=lambda step: progress(step.name, step.done),
        )
    except NetworkNameRefused as refusal:
        ProvisioningJob.objects.filter(pk=job.pk).update(
            status=ProvisioningJob.Status.FAILED,
            error=refusal.message,
            organiser_password_hash="",
            updated_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    progress("Creating your organiser account", 4)
    with tenant_context(network), transaction.atomic(durable=True):
        organiser = Member.objects.create(
            email=job.organiser_email,
            full_name=job.organiser_full_name,
            password=job.organiser_password_hash,
        )
        group, _ = Group.objects.get_or_create(name=ORGANISER_GROUP)
        organiser.groups.add(group)
        audit_record(
            actor=None,
            verb="network.create",
            target=organiser,
            after={"network": network.slug, "first_organiser": organiser.email},
        )
    with tenant_context(network):
        gift_grant(member=organiser)
    with transaction.atomic(durable=True):
        ProvisioningJob.objects.filter(pk=job.pk).update(
            status=ProvisioningJob.Status.DONE,
            step="Ready",
            steps_done=total,
            steps_total=total,
            network=network,
            organiser_id=organiser.pk,
            organiser_password_hash="",
            updated_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def login_handoff_token(*, job: ProvisioningJob) -> str:
    """A signed, short-lived token that signs the job's organiser into their new network.

    Sessions live in each network's schema, so the public site cannot sign anyone in
    there; it hands this token to the network's host, which redeems it once."""
    if job.status != ProvisioningJob.Status.DONE or job.network is None:
        raise StartRefused("The network is not ready yet.")
    return signing.dumps(
        {"job": str(job.pk), "schema": job.network.schema_name}, salt=_LOGIN_HANDOFF_SALT
    )


def login_handoff_redeem(*, token: str, schema_name: str) -> Member:
    """The organiser a handoff token names, if it is fresh, for this network, and unused.

    Marks the token used in the same statement that checks it, so it works once."""
    try:
        payload = signing.loads(token, salt=_LOGIN_HANDOFF_SALT, max_age=LOGIN_HANDOFF_MAX_AGE)
    except signing.BadSignature:
        raise StartRefused("This sign-in link has expired. Please sign in.") from None
    if payload.get("schema") != schema_name:
        raise StartRefused("This sign-in link is for another network.")
    with transaction.atomic(durable=True):
        claimed = ProvisioningJob.objects.filter(
            pk=payload["job"],
            status=ProvisioningJob.Status.DONE,
            network__schema_name=schema_name,
            login_used_at__isnull=True,
        ).update(login_used_at=timezone.now())
        if not claimed:
            raise StartRefused("This sign-in link has already been used. Please sign in.")
        # A done job always has an organiser (provisioning_job_done_has_network).
        organiser_id = ProvisioningJob.objects.values_list("organiser_id", flat=True).get(
            pk=payload["job"]
        )
        return Member.objects.get(pk=cast(int, organiser_id))


def member_is_organiser(member: Member) -> bool:
    """Whether `member` organises the current network (see ORGANISER_GROUP)."""
    return member.groups.filter(name=ORGANISER_GROUP).exists()


# --- Platform staff: suspend, resume, export, delete ------------------------------------

EXPORT_VALID_FOR = timedelta(hours=24)
_EXPORT_SKIPPED_MODELS = {"contenttypes.contenttype", "sessions.session", "auth.permission"}
_EXPORT_SKIPPED_FIELDS = {"password", "key"}  # password hashes, API tokens


class StaffActionRefused(ApplicationError):
    pass


def _require_staff(actor: Member) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.is_staff):
        raise PermissionDenied("Only platform staff may do this.")


def network_suspend(*, actor: Member, network: Network, reason: str) -> Network:
    """Suspend a network: its pages show a plain notice and its API refuses; its data is
    untouched. Audited in the public schema."""
    return _network_status_set(
        actor=actor,
        network=network,
        status=Network.Status.SUSPENDED,
        verb="network.suspend",
        reason=reason,
    )


def network_resume(*, actor: Member, network: Network, reason: str = "") -> Network:
    """Lift a suspension. Audited in the public schema."""
    return _network_status_set(
        actor=actor,
        network=network,
        status=Network.Status.ACTIVE,
        verb="network.resume",
        reason=reason,
    )


def _network_status_set(
    *, actor: Member, network: Network, status: str, verb: str, reason: str
) -> Network:
    _require_staff(actor)
    if status == Network.Status.SUSPENDED and not reason.strip():
        raise StaffActionRefused("Say why the network is suspended.", field="reason")
    with transaction.atomic(durable=True):
        locked = Network.objects.select_for_update().get(pk=network.pk)
        if locked.status == status:
            raise StaffActionRefused(
                f"{locked.name} is already {locked.get_status_display().lower()}."
            )
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            verb=verb,
            target=locked,
            before={"status": before},
            after={"status": status},
            reason=reason.strip(),
        )
    return locked


def network_export(*, actor: Member, network: Network) -> bytes:
    """A zip of the network's data: for every table of its schema, `<model>.json` (Django's
    serialisation) and `<model>.csv`. Password hashes and API tokens are left out. Records
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
            rows = model._default_manager.order_by("pk")
            archive.writestr(
                f"json/{label}.json",
                serializers.serialize("json", rows, fields=fields, indent=1),
            )
            text = io.StringIO()
            writer = csv.writer(text)
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
    """Delete a network and drop its schema, for good.

    Refused unless staff exported it within the last 24 hours and typed its subdomain to
    confirm. The audit event (in the public schema) outlives the network."""
    _require_staff(actor)
    if confirmation.strip() != network.slug:
        raise StaffActionRefused(
            f"Type the network's subdomain, “{network.slug}”, to confirm.", field="confirmation"
        )
    recent = network.exports.filter(created_at__gte=timezone.now() - EXPORT_VALID_FOR)
    if not recent.exists():
        raise StaffActionRefused("Export the network's data first (within the last 24 hours).")
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            verb="network.delete",
            target=network,
            before={"slug": network.slug, "name": network.name, "schema": network.schema_name},
            reason=confirmation,
        )
        Network.objects.select_for_update().get(pk=network.pk).delete(force_drop=True)
