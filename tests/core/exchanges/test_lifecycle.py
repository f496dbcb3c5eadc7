from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.exchanges import services as x
from core.exchanges.models import Exchange, Proposal, State
from core.listings.services import listing_create
from core.notifications.models import Kind, Notification
from kernel.errors import NotFound, PermissionDenied
from ledger.models import Transfer
from ledger.services import InsufficientCredit, member_account

from .conftest import soon, to_recorded, yesterday

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.listings.models import Listing
    from core.members.models import Member
    from kernel.errors import ApplicationError
    from tenants.models import Network


def balance(member: Member) -> int:
    return member_account(member).balance


def test_an_offer_goes_from_response_to_credit_moved(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        assert (exchange.giver, exchange.receiver, exchange.state) == (alice, bob, State.RESPONDED)
        x.exchange_accept(actor=alice, exchange=exchange)
        first = x.exchange_propose(actor=bob, exchange=exchange, starts_at=soon(), place="Room 4")
        counter = x.exchange_propose(
            actor=alice, exchange=exchange, starts_at=soon(72), place="https://meet.example/x"
        )
        first.refresh_from_db()
        assert first.status == Proposal.Status.SUPERSEDED
        exchange = x.exchange_agree(actor=bob, exchange=exchange, proposal_id=counter.pk)
        assert exchange.state == State.SCHEDULED
        assert exchange.meeting_place == "https://meet.example/x"
        with time_machine.travel(soon(73)):  # after the meeting
            x.exchange_record_hours(actor=alice, exchange=exchange, minutes=90)
            exchange = x.exchange_confirm(actor=bob, exchange=exchange)

        assert exchange.state == State.COMPLETED
        assert (balance(alice), balance(bob)) == (120 + 90, 120 - 90)
        transfer = Transfer.objects.get(idempotency_key=f"exchange:{exchange.pk}:complete")
        assert transfer.kind == Transfer.Kind.EXCHANGE
        kinds = set(Notification.objects.values_list("kind", flat=True))
        assert {
            Kind.RESPONSE_RECEIVED,
            Kind.RESPONSE_ACCEPTED,
            Kind.MEETING_PROPOSED,
            Kind.CONFIRM_HOURS,
            Kind.HOURS_CONFIRMED,
        } <= kinds
        assert Notification.objects.get(kind=Kind.HOURS_CONFIRMED).recipient == alice


def test_on_a_request_the_owner_receives_and_the_responder_gives(
    network_a: Network, people: tuple[Member, Member, Member, Member]
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        request = listing_create(
            actor=bob,
            kind="request",
            title="Help with run charts",
            description="I need a hand",
            category="data",
        )
        exchange = x.exchange_respond(actor=alice, listing=request, message="I can help")
        assert (exchange.giver, exchange.receiver) == (alice, bob)
        with pytest.raises(PermissionDenied):
            x.exchange_accept(actor=alice, exchange=exchange)  # only the owner accepts
        x.exchange_accept(actor=bob, exchange=exchange)
        x.exchange_record_hours(actor=alice, exchange=exchange, minutes=60, met_on=yesterday())
        x.exchange_confirm(actor=bob, exchange=exchange)
        assert (balance(alice), balance(bob)) == (180, 60)


@pytest.mark.parametrize(
    ("move", "error"),
    [
        (lambda e, a, b: x.exchange_confirm(actor=b, exchange=e), x.ExchangeRefused),
        (
            lambda e, a, b: x.exchange_record_hours(actor=a, exchange=e, minutes=60),
            x.ExchangeRefused,
        ),
        (lambda e, a, b: x.exchange_accept(actor=b, exchange=e), PermissionDenied),
        (lambda e, a, b: x.exchange_dispute(actor=b, exchange=e, reason="no"), x.ExchangeRefused),
        (
            lambda e, a, b: x.exchange_propose(actor=b, exchange=e, starts_at=soon(), place="Here"),
            x.ExchangeRefused,
        ),
        (lambda e, a, b: x.thanks_give(actor=b, exchange=e, text="Thanks"), x.ExchangeRefused),
    ],
)
def test_moves_out_of_turn_are_refused_and_change_nothing(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    move: Callable[[Exchange, Member, Member], object],
    error: type[ApplicationError],
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hello")
        with pytest.raises(error) as refusal:
            move(exchange, alice, bob)
        assert refusal.value.message  # a sentence for the member, not a stack trace
        exchange.refresh_from_db()
        assert exchange.state == State.RESPONDED
        assert not Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).exists()


def test_every_wrong_person_and_wrong_state_is_refused(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, eve = people
    with tenant_context(network_a):
        with pytest.raises(x.ExchangeRefused, match="your own listing"):
            x.exchange_respond(actor=alice, listing=offer, message="Me?")
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hello")
        with pytest.raises(x.ExchangeRefused, match="already have an exchange"):
            x.exchange_respond(actor=bob, listing=offer, message="Hello again")
        with pytest.raises(NotFound):
            x.exchange_accept(actor=eve, exchange=exchange)
        x.exchange_accept(actor=alice, exchange=exchange)
        with pytest.raises(x.ExchangeRefused, match="agreeing a time"):
            x.exchange_accept(actor=alice, exchange=exchange)
        mine = x.exchange_propose(actor=bob, exchange=exchange, starts_at=soon(), place="Here")
        with pytest.raises(x.ExchangeRefused, match="Wait for the other person"):
            x.exchange_agree(actor=bob, exchange=exchange, proposal_id=mine.pk)
        with pytest.raises(x.ExchangeRefused, match="future"):
            x.exchange_propose(actor=bob, exchange=exchange, starts_at=soon(-1), place="Here")
        with pytest.raises(PermissionDenied, match="giving help"):
            x.exchange_record_hours(actor=bob, exchange=exchange, minutes=60)
        for minutes in (0, 20, 14, 13 * 60):
            with pytest.raises(x.ExchangeRefused):
                x.exchange_record_hours(
                    actor=alice, exchange=exchange, minutes=minutes, met_on=yesterday()
                )
        x.exchange_record_hours(actor=alice, exchange=exchange, minutes=45, met_on=yesterday())
        with pytest.raises(PermissionDenied, match="receiving help"):
            x.exchange_confirm(actor=alice, exchange=exchange)
        with pytest.raises(PermissionDenied):
            x.exchange_cancel(actor=bob, exchange=exchange)  # confirm or dispute instead
        x.exchange_confirm(actor=bob, exchange=exchange)
        with pytest.raises(x.ExchangeRefused, match="completed"):
            x.exchange_confirm(actor=bob, exchange=exchange)
        with pytest.raises(x.ExchangeRefused, match="completed"):
            x.exchange_cancel(actor=alice, exchange=exchange)
        with pytest.raises(PermissionDenied):
            x.exchange_settle(actor=alice, exchange=exchange, outcome="cancel", note="no")
        assert Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).count() == 1
        assert (balance(alice), balance(bob)) == (165, 75)


def test_declining_and_cancelling_move_nothing(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        declined = x.exchange_respond(actor=bob, listing=offer, message="Hello")
        x.exchange_decline(actor=alice, exchange=declined, reason="Fully booked this month")
        assert declined.messages.values_list("body", flat=True).last() == "Fully booked this month"
        cancelled = x.exchange_respond(actor=bob, listing=offer, message="Next month?")
        x.exchange_accept(actor=alice, exchange=cancelled)
        x.exchange_record_hours(actor=alice, exchange=cancelled, minutes=60, met_on=yesterday())
        x.exchange_cancel(actor=alice, exchange=cancelled, reason="Call it a favour")
        states = set(Exchange.objects.values_list("state", flat=True))
        assert states == {State.DECLINED, State.CANCELLED}
        assert not Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).exists()
        assert (balance(alice), balance(bob)) == (120, 120)


def test_a_receiver_without_the_credit_is_told_how_to_earn_it(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=180)  # Bob has 120 minutes
        with pytest.raises(InsufficientCredit, match="Offer some help to earn more") as refusal:
            x.exchange_confirm(actor=bob, exchange=exchange)
        assert refusal.value.extra["needed"] == 180
        exchange.refresh_from_db()
        assert exchange.state == State.RECORDED
        assert (balance(alice), balance(bob)) == (120, 120)
        # The giver can correct the hours to what Bob can pay.
        x.exchange_record_hours(actor=alice, exchange=exchange, minutes=120)
        x.exchange_confirm(actor=bob, exchange=exchange)
        assert (balance(alice), balance(bob)) == (240, 0)


@pytest.mark.parametrize(
    ("outcome", "minutes", "alice_gets"),
    [("confirm", None, 90), ("adjust", 60, 60), ("cancel", None, 0)],
)
def test_an_organiser_settles_a_dispute_and_it_is_audited(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    outcome: str,
    minutes: int | None,
    alice_gets: int,
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=90)
        with pytest.raises(NotFound):
            x.access_exchange(exchange.pk, member=olive)  # not a dispute: private
        x.exchange_dispute(actor=bob, exchange=exchange, reason="We met for an hour")
        assert x.access_exchange(exchange.pk, member=olive).state == State.DISPUTED
        assert Notification.objects.filter(recipient=olive, kind=Kind.DISPUTE).exists()
        with pytest.raises(NotFound):
            x.access_exchange(exchange.pk, member=eve)
        x.message_post(actor=olive, exchange=exchange, body="Looking into it")
        x.exchange_settle(
            actor=olive, exchange=exchange, outcome=outcome, minutes=minutes, note="Spoke to both"
        )
        exchange.refresh_from_db()
        assert exchange.state == (State.CANCELLED if outcome == "cancel" else State.COMPLETED)
        assert (balance(alice), balance(bob)) == (120 + alice_gets, 120 - alice_gets)
        event = AuditEvent.objects.get(verb=f"exchange.settle.{outcome}")
        assert event.reason == "Spoke to both"
        with pytest.raises(x.ExchangeRefused, match="Only disputed"):
            x.exchange_settle(actor=olive, exchange=exchange, outcome="confirm", note="Again")


def test_unanswered_hours_confirm_themselves_after_the_set_days(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, olive, _ = people
    with tenant_context(network_a):
        x.exchange_settings_update(actor=olive, auto_confirm_days=3)
        exchange = to_recorded(offer, alice, bob, minutes=60)
        assert x.exchanges_auto_confirm() == 0  # not due yet
        later = timezone.now() + datetime.timedelta(days=3, minutes=1)
        assert x.exchanges_auto_confirm(now=later) == 1
        exchange.refresh_from_db()
        assert exchange.state == State.COMPLETED
        assert (balance(alice), balance(bob)) == (180, 60)
        assert x.exchanges_auto_confirm(now=later) == 0  # once


def test_auto_confirm_without_the_credit_goes_to_an_organiser(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=240)
        later = timezone.now() + datetime.timedelta(days=8)
        assert x.exchanges_auto_confirm(now=later) == 0
        exchange.refresh_from_db()
        assert exchange.state == State.DISPUTED
        assert "Automatic confirmation failed" in exchange.dispute_reason
        assert (balance(alice), balance(bob)) == (120, 120)


def test_meeting_reminders_go_to_both_sides_once(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hello")
        x.exchange_accept(actor=alice, exchange=exchange)
        proposal = x.exchange_propose(actor=bob, exchange=exchange, starts_at=soon(30), place="A")
        x.exchange_agree(actor=alice, exchange=exchange, proposal_id=proposal.pk)
        assert x.exchanges_remind_meetings() == 0  # 30 hours away
        in_10_hours = timezone.now() + datetime.timedelta(hours=20)
        assert x.exchanges_remind_meetings(now=in_10_hours) == 1
        assert x.exchanges_remind_meetings(now=in_10_hours) == 0
        reminded = Notification.objects.filter(kind=Kind.MEETING_REMINDER)
        assert set(reminded.values_list("recipient", flat=True)) == {alice.pk, bob.pk}


def test_messages_and_thanks_belong_to_the_two_sides(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=60)
        with pytest.raises(x.ExchangeRefused, match="Write plain text"):
            x.message_post(actor=alice, exchange=exchange, body="See you <b>there</b>")
        x.message_post(actor=alice, exchange=exchange, body="See you there")
        assert exchange.messages.values_list("body", flat=True).last() == "See you there"
        for outsider in (eve, olive):  # an organiser too, while there is no dispute
            with pytest.raises(NotFound):
                x.message_post(actor=outsider, exchange=exchange, body="Hi")
        x.exchange_confirm(actor=bob, exchange=exchange)
        x.thanks_give(actor=bob, exchange=exchange, text="Brilliant session")
        with pytest.raises(x.ExchangeRefused, match="already"):
            x.thanks_give(actor=bob, exchange=exchange, text="Again")
        assert list(alice.thanks_received.values_list("text", flat=True)) == ["Brilliant session"]
        exchange_id = exchange.pk
    stranger = make_member(network_b, full_name="Stranger")
    with tenant_context(network_b):
        assert not Exchange.objects.filter(pk=exchange_id).exists()  # another schema
        with pytest.raises(NotFound):
            x.access_exchange(exchange_id, member=stranger)
    with tenant_context(network_a), pytest.raises(NotFound):  # naming B does not help
        x.access_exchange(exchange_id, member=stranger, member_network=network_b)
