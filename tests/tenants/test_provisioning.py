"""A network schema built from the captured template is the schema migrations build."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tenants.utils import tenant_context
from psycopg import sql

from core.members.models import Member
from kernel.db import connection
from ledger.selectors import member_balance
from ledger.services import gift_grant
from tenants.models import Domain, Network, SchemaTemplate, SpareSchema
from tenants.services.networks import network_create
from tenants.services.schemas import schema_spares_fill, schema_template_current
from tenants.services.slugs import NetworkNameRefused

if TYPE_CHECKING:
    from collections.abc import Callable

CATALOG = {
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = %(s)s""",
    "constraints": """
        SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
        WHERE con.connamespace = %(s)s::regnamespace""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger
        WHERE NOT tgisinternal AND tgrelid::regclass::text NOT LIKE 'pg_%%'
          AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = %(s)s::regnamespace)""",
    "functions": """
        SELECT proname, pg_get_function_identity_arguments(oid), prosrc, proconfig FROM pg_proc
        WHERE pronamespace = %(s)s::regnamespace""",
    "migrations": "SELECT app, name FROM {schema}.django_migrations",
    "content_types": "SELECT app_label, model FROM {schema}.django_content_type",
    "permissions": "SELECT codename FROM {schema}.auth_permission",
}


def _catalog(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    with connection.cursor() as cursor:
        for name, query in CATALOG.items():
            text = query.replace("{schema}", sql.Identifier(schema).as_string(cursor.connection))
            cursor.execute(text, {"s": schema})
            rows = [tuple(str(v).replace(schema, "<schema>") for v in row) for row in cursor]
            found[name] = sorted(rows)
    return found


@pytest.mark.django_db(transaction=True)
def test_template_schema_matches_a_migrated_schema(make_network: Callable[..., Network]) -> None:
    replayed = make_network("replayed")
    migrated_schema = "net_migrated"
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(migrated_schema)))
    try:
        call_command("migrate_schemas", schema_name=migrated_schema, interactive=False, verbosity=0)
        connection.set_schema_to_public()
        ours, theirs = _catalog(replayed.schema_name), _catalog(migrated_schema)
        assert ours["columns"], "the catalog query found nothing to compare"
        for part in CATALOG:
            assert ours[part] == theirs[part], part
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(migrated_schema))
            )


def test_a_provisioned_network_works_and_has_its_domain(network_a: Network) -> None:
    assert Domain.objects.get(tenant=network_a).domain == "network-a.localhost"
    with tenant_context(network_a):
        Member.objects.create_user("first@nhs.net", "pw", full_name="First Member")
        assert Member.objects.count() == 1


ADDED_WITH_DEFAULT = re.compile(r'^ALTER TABLE ("\w+") ADD COLUMN "\w+" .* DEFAULT ')


def test_the_template_adds_a_default_only_to_fill_a_table_with_rows(db: None) -> None:
    """Django adds a column with a default to fill the rows there are, then drops it; a
    network's tables are empty, and each such column made PostgreSQL scan all of pg_depend.
    Replayed statement by statement, a column is added with a default only where the table
    already had a row (the ledger's, filled by its own migration)."""
    statements = schema_template_current().statements
    added_with_default = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA net_replayed_by_hand")
        cursor.execute("SET LOCAL search_path = net_replayed_by_hand, public")
        for statement in statements:
            if match := ADDED_WITH_DEFAULT.match(statement):
                cursor.execute(f"SELECT EXISTS (SELECT FROM {match.group(1)})")  # noqa: S608
                assert cursor.fetchone() == (True,), f"added to an empty table: {statement}"
                added_with_default.append(statement)
            cursor.execute(statement)
        transaction.set_rollback(True)
    connection.search_path_set_schemas = None
    added = [s for s in statements if " ADD COLUMN " in s]
    assert len(added) > len(added_with_default) + 20, "the migrations add fewer columns"


def test_the_template_is_captured_once_per_migration_state(db: None) -> None:
    first = schema_template_current()
    assert schema_template_current() is first
    assert SchemaTemplate.objects.filter(state=first.state).count() <= 1
    assert any(statement.startswith("CREATE TABLE") for statement in first.statements)


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("www", "reserved"),
        ("admin", "reserved"),
        ("Upper", "lowercase letters"),
        ("-edge", "lowercase letters"),
        ("has space", "lowercase letters"),
        ("x" * 41, "lowercase letters"),
    ],
)
def test_unusable_subdomains_are_refused_with_a_reason(db: None, slug: str, message: str) -> None:
    with pytest.raises(NetworkNameRefused, match=message):
        network_create(slug=slug, name="Refused")
    assert not Network.objects.filter(slug=slug).exists()


def test_a_taken_subdomain_is_refused_with_a_suggestion(network_a: Network) -> None:
    with pytest.raises(NetworkNameRefused) as refused:
        network_create(slug="network-a", name="Again")
    assert refused.value.extra["suggestion"] == "network-a-2"


