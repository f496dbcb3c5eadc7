from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kernel.db import connection
from tenants.demo import DEMO_PASSWORD, demo_load, demo_logins


class Command(BaseCommand):
    help = "Load the demonstration networks (only those that do not exist yet)."

    def handle(self, *args: Any, **options: Any) -> None:
        connection.set_schema_to_public()
        created = demo_load()
        self.stdout.write(f"Created {len(created)} demonstration network(s).")
        for where, email in demo_logins():
            self.stdout.write(f"  {where}: {email} / {DEMO_PASSWORD}")
