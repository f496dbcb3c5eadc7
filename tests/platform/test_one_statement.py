"""Every RunSQL of every installed app's migrations is one SQL statement per element.

Citus forwards DDL to its workers as the raw string and refuses a string of several
statements (`cannot insert multiple commands into a prepared statement`), and network
schemas are built by replaying what the migrations executed (tenants.services)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlparse
from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation


def _operations(operations: Sequence[Operation]) -> Iterator[Operation]:
    for operation in operations:
        yield operation
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _operations(operation.database_operations)


def _elements(sqls: object) -> list[str]:
    if sqls == migrations.RunSQL.noop:
        return []
    if isinstance(sqls, str):
        return [sqls]
    return [item[0] if isinstance(item, list | tuple) else item for item in sqls]  # type: ignore[attr-defined]


def statements_in(text: str) -> list[str]:
    """The statements sqlparse finds in `text` (it understands $$ bodies and comments)."""
    return [s for s in sqlparse.split(text) if sqlparse.format(s, strip_comments=True).strip()]


def test_every_run_sql_element_is_one_statement() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    checked = 0
    offenders = []
    for (app, name), migration in loader.disk_migrations.items():
        for operation in _operations(migration.operations):
            if not isinstance(operation, migrations.RunSQL):
                continue
            for element in [*_elements(operation.sql), *_elements(operation.reverse_sql)]:
                checked += 1
                if len(statements_in(element)) != 1:
                    offenders.append(f"{app}.{name}: {element.strip()[:60]!r}")
    assert checked > 20, "found too few RunSQL statements: is the loader looking?"
    assert offenders == []


def test_the_splitter_sees_several_statements_and_keeps_dollar_bodies_whole() -> None:
    body = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$"
    assert len(statements_in(body)) == 1
    assert len(statements_in(f"-- a comment\n{body};\nSELECT f();\n")) == 2


def test_no_column_added_to_a_network_table_carries_an_unnamed_constraint() -> None:
    """Citus refuses `ALTER TABLE ... ADD COLUMN` with a check or unique constraint in the
    column (`all constraints in Citus must have explicit names`), which is what Django emits
    for an AddField of a PositiveIntegerField or a unique field. Migrating the networks of a
    Citus cluster would stop there; add the column plain and the constraint by name
    (Meta.constraints), as `exchanges.0003` does for `meeting_sequence`."""
    from django.apps import apps
    from django.conf import settings
    from django.db import connection

    in_networks = {c.label for c in apps.get_app_configs() if c.name in settings.TENANT_APPS}
    loader = MigrationLoader(None, ignore_no_migrations=True)
    added = 0
    offenders = []
    for (app, name), migration in loader.disk_migrations.items():
        if app not in in_networks:
            continue  # public-schema tables live on the coordinator, undistributed
        for operation in _operations(migration.operations):
            if isinstance(operation, migrations.AddField):
                added += 1
                field = operation.field
                if field.db_check(connection) or (field.unique and not field.primary_key):
                    offenders.append(f"{app}.{name}: {operation.model_name}.{operation.name}")
    assert added > 10, "found too few AddField operations: is the loader looking?"
    assert offenders == []