@pytest.mark.django_db(transaction=True)
def test_a_failed_build_leaves_no_network_domain_or_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    template = schema_template_current()
    broken = SchemaTemplate(state=template.state, statements=[*template.statements, "SELECT 1/0"])
    monkeypatch.setattr("tenants.services.networks.schema_template_current", lambda: broken)
    with pytest.raises(Exception, match="division by zero"):
        network_create(slug="half-built", name="Half Built")
    assert not Network.objects.filter(slug="half-built").exists()
    assert not Domain.objects.filter(domain__startswith="half-built.").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'net_half_built'")
        assert cursor.fetchone() is None


def test_the_template_state_changes_with_the_models_post_migrate_writes_rows_for(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new model or permission anywhere (a shared app's too) adds content types and
    permissions to every new schema, so it must produce a new template."""
    from tenants.models import ProvisioningJob
    from tenants.services.schemas import tenant_migration_state

    before = tenant_migration_state()
    assert tenant_migration_state() == before
    monkeypatch.setattr(ProvisioningJob._meta, "permissions", [("retry_job", "Retry a job")])
    assert tenant_migration_state() != before


@pytest.mark.django_db(transaction=True)
def test_a_network_built_from_a_spare_is_the_replayed_schema(
    make_network: Callable[..., Network],
) -> None:
    replayed = make_network("replayed")
    assert schema_spares_fill(count=1) == 1
    spare = SpareSchema.objects.get()
    from_spare = make_network("from-spare")
    try:
        assert not SpareSchema.objects.exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [spare.name])
            assert cursor.fetchone() is None  # renamed, not copied
        ours, theirs = _catalog(from_spare.schema_name), _catalog(replayed.schema_name)
        for part in CATALOG:
            assert ours[part] == theirs[part], part
        # Functions pinned to their schema's search_path follow the rename: the ledger's
        # commit-time balance check runs inside the new schema.
        with tenant_context(from_spare):
            member = Member.objects.create_user("gift@nhs.net", "pw", full_name="Gift")
        with tenant_context(from_spare):
            gift_grant(member=member)
            assert member_balance(member=member) == 120
    finally:
        connection.set_schema_to_public()


@pytest.mark.django_db(transaction=True)
def test_provisioning_records_the_migration_state_it_built_the_schema_at(
    make_network: Callable[..., Network],
) -> None:
    """From a replayed template or from a spare, a new network is recorded at the current
    state, so `hexitime tenants migrate` leaves it alone."""
    from tenants.services.fleet import schemas_behind
    from tenants.services.schemas import tenant_migration_state

    state = tenant_migration_state()
    replayed = make_network("state-replayed")
    schema_spares_fill(count=1)
    assert SpareSchema.objects.get().state == state
    from_spare = make_network("state-from-spare")
    assert not SpareSchema.objects.exists()
    for network in (replayed, from_spare):
        assert Network.objects.get(pk=network.pk).migration_state == state
    assert schemas_behind(state=state) == []


@pytest.mark.django_db(transaction=True)
def test_spares_from_an_older_migration_state_are_dropped_not_used(
    make_network: Callable[..., Network],
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA _spare_old_state")
    SpareSchema.objects.create(name="_spare_old_state", state="0" * 64)
    assert schema_spares_fill(count=1) == 1
    assert list(SpareSchema.objects.values_list("state", flat=True)) == [
        schema_template_current().state
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = '_spare_old_state'")
        assert cursor.fetchone() is None
    make_network("uses-the-fresh-one")
    assert not SpareSchema.objects.exists()


class _Executes:
    """An execute wrapper that keeps every SQL string sent through Django's cursor."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(
        self,
        execute: Callable[..., object],
        sql_text: str,
        params: object,
        many: bool,
        context: dict[str, object],
    ) -> object:
        self.sent.append(sql_text)
        return execute(sql_text, params, many, context)


def _multi_statement(sent: list[str]) -> list[str]:
    from tests.platform.test_one_statement import statements_in

    return [text[:80] for text in sent if len(statements_in(text)) != 1]


def test_the_template_is_kept_and_replayed_one_statement_per_execute(db: None) -> None:
    from tenants.services.schemas import schema_build

    template = schema_template_current()
    assert template.statement_count == len(template.statements) > 50
    assert _multi_statement(template.statements) == []
    executes = _Executes()
    with transaction.atomic(), connection.execute_wrapper(executes):
        schema_build("net_one_by_one", template)
    connection.set_schema_to_public()
    assert len(executes.sent) == len(template.statements) + 2  # CREATE SCHEMA, search_path
    assert _multi_statement(executes.sent) == []


@pytest.mark.django_db(transaction=True)
def test_claiming_a_spare_sends_one_statement_per_execute(
    make_network: Callable[..., Network],
) -> None:
    assert schema_spares_fill(count=1) == 1
    executes = _Executes()
    with connection.execute_wrapper(executes):
        make_network("claims-a-spare")
    assert not SpareSchema.objects.exists()
    assert any(text.startswith("ALTER SCHEMA") for text in executes.sent)
    assert _multi_statement(executes.sent) == []
