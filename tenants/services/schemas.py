"""Network schemas: built from a template captured once per migration state, or taken ready-made
from a spare; and migrated, all or nothing.

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
task after each network is created) and `network_create` (tenants.services.networks)
renames one into place (`schema_spare_claim`). Functions
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
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.loader import MigrationLoader
from django.db.models import Field, Model
from django_tenants.migration_executors.base import run_migrations
from psycopg import ClientCursor, sql

from kernel.db import connection, transaction_lock
from tenants.models import Network, SchemaTemplate, SpareSchema

logger = logging.getLogger(__name__)
_SKIPPED_STATEMENT = re.compile(
    r"^\s*(SELECT|SHOW|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SET\s+search_path)\b", re.I
)
_INDEX_CREATED = re.compile(r'^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+"?(\w+)"?\s+ON\b', re.I)
_INDEX_DROPPED = re.compile(r'^\s*DROP\s+INDEX\s+(?:IF\s+EXISTS\s+)?"?(\w+)"?\s*$', re.I)
_TEMPLATE_BUILD_LOCK = 0x6E6574_74706C  # pg_advisory_lock key: "net tpl"
_SPARE_FILL_LOCK = 0x6E6574_737072  # "net spr"
_SCHEMA_LOCK_SPACE = 0x6D6967  # first key of the two-key per-schema migration lock: "mig"


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
            schema_migration_lock(schema_name)
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


def schema_migration_lock(schema_name: str) -> None:
    """Take the schema's migration lock until the caller's transaction ends: a second run
    that migrates or replays the same schema waits for this one."""
    transaction_lock(_SCHEMA_LOCK_SPACE, schema_name)


def schema_spare_claim(schema_name: str, state: str) -> bool:
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
        with connection.execute_wrapper(_StatementRecorder(statements)), _template_editor():
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
    statements = _without_dropped_indexes(statements)
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


@contextmanager
def _template_editor() -> Iterator[None]:
    """Migrate with `_ColumnsAddedToEmptyTables` mixed into the connection's schema editor."""
    base = connection.SchemaEditorClass
    connection.SchemaEditorClass = type(
        "TemplateSchemaEditor", (_ColumnsAddedToEmptyTables, base), {}
    )
    try:
        yield
    finally:
        del connection.SchemaEditorClass


class _ColumnsAddedToEmptyTables(BaseDatabaseSchemaEditor):
    """A column added to a table that has no rows is added without the default Django gives
    it only to fill the rows there are, and drops in its next statement.

    `ADD COLUMN ... DEFAULT` makes PostgreSQL scan the whole of pg_depend for composite
    types built on the table (find_composite_type_dependencies), and pg_depend grows with
    every network: 13.7 ms a column at 500 networks against 0.6 ms without the default, and
    30 of the template's statements were such columns. The schema is the same: the default
    was dropped straight after. The capture runs the statements it records, so a table a
    migration filled before adding a column keeps Django's two statements. Only the
    capture's scratch schema gets this editor: on a live table a row could arrive between
    the check and the ALTER, and the column would then be refused."""

    _adding_to_empty_table = False

    def add_field(self, model: type[Model], field: Field[Any, Any]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(_TABLE_HAS_ROWS.format(self.quote_name(model._meta.db_table)))
            self._adding_to_empty_table = not cursor.fetchone()[0]
        try:
            super().add_field(model, field)
        finally:
            self._adding_to_empty_table = False

    # Django returns None for "no default"; django-stubs type its result int | str.
    def effective_default(self, field: Field[Any, Any]) -> int | str | None:  # type: ignore[override]
        return None if self._adding_to_empty_table else super().effective_default(field)


_TABLE_HAS_ROWS = "SELECT EXISTS (SELECT FROM {})"


def _without_dropped_indexes(statements: list[str]) -> list[str]:
    """The statements less each index a later one drops by name, and that drop: the
    template builds the schema as the migrations leave it, not their history (a migration
    dropping indexes would otherwise make every new network create and drop them)."""
    kept: list[str | None] = list(statements)
    created: dict[str, int] = {}  # index name -> position of the CREATE not yet dropped
    for position, statement in enumerate(statements):
        if match := _INDEX_CREATED.match(statement):
            created[match.group(1)] = position
        elif (match := _INDEX_DROPPED.match(statement)) and match.group(1) in created:
            kept[created.pop(match.group(1))] = kept[position] = None
    return [statement for statement in kept if statement is not None]


def _migrate_options() -> dict[str, Any]:
    """The `migrate` command's defaults, quiet and non-interactive."""
    options = vars(MigrateCommand().create_parser("hexitime", "migrate").parse_args([]))
    return {**options, "verbosity": 0, "interactive": False, "database": "default"}


class _StatementRecorder:
    """An execute wrapper that keeps each state-changing statement with its values inlined."""

    def __init__(self, into: list[str]) -> None:
        self.statements = into

    def __call__(
        self,
        execute: Callable[..., Any],
        sql_text: str,
        params: Any,  # noqa: ANN401 - Django's wrapper type: one set of parameters, or a list
        many: bool,
        context: dict[str, Any],
    ) -> object:
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
