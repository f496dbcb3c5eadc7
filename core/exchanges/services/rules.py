"""The network's rules for exchanges (one row), changed by organisers: auto-confirmation
and the safeguarding contact shown on every exchange page; and the record of an organiser
exporting every exchange."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.exchanges.models import ExchangeSettings
from core.members.models import Member
from kernel.cache import cache_forget, cache_kept
from kernel.db import durable_service
from kernel.errors import ApplicationError, PermissionDenied
from kernel.text import plain_text
from tenants.selectors import network_current

from .common import ExchangeRefused

# The rules are shown on every exchange page, so they are kept in the cache (keys carry
# the network's schema) and forgotten when an organiser changes them. With Redis down
# they are read from the database.
SETTINGS_KEY = "exchanges:settings"
SETTINGS_SECONDS = 300


def exchange_settings() -> ExchangeSettings:
    """The network's rules for exchanges (created with their defaults when first read)."""
    return cache_kept(
        SETTINGS_KEY, SETTINGS_SECONDS, lambda: ExchangeSettings.objects.get_or_create(pk=1)[0]
    )


def _days(value: object) -> int:
    """Days from 1 to 60, or a refusal saying so (whatever a caller passed)."""
    if not isinstance(value, int) or not 1 <= value <= 60:
        raise ExchangeRefused(_("Choose between 1 and 60 days."), field="auto_confirm_days")
    return value


@durable_service
def exchange_settings_update(*, actor: Member, auto_confirm_days: int) -> ExchangeSettings:
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied(_("Only organisers can change the exchange rules."))
    auto_confirm_days = _days(auto_confirm_days)
    settings = ExchangeSettings.objects.select_for_update().get_or_create(pk=1)[0]
    before = {"auto_confirm_days": settings.auto_confirm_days}
    settings.auto_confirm_days = auto_confirm_days
    settings.save()
    cache_forget(SETTINGS_KEY)
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
        raise PermissionDenied(_("Only organisers can export the network's exchanges."))
    audit_record(
        actor=actor, verb="exchanges.export", target=network_current(), after={"format": "csv"}
    )


class SafeguardingRefused(ApplicationError):
    """The safeguarding contact as given cannot be saved (400: the input, not the state)."""


SAFEGUARDING_FIELDS = {"name": 150, "role": 150, "email": 254, "phone": 40, "note": 500}


@durable_service
def safeguarding_contact_set(
    *,
    actor: Member,
    name: str,
    role: str = "",
    email: str = "",
    phone: str = "",
    note: str = "",
) -> ExchangeSettings:
    """An organiser names the network's safeguarding contact (a name, and an email address
    or a phone number to reach them), or clears it with an empty name and nothing else.
    Every field is checked before anything is saved. Audited with before and after."""
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied(_("Only organisers can name the safeguarding contact."))
    given = {"name": name, "role": role, "email": email, "phone": phone, "note": note}
    values = {
        field: plain_text(
            value,
            name=field,
            limit=SAFEGUARDING_FIELDS[field],
            missing=None,
            refusal=SafeguardingRefused,
        )
        for field, value in given.items()
    }
    values["email"] = values["email"].lower()
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            raise SafeguardingRefused(
                _("Enter an email address like safeguarding@nhs.net."), field="email"
            ) from None
    if not values["name"] and any(values.values()):
        raise SafeguardingRefused(_("Give the contact's name."), field="name")
    if values["name"] and not (values["email"] or values["phone"]):
        raise SafeguardingRefused(
            _("Give an email address or a phone number to reach them."), field="email"
        )
    settings = ExchangeSettings.objects.select_for_update().get_or_create(pk=1)[0]
    before = {field: getattr(settings, f"safeguarding_{field}") for field in values}
    for field, value in values.items():
        setattr(settings, f"safeguarding_{field}", value)
    settings.save()
    cache_forget(SETTINGS_KEY)
    audit_record(
        actor=actor,
        verb="exchange.safeguarding_contact",
        target=settings,
        before=before,
        after=values,
    )
    return settings
