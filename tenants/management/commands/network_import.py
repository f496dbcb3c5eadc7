"""`hexitime network import FILE`: restore one network from `hexitime network export`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kernel.errors import ApplicationError
from tenants.services.archives import network_archive_import


class Command(BaseCommand):
    help = (
        "Restore one network from an export, in one transaction: its schema replaced, its "
        "public rows recreated if it was deleted, its side of later federated transfers "
        "posted again. Refused, with nothing changed, if it would break any ledger."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            network = network_archive_import(
                data=Path(options["file"]).read_bytes(), on_step=self.stdout.write
            )
        except (ApplicationError, OSError) as refused:
            message = getattr(refused, "message", str(refused))
            raise CommandError(f"Import refused, nothing changed: {message}") from None
        self.stdout.write(f"{network.name} is restored; its ledger audits clean.")
