"""The scale-out suite: Hexitime on a real Citus 13 cluster with schema-based sharding.

    HEXITIME_CITUS_URL=postgresql://postgres@127.0.0.1:9700/hexitime make test ARGS=tests/scaleout

It runs against the coordinator that HEXITIME_CITUS_URL names, on its own pytest run, and is
skipped, saying why, when the variable is unset (as on CI) or when other tests share the
run. It does not create a `test_` database: on Citus a new database needs the extension
created in it on the coordinator and on every worker, and its nodes registered again. It
uses the named database as it is (the one the operator prepared for these tests), with
real commits, and drops every network it made afterwards. docs/operations/citus.md tells
how to prepare a cluster; docs/decisions.md why the suite works this way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from hexitime.settings.env import database_from_url
from kernel.db import connection

if TYPE_CHECKING:
    from pytest_django import DjangoDbBlocker

CITUS_URL = os.environ.get("HEXITIME_CITUS_URL", "")
_HERE = os.path.dirname(__file__)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if str(item.path).startswith(_HERE)]
    if not CITUS_URL:
        reason = "HEXITIME_CITUS_URL is not set: these tests need a Citus 13 coordinator"
    elif len(ours) != len(items):
        reason = "run tests/scaleout on its own: it points the whole session at the coordinator"
    else:
        return
    for item in ours:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def django_db_setup() -> None:
    """Replaces the suite's test-database setup (and its `test_` name check) for this
    directory: the coordinator's database is used as it is, never created or flushed."""


@pytest.fixture(scope="session")
def citus(django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """Point every connection (this thread's and any thread's) at the coordinator, migrate
    its public schema, and afterwards drop the networks and spare schemas the suite made."""
    target = database_from_url(CITUS_URL)
    connection.close()
    connections.settings["default"].update(
        {key: target[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    )
    with django_db_blocker.unblock():
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        from tenants.services.networks import platform_bootstrap

        platform_bootstrap()
        yield
        _clean_up()
    connection.close()


def _clean_up() -> None:
    from django.db.models import Q

    from ledger.federation.models import FederationTransfer
    from tenants.models import Network, SpareSchema

    connection.set_schema_to_public()
    ours = Q(payer__network__slug__startswith="scaleout-") | Q(
        payee__network__slug__startswith="scaleout-"
    )
    # Federation transfers are append-only by trigger; only a superuser's replica-role
    # transaction (triggers off for it alone) clears the cluster's test rows.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        FederationTransfer.objects.filter(ours).delete()
    for network in Network.objects.filter(slug__startswith="scaleout-"):
        network.delete(force_drop=True)
    for spare in SpareSchema.objects.all():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{spare.name}" CASCADE')
        spare.delete()
