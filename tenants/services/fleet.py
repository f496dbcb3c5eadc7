"""Migrating every network schema: only the ones behind, in parallel, mostly by replaying SQL.

Each network records the migration state its schema was last built or migrated at
(`Network.migration_state`, the hash `tenant_migration_state()` of every migration and
every model's permissions), in the transaction that built or migrated it. So one query
finds the schemas with work to do, and a release with no new migration costs one query
however many networks there are.

The schemas behind are grouped by the set of migrations they have applied (read from all
of them in a few UNION ALL queries). For each group Django plans the pending migrations
once, against one schema of the group, and writes them out as SQL (`collect_sql`, what
`sqlmigrate` prints). When every operation reduces to SQL (no RunPython, no RenameModel,
whose content-type rename is Python; no squashed migration), each schema of the group
gets that SQL, its django_migrations rows, the post-migrate content types and
permissions and its new recorded state in one transaction, pipelined: a few round trips
instead of loading and rendering the migration graph again per schema. Otherwise the
schemas of that group run Django's migrate one by one (`schema_migrate`). Either way one
transaction per schema under the per-schema advisory lock: a failure leaves that schema,
and its recorded state, as they were.

Workers are forked processes (`--workers`), each with its own connections.
"""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.management import (  # type: ignore[attr-defined]
    _get_all_permissions,  # the list create_permissions writes, so ours cannot differ
    create_permissions,
)
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RenameModel, SeparateDatabaseAndState
from django.db.migrations.operations.base import Operation
from django.db.models.signals import post_migrate
from django_tenants.utils import get_public_schema_name
from psycopg import sql

from kernel.db import connection
from tenants.models import Network

from .schemas import schema_migrate, schema_migration_lock, tenant_migration_state

_APPLIED_CHUNK = 500  # schemas read per UNION ALL query

Applied = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class ReplayPlan:
    """The SQL that takes a schema with `applied` migrations to the current state."""

    applied: Applied
    # Per migration, in order: (app, name, its SQL statements), recorded as applied right
    # after its statements, as `migrate` does.
    steps: tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class SchemaOutcome:
    schema_name: str
    error: str | None
    replayed: bool
    seconds: float


@dataclass
class FleetMigration:
    """What `fleet_migrate` did: `current` schemas were already at `state` and skipped."""

    state: str
    current: int
    behind: int
    replayed: int = 0
    migrated: int = 0
    failures: list[SchemaOutcome] = field(default_factory=list)


def schemas_behind(*, state: str | None) -> list[str]:
    """Network schemas whose recorded migration state is not `state` (one query); every
    network schema when `state` is None."""
    networks = Network.objects.exclude(schema_name=get_public_schema_name())
    if state is not None:
        networks = networks.exclude(migration_state=state)
    return list(networks.order_by("schema_name").values_list("schema_name", flat=True))


def schemas_applied(schema_names: Iterable[str]) -> dict[str, Applied]:
    """The migrations each schema has applied, a few hundred schemas per query. A schema
    that does not exist is left out."""
    names = list(schema_names)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid"
            " WHERE c.relname = 'django_migrations' AND nspname = ANY(%s)",
            [names],
        )
        present = {row[0] for row in cursor.fetchall()}
    names = [name for name in names if name in present]
    applied: dict[str, set[tuple[str, str]]] = {name: set() for name in names}
    for start in range(0, len(names), _APPLIED_CHUNK):
        branches = [
            sql.SQL("SELECT {literal}, app, name FROM {schema}.django_migrations").format(
                literal=sql.Literal(name), schema=sql.Identifier(name)
            )
            for name in names[start : start + _APPLIED_CHUNK]
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL(" UNION ALL ").join(branches))
            for schema_name, app, name in cursor.fetchall():
                applied[schema_name].add((app, name))
    return {name: frozenset(rows) for name, rows in applied.items()}


def _replayable(operation: Operation) -> bool:
    if isinstance(operation, SeparateDatabaseAndState):
        return all(_replayable(inner) for inner in operation.database_operations)
    # RenameModel: the contenttypes app adds a Python step renaming its content type.
    return bool(operation.reduces_to_sql) and not isinstance(operation, RenameModel)


def replay_plan(*, schema_name: str) -> ReplayPlan | None:
    """Plan the pending migrations of `schema_name` and write them out as SQL, or None when
    some operation cannot be replayed as SQL. Reads, writes nothing."""
    try:
        connection.set_schema(schema_name)
        executor = MigrationExecutor(connection)
        applied = frozenset(executor.loader.applied_migrations)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        migrations = [migration for migration, _ in plan]
        if any(
            migration.replaces or not all(_replayable(op) for op in migration.operations)
            for migration in migrations
        ):
            return None
        steps = []
        # The state of every migration applied in the schema, as `migrate` starts from (not
        # the first pending one's ancestors only: a pending migration may refer to models of
        # apps that are not its ancestors' but are applied, as campaigns' does to projects).
        state = executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]
        for migration in migrations:  # MigrationLoader.collect_sql, one migration at a time
            with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
                state = migration.apply(state, editor, collect_sql=True)
            statements = tuple(
                text.strip().rstrip(";")
                for text in editor.collected_sql
                if not text.lstrip().startswith("--")
            )
            steps.append((migration.app_label, migration.name, statements))
    finally:
        connection.set_schema_to_public()
    return ReplayPlan(applied=applied, steps=tuple(steps))


class _PlanStale(Exception):
    """The schema's applied migrations changed since it was planned."""


