"""Platform staff actions that take a network's data out or away: export (a zip of every
table of its schema) and delete (after a recent export and a typed confirmation).
Suspending and resuming are in tenants.services.networks."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.db import models, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit.services import audit_record
from core.members.models import Member
from core.members.services import member_require_staff
from kernel.csvfile import CsvWriter
from kernel.errors import ApplicationError
from kernel.storage import network_media_delete
from ledger.federation.selectors import federation_transfers_of
from tenants.models import Network, NetworkExport

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


def network_export(*, actor: Member, network: Network) -> bytes:
    """A zip of the network's data: for every table of its schema, `<model>.json` (Django's
    serialisation) and `<model>.csv`. Password hashes, API tokens and equality monitoring
    answers are left out. Records
    the export (with its checksum) and an audit event in the public schema."""
    member_require_staff(actor)
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
    member_require_staff(actor)
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
