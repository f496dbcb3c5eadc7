"""`hexitime tenants resume SLUG`: lift a network's suspension."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import Network
from tenants.services.networks import network_resume


class Command(BaseCommand):
    help = "Resume a suspended network."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        network = Network.objects.filter(slug=options["slug"]).first()
        if network is None:
            raise CommandError(f"No network {options['slug']!r}.")
        network_resume(network=network, actor=None, reason=options["reason"])
        self.stdout.write(f"{network.name} is active.")
