"""The network's rules for exchanges (one row), changed by organisers."""

from __future__ import annotations

from django.db import transaction

from core.audit.services import audit_record
from core.members.models import Member
from hexitime.errors import PermissionDenied

from ..models import ExchangeSettings
from .common import ExchangeRefused


def exchange_settings() -> ExchangeSettings:
    settings, _ = ExchangeSettings.objects.get_or_create(pk=1)
    return settings


def exchange_settings_update(*, actor: Member, auto_confirm_days: int) -> ExchangeSettings:
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied("Only organisers can change the exchange rules.")
    if not isinstance(auto_confirm_days, int) or not 1 <= auto_confirm_days <= 60:
        raise ExchangeRefused("Choose between 1 and 60 days.", field="auto_confirm_days")
    with transaction.atomic(durable=True):
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
