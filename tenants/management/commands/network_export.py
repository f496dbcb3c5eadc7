"""`hexitime network export SLUG [--output FILE]`: one network, with its public rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kernel.errors import ApplicationError
from tenants.models import Network
from tenants.services.archives import network_archive_export


class Command(BaseCommand):
    help = (
        "Write one network (its schema and its public-schema rows, from one snapshot) to a "
        "zip that `hexitime network import` restores."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--output", help="default: <slug>-<UTC time>.hexitime.zip")

    def handle(self, *args: Any, **options: Any) -> None:
        network = Network.objects.filter(slug=options["slug"]).first()
        if network is None:
            raise CommandError(f"No network {options['slug']!r}.")
        try:
            data = network_archive_export(network=network)
        except ApplicationError as refused:
            raise CommandError(refused.message) from None
        path = Path(
            options["output"] or f"{network.slug}-{timezone.now():%Y%m%dT%H%MZ}.hexitime.zip"
        )
        path.write_bytes(data)
        self.stdout.write(f"{network.name} exported to {path} ({len(data)} bytes).")
