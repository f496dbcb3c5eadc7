"""Giving credit and granting from the community pot.

Every gift is one ledger transfer keyed `giving:<actor id>:<key>` plus one `Gift` row with
the same `(actor, key)`: the key names the request (a form's hidden key, the API's
`Idempotency-Key`, or one made per request), so sending it again returns the first gift
and moves nothing; the same key with other details is refused.

Limits and locks: a member's gifts lock that member's row first, so two gifts at once
are counted one after the other against the member's monthly limit; grants lock the
network's one `GivingSettings` row first, so two organisers granting at once are counted
one after the other against the pot's monthly limit. The ledger then locks the accounts
(in id order, as always) and refuses what the giver, or the pot, does not have.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.members.models import Member, MemberState
from core.members.services import member_require_joined
from core.notifications.models import Kind
from core.notifications.services import notification_send
from core.projects.models import Project
from kernel.db import durable_service
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.text import plain_text
from ledger.models import Transfer
from ledger.services import (
    InsufficientCredit,
    Leg,
    member_account,
    minutes_as_text,
    pot_account,
    project_account,
    transfer_create,
)

from .models import (
    GIVEN_BY_MEMBERS,
    LIMIT_MAX_MINUTES,
    STEP_MINUTES,
    Gift,
    GiftKind,
    GivingSettings,
)
from .selectors import giving_settings, month_start

# The most one gift may be: the largest monthly limit an organiser can set.
GIFT_MAX_MINUTES = LIMIT_MAX_MINUTES
MESSAGE_LIMIT = 500
LEDGER_KEY_LIMIT = Transfer._meta.get_field("idempotency_key").max_length or 200


class GiftRefused(ApplicationError):
    pass


def _minutes(value: object, *, field: str = "minutes", most: int = GIFT_MAX_MINUTES) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value % STEP_MINUTES:
        raise GiftRefused(_("Give whole or quarter hours."), field=field)
    if not STEP_MINUTES <= value <= most:
        raise GiftRefused(
            _("Give between 15 minutes and %(most)s.") % {"most": minutes_as_text(most)},
            field=field,
        )
    return value


def _key(value: object) -> str:
    key = str(value or "").strip()
    if not 1 <= len(key) <= 255:
        raise GiftRefused(_("This gift needs a key of 1 to 255 characters."), field="key")
    return key


def _receiver_check(recipient: Member, *, actor: Member) -> Member:
    """The recipient, re-read: an active member of this network other than the actor."""
    if recipient.pk == actor.pk:
        raise GiftRefused(_("You cannot give credit to yourself."), field="recipient")
    fresh = Member.objects.filter(pk=recipient.pk, is_staff=False).first()
    if fresh is None:
        raise NotFound(_("No such member."))
    if fresh.state != MemberState.ACTIVE or not fresh.is_active:
        raise GiftRefused(
            _("%(name)s's account is not active, so they cannot receive credit.")
            % {"name": fresh.full_name},
            field="recipient",
        )
    return fresh


def _repeat(existing: Gift, **details: Any) -> Gift:
    """The gift an earlier request with this key made, if it had these details."""
    same = all(getattr(existing, name) == value for name, value in details.items())
    if not same:
        raise GiftRefused(
            _("This gift was already sent with other details; nothing more was given."),
            field="key",
        )
    return existing


def _month_total(gifts: QuerySet[Gift]) -> int:
    return sum(gifts.filter(created_at__gte=month_start()).values_list("minutes", flat=True))


def _post(*, actor: Member, key: str, legs: list[Leg], kind: Transfer.Kind, memo: str) -> Transfer:
    ledger_key = f"giving:{actor.pk}:{key}"
    if len(ledger_key) > LEDGER_KEY_LIMIT:  # a long client key: its digest, still unique
        ledger_key = f"giving:{actor.pk}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return transfer_create(idempotency_key=ledger_key, legs=legs, kind=kind, memo=memo, actor=actor)


@durable_service
def gift_give(
    *,
    actor: Member,
    minutes: int,
    message: str,
    key: str,
    recipient: Member | None = None,
    project: Project | None = None,
) -> Gift:
    """The actor gives `minutes` of their own credit to `recipient` (an active member of
    this network, not themselves), to `project` (a funded QI project), or, with neither,
    to the network's community pot, with an optional message. One transfer, an audit
    event and a notification to the receiver (a project's lead), in one transaction.

    Locks the actor's member row first: their gifts this calendar month, this one
    included, stay within the network's limit however many arrive at once. Refused
    (nothing written) beyond the limit or the actor's credit. Idempotent by `key`."""
    if recipient is not None and project is not None:
        raise GiftRefused(_("Give to one member, one project or the pot at a time."))
    member_require_joined(actor, before=_("giving credit"))
    minutes = _minutes(minutes)
    key = _key(key)
    message = plain_text(
        message, name="message", limit=MESSAGE_LIMIT, missing=None, refusal=GiftRefused
    )
    kind = GiftKind.MEMBER if recipient else GiftKind.PROJECT if project else GiftKind.POT
    giver = Member.objects.select_for_update().get(pk=actor.pk)
    existing = Gift.objects.filter(actor=giver, key=key).first()
    if existing is not None:
        return _repeat(
            existing,
            kind=kind,
            minutes=minutes,
            message=message,
            recipient_id=recipient.pk if recipient else None,
            project_id=project.pk if project else None,
        )
    if recipient is not None:
        recipient = _receiver_check(recipient, actor=giver)
        to_account, transfer_kind, memo = (
            member_account(recipient),
            Transfer.Kind.GIFT_MEMBER,
            message,
        )
    elif project is not None:
        project = Project.objects.select_for_update().select_related("lead").get(pk=project.pk)
        if project.state != Project.State.APPROVED:
            raise GiftRefused(_("Only a funded project that is still running can receive credit."))
        title = f"“{project.title}”"
        to_account, transfer_kind = project_account(project.pk), Transfer.Kind.GIFT_PROJECT
        memo = f"{title}: {message}" if message else title
    else:
        to_account, transfer_kind, memo = pot_account(), Transfer.Kind.GIFT_POT, message
    limit = giving_settings().member_monthly_minutes
    given = _month_total(Gift.objects.filter(actor=giver, kind__in=GIVEN_BY_MEMBERS))
    if given + minutes > limit:
        raise GiftRefused(
            _(
                "You can give up to %(limit)s a month and have given %(given)s this month, "
                "so you can give %(left)s more until the 1st."
            )
            % {
                "limit": minutes_as_text(limit),
                "given": minutes_as_text(given),
                "left": minutes_as_text(max(limit - given, 0)),
            },
            field="minutes",
            remaining_minutes=max(limit - given, 0),
        )
    try:
        legs = [Leg(member_account(giver), -minutes), Leg(to_account, minutes)]
        transfer = _post(actor=giver, key=key, kind=transfer_kind, memo=memo[:500], legs=legs)
    except InsufficientCredit as refused:
        left = max(refused.extra["balance"] - refused.extra["floor"], 0)
        raise GiftRefused(
            _(
                "You have %(left)s of credit, so you cannot give %(minutes)s. Give less, or "
                "offer some help to earn more."
            )
            % {"left": minutes_as_text(left), "minutes": minutes_as_text(minutes)},
            field="minutes",
            available_minutes=left,
        ) from None
    gift = Gift.objects.create(
        kind=kind,
        actor=giver,
        recipient=recipient,
        project=project,
        minutes=minutes,
        message=message,
        key=key,
        transfer=transfer,
    )
    audit_record(
        actor=giver,
        verb="gift.give",
        target=gift,
        after={
            "kind": kind,
            "minutes": minutes,
            "recipient": recipient.pk if recipient else None,
            "project": project.pk if project else None,
        },
    )
    _tell_receiver(gift, giver=giver, project=project)
    return gift


def _tell_receiver(gift: Gift, *, giver: Member, project: Project | None) -> None:
    amount = minutes_as_text(gift.minutes)
    if gift.recipient is not None:
        notification_send(
            recipient=gift.recipient,
            kind=Kind.GIFT_RECEIVED,
            key=f"gift:{gift.pk}",
            title=(
                _("%(name)s gave you %(amount)s of credit")
                % {"name": giver.full_name, "amount": amount}
            )[:200],
            body=gift.message,
            url="/ledger/statement/",
        )
    elif project is not None:
        notification_send(
            recipient=project.lead,
            kind=Kind.GIFT_RECEIVED,
            key=f"gift:{gift.pk}",
            title=(
                _("%(name)s gave %(amount)s to “%(project)s”")
                % {"name": giver.full_name, "amount": amount, "project": project.title}
            )[:200],
            body=gift.message,
            url=f"/projects/{project.pk}/",
        )


@durable_service
def pot_grant(*, actor: Member, recipient: Member, minutes: int, reason: str, key: str) -> Gift:
    """An organiser grants `minutes` from the community pot to an active member (not
    themselves), saying why; the member sees the reason. One transfer, an audit event
    with the reason and a notification, in one transaction.

    Locks the network's giving settings row first: all grants this calendar month, this
    one included, stay within the pot's monthly limit, however many organisers grant at
    once. Refused beyond the limit or what the pot holds. Idempotent by `key`."""
    if not actor.has_perm("giving.manage_pot"):
        raise PermissionDenied(_("Only the network's organisers can grant from the pot."))
    minutes = _minutes(minutes)
    key = _key(key)
    reason = plain_text(
        reason,
        name="reason",
        limit=MESSAGE_LIMIT,
        missing=_("Please say why the member receives this grant."),
        refusal=GiftRefused,
    )
    limits = GivingSettings.objects.select_for_update().get(pk=1)
    existing = Gift.objects.filter(actor=actor, key=key).first()
    if existing is not None:
        return _repeat(
            existing,
            kind=GiftKind.GRANT,
            minutes=minutes,
            message=reason,
            recipient_id=recipient.pk,
        )
    if recipient.pk == actor.pk:
        raise GiftRefused(
            _("You cannot grant to yourself: ask another organiser."), field="recipient"
        )
    recipient = _receiver_check(recipient, actor=actor)
    granted = _month_total(Gift.objects.filter(kind=GiftKind.GRANT))
    if granted + minutes > limits.pot_monthly_minutes:
        left = max(limits.pot_monthly_minutes - granted, 0)
        raise GiftRefused(
            _(
                "The pot may grant %(limit)s a month and has granted %(granted)s this month, "
                "so %(left)s more until the 1st."
            )
            % {
                "limit": minutes_as_text(limits.pot_monthly_minutes),
                "granted": minutes_as_text(granted),
                "left": minutes_as_text(left),
            },
            field="minutes",
            remaining_minutes=left,
        )
    try:
        legs = [Leg(pot_account(), -minutes), Leg(member_account(recipient), minutes)]
        transfer = _post(actor=actor, key=key, kind=Transfer.Kind.POT_GRANT, memo=reason, legs=legs)
    except InsufficientCredit as refused:
        left = max(refused.extra["balance"] - refused.extra["floor"], 0)
        raise GiftRefused(
            _("The pot holds %(left)s, so it cannot grant %(minutes)s.")
            % {"left": minutes_as_text(left), "minutes": minutes_as_text(minutes)},
            field="minutes",
            available_minutes=left,
        ) from None
    gift = Gift.objects.create(
        kind=GiftKind.GRANT,
        actor=actor,
        recipient=recipient,
        minutes=minutes,
        message=reason,
        key=key,
        transfer=transfer,
    )
    audit_record(
        actor=actor,
        verb="pot.grant",
        target=gift,
        reason=reason,
        after={"minutes": minutes, "recipient": recipient.pk},
    )
    notification_send(
        recipient=recipient,
        kind=Kind.GIFT_RECEIVED,
        key=f"gift:{gift.pk}",
        title=_("You received %(amount)s of credit from the community pot")
        % {"amount": minutes_as_text(minutes)},
        body=reason,
        url="/ledger/statement/",
    )
    return gift


@durable_service
def giving_settings_update(
    *, actor: Member, member_monthly_minutes: int, pot_monthly_minutes: int
) -> GivingSettings:
    """An organiser sets the monthly limits (0 stops giving, or grants, until raised);
    audited with the values before and after. Gifts already made stand."""
    if not actor.has_perm("giving.manage_pot"):
        raise PermissionDenied(_("Only the network's organisers can set the giving limits."))
    values: dict[str, object] = {  # checked below, whatever a caller passed
        "member_monthly_minutes": member_monthly_minutes,
        "pot_monthly_minutes": pot_monthly_minutes,
    }
    for field, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value % STEP_MINUTES:
            raise GiftRefused(_("Set whole or quarter hours."), field=field)
        if not 0 <= value <= LIMIT_MAX_MINUTES:
            raise GiftRefused(
                _("Set between 0 and %(most)s.") % {"most": minutes_as_text(LIMIT_MAX_MINUTES)},
                field=field,
            )
    limits = GivingSettings.objects.select_for_update().get(pk=1)
    before = {field: getattr(limits, field) for field in values}
    for field, value in values.items():
        setattr(limits, field, value)
    limits.save(update_fields=list(values))
    audit_record(actor=actor, verb="giving.settings", target=limits, before=before, after=values)
    return limits
