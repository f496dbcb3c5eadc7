"""`hexitime manage email_bounce SLUG ADDRESS --reason ...`: record that mail to an address
of a network bounced (what the mail relay's bounce report says)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django_tenants.utils import tenant_context

from core.announcements.services import recipients_bounced
from tenants.models import Network


class Command(BaseCommand):
    help = "Record a bounce for an address: it is not mailed again until it changes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("address")
        parser.add_argument("--reason", default="Bounced (reported by the mail relay)")

    def handle(self, *args: Any, **options: Any) -> None:
        network = Network.objects.filter(slug=options["slug"]).first()
        if network is None:
            raise CommandError(f"No network {options['slug']!r}.")
        try:
            validate_email(options["address"])
        except ValidationError:
            raise CommandError(f"{options['address']!r} is not an email address.") from None
        with tenant_context(network):
            count = recipients_bounced(address=options["address"], reason=options["reason"])
        self.stdout.write(f"Recorded the bounce; {count} announcement email(s) now bounced.")
