from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from kernel.db import connection
from ledger.federation.selectors import federation_audit, federation_positions
from ledger.selectors import ledger_audit
from tenants.selectors import network_list


class Command(BaseCommand):
    help = "Check every ledger invariant in every network (or one) and in the federation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", metavar="SLUG", help="audit this network only")

    def handle(self, *args: Any, **options: Any) -> None:
        connection.set_schema_to_public()
        networks = network_list()
        if options["network"]:
            networks = networks.filter(slug=options["network"])
            if not networks.exists():
                raise CommandError(f"No network with the subdomain {options['network']!r}.")
        positions = federation_positions()
        failures = 0
        for network in networks:
            with tenant_context(network):
                report = ledger_audit(
                    network_name=network.slug, federation_position=positions.get(network.pk)
                )
            status = self.style.SUCCESS("ok") if report.clean else self.style.ERROR("MISMATCH")
            self.stdout.write(
                f"{network.slug:<24} {status:<8} {report.accounts:>6} accounts "
                f"{report.transfers:>8} transfers  sum {report.total_balance}"
            )
            for problem in report.problems:
                self.stdout.write(f"    {problem}")
            failures += not report.clean
        problems = federation_audit()
        label = self.style.SUCCESS("ok") if not problems else self.style.ERROR("MISMATCH")
        total = sum(positions.values())
        self.stdout.write(
            f"{'federation':<24} {label:<8} {len(positions):>6} networks  sum {total}"
        )
        for problem in problems:
            self.stdout.write(f"    {problem}")
        if failures or problems:
            raise CommandError(
                f"Ledger audit failed: {failures} network(s)"
                f"{' and the federation' if problems else ''} out of balance."
            )
        self.stdout.write(f"All {networks.count()} network ledgers and the federation balance.")
