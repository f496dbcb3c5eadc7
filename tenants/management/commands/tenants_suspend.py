"""`hexitime tenants suspend SLUG --reason ...`: suspend a network (data untouched)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import Network
from tenants.services.networks import network_suspend


class Command(BaseCommand):
    help = "Suspend a network: its pages show a suspended page and its API refuses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        network = Network.objects.filter(slug=options["slug"]).first()
        if network is None:
            raise CommandError(f"No network {options['slug']!r}.")
        network_suspend(network=network, actor=None, reason=options["reason"])
        self.stdout.write(f"{network.name} is suspended.")
