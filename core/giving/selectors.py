"""Reading gifts: a member's allowance, the community pot, and gifts for a member's record."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.members.models import Member, MemberState
from kernel.errors import NotFound
from ledger.models import Account

from .models import GIVEN_BY_MEMBERS, Gift, GiftKind, GivingSettings


def giving_settings() -> GivingSettings:
    """The network's limits (the row is made by migration)."""
    return GivingSettings.objects.get_or_create(pk=1)[0]


def month_start(now: datetime.datetime | None = None) -> datetime.datetime:
    """Midnight on the 1st of this calendar month, in the network's time zone: limits are
    per calendar month."""
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _month_sum(gifts: Q) -> int:
    found = Gift.objects.filter(gifts, created_at__gte=month_start()).aggregate(
        total=Sum("minutes", default=0)
    )
    return int(found["total"])


@dataclass(frozen=True)
class Allowance:
    limit_minutes: int
    given_minutes: int  # this calendar month

    @property
    def remaining_minutes(self) -> int:
        return max(self.limit_minutes - self.given_minutes, 0)


def gift_allowance(*, member: Member) -> Allowance:
    """How much the member may still give this month (two queries)."""
    given = _month_sum(Q(actor=member, kind__in=GIVEN_BY_MEMBERS))
    return Allowance(giving_settings().member_monthly_minutes, given)


def access_gift_recipient(member_id: int, *, member: Member) -> Member:
    """A member of this network whom `member` may open a gift form for: anyone listed
    among the members (the service refuses yourself and inactive accounts, saying why).
    Platform staff, closed accounts and ids from elsewhere are not found."""
    found = (
        Member.objects.filter(pk=member_id, is_staff=False)
        .exclude(state__in=[MemberState.CLOSED, MemberState.DECLINED])
        .first()
    )
    if found is None:
        raise NotFound(_("No such member."))
    return found


@dataclass(frozen=True)
class GrantLine:
    created_at: datetime.datetime
    minutes: int
    # Only for those who manage the pot: members see that grants were made, not to whom.
    recipient: str = ""
    reason: str = ""


@dataclass(frozen=True)
class PotSummary:
    balance_minutes: int
    limit_minutes: int  # grants a calendar month
    granted_minutes: int  # this month
    received_minutes: int  # given to the pot this month
    recent: list[GrantLine]

    @property
    def remaining_minutes(self) -> int:
        return max(self.limit_minutes - self.granted_minutes, 0)


def pot_summary(*, viewer: Member, recent: int = 20) -> PotSummary:
    """The community pot as `viewer` may see it: balance, this month's limit and grants,
    what members gave it this month, and the latest grants (to whom and why only for
    organisers; no one else sees a message or a reason). Five queries."""
    full = viewer.has_perm("giving.manage_pot")
    grants = Gift.objects.filter(kind=GiftKind.GRANT).select_related("recipient")
    lines = [
        GrantLine(
            created_at=grant.created_at,
            minutes=grant.minutes,
            recipient=_name(grant.recipient) if full else "",
            reason=grant.message if full else "",
        )
        for grant in grants.order_by("-created_at", "-id")[:recent]
    ]
    return PotSummary(
        balance_minutes=Account.objects.get(kind=Account.Kind.POT).balance,
        limit_minutes=giving_settings().pot_monthly_minutes,
        granted_minutes=_month_sum(Q(kind=GiftKind.GRANT)),
        received_minutes=_month_sum(Q(kind=GiftKind.POT)),
        recent=lines,
    )


def _name(member: Member | None) -> str:
    # A closed account's name is already "A former member" (core.members.services).
    return member.full_name if member is not None else ""


@dataclass(frozen=True)
class GiftLine:
    """One gift in a member's record, shown as "gift" (never as help given)."""

    gift_id: int
    created_at: datetime.datetime
    direction: str  # "given" or "received"
    minutes: int
    counterpart: str  # the other member, "“<project>” (QI project)" or "The community pot"
    message: str


def member_gifts(
    *, member: Member, start: datetime.date | None = None, end: datetime.date | None = None
) -> list[GiftLine]:
    """The gifts `member` gave and received from `start` to `end` (both days included, in
    the network's time zone), oldest first: date, minutes, the other side and the message
    (a grant's reason). For the member's own record, e.g. their CPD record. One query."""
    gifts = Gift.objects.filter(
        Q(actor=member, kind__in=GIVEN_BY_MEMBERS) | Q(recipient=member)
    ).select_related("actor", "recipient", "project")
    if start is not None:
        gifts = gifts.filter(created_at__date__gte=start)
    if end is not None:
        gifts = gifts.filter(created_at__date__lte=end)
    lines = []
    for gift in gifts.order_by("created_at", "id"):
        given = gift.actor_id == member.pk and gift.kind != GiftKind.GRANT
        lines.append(
            GiftLine(
                gift_id=gift.pk,
                created_at=gift.created_at,
                direction="given" if given else "received",
                minutes=gift.minutes,
                counterpart=_counterpart(gift, given=given),
                message=gift.message,
            )
        )
    return lines


def _counterpart(gift: Gift, *, given: bool) -> str:
    if gift.kind == GiftKind.GRANT or gift.kind == GiftKind.POT:
        return _("The community pot")
    if gift.kind == GiftKind.PROJECT and gift.project is not None:
        return _("“%(title)s” (QI project)") % {"title": gift.project.title}
    return _name(gift.recipient if given else gift.actor)
