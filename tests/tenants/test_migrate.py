"""`hexitime tenants migrate`: every network schema migrates in its own transaction."""

import pytest
from django.core.management import CommandError, call_command
from psycopg import sql

from hexitime.db import connection

# Fails any DDL in one schema once that schema records a ledger migration: the first
# ledger migration applies, the second one fails half-way through the run.
SABOTAGE = """
CREATE FUNCTION public.test_sabotage() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE schema_name = {schema})
       AND EXISTS (SELECT 1 FROM {schema_ident}.django_migrations WHERE app = 'ledger') THEN
        RAISE EXCEPTION 'sabotaged migration in %', {schema};
    END IF;
END $$;
CREATE EVENT TRIGGER test_sabotage ON ddl_command_end EXECUTE FUNCTION public.test_sabotage();
"""


def _state(schema: str) -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        tables = sorted(cursor.fetchall())
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations").format(sql.Identifier(schema))
        )
        migrations = sorted(cursor.fetchall())
    return {"tables": tables, "migrations": migrations}


def _ledger_to_zero(schema: str) -> None:
    call_command(
        "migrate_schemas", "ledger", "zero", schema_name=schema, interactive=False, verbosity=0
    )
    connection.set_schema_to_public()


@pytest.mark.django_db(transaction=True)
def test_a_failing_schema_is_left_unchanged_and_the_others_are_migrated(make_network, capsys):
    good, bad = make_network("good"), make_network("bad")
    migrated = _state(good.schema_name)
    for network in (good, bad):
        _ledger_to_zero(network.schema_name)
    before = _state(bad.schema_name)
    assert not any(app == "ledger" for app, _ in before["migrations"])

    with connection.cursor() as cursor:
        cursor.execute(
            SABOTAGE.format(
                schema=sql.Literal(bad.schema_name).as_string(cursor.connection),
                schema_ident=sql.Identifier(bad.schema_name).as_string(cursor.connection),
            )
        )
    try:
        with pytest.raises(CommandError, match="1 of 2 network schemas failed"):
            call_command("tenants_migrate", workers=2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP EVENT TRIGGER test_sabotage")
            cursor.execute("DROP FUNCTION public.test_sabotage()")

    assert _state(bad.schema_name) == before  # not even the first ledger migration
    assert _state(good.schema_name) == migrated
    err = capsys.readouterr().err
    assert "2/2" in err
    assert "net_bad left unchanged: " in err
    assert "sabotaged migration in net_bad" in err

    # With the cause gone, running again finishes the job.
    call_command("tenants_migrate", workers=1)
    assert _state(bad.schema_name) == migrated
