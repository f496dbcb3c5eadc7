"""The network's rules for exchanges (one row), changed by organisers, and the record of
an organiser exporting every exchange."""

from __future__ import annotations

from core.audit.services import audit_record
from core.members.models import Member
from hexitime.db import connection, durable_service
from hexitime.errors import PermissionDenied

from ..models import ExchangeSettings
from .common import ExchangeRefused


def exchange_settings() -> ExchangeSettings:
    settings, _ = ExchangeSettings.objects.get_or_create(pk=1)
    return settings


@durable_service
def exchange_settings_update(*, actor: Member, auto_confirm_days: int) -> ExchangeSettings:
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied("Only organisers can change the exchange rules.")
    if not isinstance(auto_confirm_days, int) or not 1 <= auto_confirm_days <= 60:
        raise ExchangeRefused("Choose between 1 and 60 days.", field="auto_confirm_days")
    settings = ExchangeSettings.objects.select_for_update().get_or_create(pk=1)[0]
    before = {"auto_confirm_days": settings.auto_confirm_days}
    settings.auto_confirm_days = auto_confirm_days
    settings.save()
    audit_record(
        actor=actor,
        verb="exchange.settings",
        target=settings,
        before=before,
        after={"auto_confirm_days": auto_confirm_days},
    )
    return settings


@durable_service
def exchanges_export_record(*, actor: Member) -> None:
    """Record in the network's audit log that `actor` exported every exchange (names of
    both sides, hours, dates): an export, which organisers account for. Refused to anyone
    without `exchanges.view_all_exchanges`. Call it before the export is sent."""
    if not actor.has_perm("exchanges.view_all_exchanges"):
        raise PermissionDenied("Only organisers can export the network's exchanges.")
    audit_record(actor=actor, verb="exchanges.export", target=connection.tenant,
                 after={"format": "csv"})  # fmt: skip