def schema_replay(*, schema_name: str, plan: ReplayPlan, state: str) -> bool:
    """Apply `plan` to `schema_name` and record `state`, all in one transaction under the
    schema's migration lock. Returns False, changing nothing, when the schema no longer
    has the migrations the plan starts from (someone migrated it meanwhile)."""
    try:
        with transaction.atomic(durable=True):
            schema_migration_lock(schema_name)
            if schemas_applied([schema_name]).get(schema_name) != plan.applied:
                raise _PlanStale
            connection.set_schema(schema_name)
            with connection.cursor() as cursor:
                raw = cursor.cursor
                # One statement per execute (Citus), pipelined: about one round trip.
                with raw.connection.pipeline():
                    for app, name, statements in plan.steps:
                        for statement in statements:
                            cursor.execute(statement)
                        cursor.execute(
                            "INSERT INTO django_migrations (app, name, applied)"
                            " VALUES (%s, %s, now())",
                            [app, name],
                        )
            _post_migrate(schema_name)
            connection.set_schema_to_public()
            Network.objects.filter(schema_name=schema_name).update(migration_state=state)
    except _PlanStale:
        return False
    finally:
        connection.set_schema_to_public()
    return True


def _post_migrate(schema_name: str) -> None:
    """Content types and permissions for every model, as `migrate`'s post-migrate step
    writes them (the missing ones added, none removed), in two statements when those two
    Django handlers are all that listens; otherwise by sending the signal."""
    statements = _post_migrate_statements()
    if statements is None:
        ContentType.objects.clear_cache()
        emit_post_migrate_signal(0, False, connection.alias)
        ContentType.objects.clear_cache()
        return
    connection.set_schema(schema_name)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.connection.pipeline():
            for statement in statements:
                cursor.execute(statement)


@functools.cache
def _post_migrate_statements() -> tuple[str, str] | None:
    listening = {receiver[1]() for receiver in post_migrate.receivers}
    if listening != {create_contenttypes, create_permissions}:
        return None
    models = [model for config in apps.get_app_configs() for model in config.get_models()]
    types = sql.SQL(", ").join(
        sql.SQL("({}, {}, {})").format(
            sql.Literal(n), sql.Literal(m._meta.app_label), sql.Literal(m._meta.model_name)
        )
        for n, m in enumerate(models)
    )
    permissions = sql.SQL(", ").join(
        sql.SQL("({}, {}, {}, {})").format(
            sql.Literal(m._meta.app_label),
            sql.Literal(m._meta.model_name),
            sql.Literal(codename),
            sql.Literal(name),
        )
        for m in models
        for codename, name in _get_all_permissions(m._meta)
    )
    return (
        sql.SQL(
            "INSERT INTO django_content_type (app_label, model)"
            " SELECT v.app_label, v.model FROM (VALUES {}) v(n, app_label, model)"
            " WHERE (v.app_label, v.model) NOT IN"
            " (SELECT app_label, model FROM django_content_type) ORDER BY v.n"
        )
        .format(types)
        .as_string(None),
        sql.SQL(
            "INSERT INTO auth_permission (name, content_type_id, codename)"
            " SELECT v.name, c.id, v.codename FROM (VALUES {}) v(app_label, model, codename, name)"
            " JOIN django_content_type c ON c.app_label = v.app_label AND c.model = v.model"
            " WHERE (c.id, v.codename) NOT IN (SELECT content_type_id, codename"
            " FROM auth_permission)"
        )
        .format(permissions)
        .as_string(None),
    )


def _migrate_one(job: tuple[str, ReplayPlan | None, str]) -> SchemaOutcome:
    """Runs in a worker process. Replays the plan when there is one, else (or when the
    plan went stale) runs Django's migrate for the schema."""
    schema_name, plan, state = job
    started = time.perf_counter()
    try:
        replayed = plan is not None and schema_replay(
            schema_name=schema_name, plan=plan, state=state
        )
        if not replayed:
            schema_migrate(schema_name=schema_name)
    except Exception as error:
        return SchemaOutcome(
            schema_name, f"{type(error).__name__}: {error}", False, time.perf_counter() - started
        )
    return SchemaOutcome(schema_name, None, replayed, time.perf_counter() - started)


def _worker_start() -> None:
    # Forked workers must open their own connections, never share the parent's socket.
    for forked in connections.all(initialized_only=True):
        forked.connection = None
        forked.close()


def fleet_migrate(
    *,
    workers: int,
    every_schema: bool = False,
    on_planned: Callable[[FleetMigration], None] | None = None,
    on_schema: Callable[[SchemaOutcome], None] | None = None,
) -> FleetMigration:
    """Bring every network schema behind the current migration state up to it, over a pool
    of `workers` processes. `on_planned` hears how many are behind before work starts,
    `on_schema` each schema's outcome as it finishes. A schema that fails is reported in
    the result and left as it was; the others go on. `every_schema` ignores the recorded
    states and looks at every schema (after someone migrated one by hand)."""
    state = tenant_migration_state()
    behind = schemas_behind(state=None if every_schema else state)
    total = Network.objects.exclude(schema_name=get_public_schema_name()).count()
    result = FleetMigration(state=state, current=total - len(behind), behind=len(behind))
    if on_planned is not None:
        on_planned(result)
    if not behind:
        return result
    applied = schemas_applied(behind)
    plans: dict[Applied, ReplayPlan | None] = {}
    for schema_name, migrations in applied.items():
        if migrations not in plans:
            plans[migrations] = replay_plan(schema_name=schema_name)
    jobs = [(name, plans[applied[name]] if name in applied else None, state) for name in behind]
    # Close this process's connections before forking, so no worker inherits them.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=min(workers, len(jobs)), initializer=_worker_start) as pool:
        for outcome in pool.imap_unordered(_migrate_one, jobs):
            if outcome.error:
                result.failures.append(outcome)
            elif outcome.replayed:
                result.replayed += 1
            else:
                result.migrated += 1
            if on_schema is not None:
                on_schema(outcome)
    return result
