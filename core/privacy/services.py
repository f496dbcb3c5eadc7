"""A member's download of their data, and closing their account (docs/privacy.md)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.announcements.services import announcements_erase_for_member
from core.audit.services import audit_actor_labels_erase, audit_record
from core.cpd.services import cpd_erase_for_member
from core.exchanges.services import exchanges_close_for_member
from core.groupsessions.services import sessions_close_for_member
from core.insights.services.equality import equality_answers_erase
from core.listings.services import listings_withdraw_for_member
from core.members.models import FORMER_MEMBER_NAME, ApiToken, Member, MemberState, Role
from core.members.services import member_blocks_erase, member_erase
from core.notifications.services import notifications_erase_for_member
from core.stories.services import stories_erase_for_member
from kernel.db import connection, durable_service
from kernel.errors import ApplicationError
from ledger.selectors import member_balance
from ledger.services import closure_credit_return, transfer_actor_labels_erase
from tenants.models import Network

from .selectors import member_data_zip


class ClosureRefused(ApplicationError):
    pass


def _network() -> Network:
    return Network.objects.get(schema_name=connection.schema_name)


@durable_service
def member_data_export(*, actor: Member) -> bytes:
    """The acting member's own data as a zip (only theirs: there is no member argument).
    Audited, by id only, so organisers can account for every export."""
    archive = member_data_zip(member=actor, network=_network())
    audit_record(actor=actor, verb="member.data_export", target=actor)
    return archive


@durable_service
def member_close(*, actor: Member, password: str) -> Member:
    """Close the acting member's own account, after checking their password.

    In one transaction, with the member's row locked (after every organiser's, in id
    order, as role changes lock them): their unfinished exchanges end, the other side
    told (`exchanges_close_for_member`); they leave the group sessions they give and have
    booked (`sessions_close_for_member`); their listings are withdrawn; their remaining
    credit returns to the network through the ledger (`closure_credit_return`; the account
    and its history stay); their equality answers, notifications, email choices, the addresses
    announcements were emailed to, API
    tokens, CPD reflections and issued records, and stories are deleted; the transfers and
    audit events they acted in name them "A former member"; their row is anonymised
    (`member_erase`), its photo deleted after commit. The audit record carries ids and
    states only. Refused, with nothing changed, for a wrong password, the network's only
    organiser, a dispute still open, or a session they gave still settling."""
    if not password or not actor.check_password(password):
        raise ClosureRefused(_("That is not your password. Nothing was changed."), field="password")
    organisers = list(
        Member.objects.select_for_update()
        .filter(role=Role.ORGANISER, state=MemberState.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    member = Member.objects.select_for_update().get(pk=actor.pk)
    if member.state == MemberState.CLOSED:
        raise ClosureRefused(_("This account is already closed."))
    if organisers == [member.pk]:
        raise ClosureRefused(
            _(
                "You are this network's only organiser. Name another organiser first, so the "
                "network is not left without one."
            )
        )
    cancelled = exchanges_close_for_member(member=member, network=_network())
    sessions_cancelled = sessions_close_for_member(member=member)
    withdrawn = listings_withdraw_for_member(member=member)
    returned = member_balance(member=member)
    closure_credit_return(member=member)
    equality_answers_erase(member=member)
    notifications_erase_for_member(member=member)
    announcements_erase_for_member(member=member)
    cpd_erase_for_member(member=member)
    stories_erase_for_member(member=member)
    member_blocks_erase(member=member)
    ApiToken.objects.filter(member=member).delete()
    called = [member.full_name, member.email]
    transfer_actor_labels_erase(actor_id=member.pk, labels=called, label=FORMER_MEMBER_NAME)
    audit_actor_labels_erase(actor_id=member.pk, labels=called, label=FORMER_MEMBER_NAME)
    before = member_erase(member)
    audit_record(
        actor=member,
        verb="member.close",
        target=member,
        before=before,
        after={
            "state": member.state,
            "exchanges_cancelled": cancelled,
            "sessions_cancelled": sessions_cancelled,
            "listings_withdrawn": withdrawn,
            "minutes_returned": returned,
        },
    )
    return member
