"""Giving credit through the services: the ledger, limits, refusals, idempotency, the
statement, notifications, audit and what insights leave out."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.giving.models import Gift, GiftKind
from core.giving.selectors import gift_allowance, member_gifts, pot_summary
from core.giving.services import GiftRefused, gift_give, giving_settings_update, pot_grant
from core.insights.selectors.edges import network_edges
from core.insights.selectors.equality import equality_figures
from core.insights.selectors.impact import hours_by_month
from core.insights.selectors.map import DateRange
from core.members.models import MemberState
from core.notifications.models import Kind, Notification
from core.projects.services import project_fund, project_propose
from kernel.errors import PermissionDenied
from ledger.models import Account, Transfer
from ledger.selectors import member_balance, member_statement, network_totals
from ledger.services import pot_account

if TYPE_CHECKING:
    from typing import Any

    from core.members.models import Member
    from tenants.models import Network


def _give(
    actor: Member,
    minutes: int = 30,
    message: str = "Thanks for covering my shift",
    key: str = "k1",
    **target: Any,
) -> Gift:
    return gift_give(actor=actor, minutes=minutes, message=message, key=key, **target)


def test_a_gift_moves_credit_and_shows_on_both_statements(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob = people["alice"], people["bob"]
    with tenant_context(network_a):
        gift = _give(alice, minutes=45, recipient=bob)
        assert (member_balance(member=alice), member_balance(member=bob)) == (75, 165)
        assert gift.transfer.kind == Transfer.Kind.GIFT_MEMBER
        assert gift.transfer.idempotency_key == f"giving:{alice.pk}:k1"
        given, received = member_statement(member=alice)[0], member_statement(member=bob)[0]
        assert given.description == "Gift to Bob Bell"
        assert received.description == "Gift from Alice Ames"
        assert received.memo == "Thanks for covering my shift"
        note = Notification.objects.get(recipient=bob, kind=Kind.GIFT_RECEIVED)
        assert "Alice Ames gave you 45 minutes" in note.title
        assert note.body == "Thanks for covering my shift"
        assert AuditEvent.objects.filter(verb="gift.give", target_id=str(gift.pk)).exists()


def test_gifts_to_a_project_and_to_the_pot_and_a_grant_from_it(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        project = project_propose(
            actor=olu,
            title="Falls",
            aim="Fewer falls",
            description="PDSA cycles",
            budget_minutes=60,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + datetime.timedelta(days=30),
        )
        project = project_fund(actor=olu, project=project)
        _give(alice, minutes=15, key="p", project=project)
        _give(alice, minutes=60, key="pot", message="")
        _give(bob, minutes=30, key="pot")
        assert pot_account().balance == 90
        grant = pot_grant(actor=olu, recipient=bob, minutes=60, reason="New starter", key="g")
        assert grant.kind == GiftKind.GRANT
        assert pot_account().balance == 30
        assert member_balance(member=bob) == 150
        line = member_statement(member=bob)[0]
        assert (line.description, line.memo) == ("Gift from the community pot", "New starter")
        project_line = member_statement(member=alice)[1]
        assert project_line.description == "Gift to a project"
        assert project_line.memo == "“Falls”: Thanks for covering my shift"
        assert AuditEvent.objects.get(verb="pot.grant").reason == "New starter"
        totals = network_totals()
        assert totals.held_by_pot == 30 and totals.balanced
        # The project's lead hears of the gift.
        assert Notification.objects.filter(recipient=olu, kind=Kind.GIFT_RECEIVED).exists()


def test_the_pot_hides_who_received_and_why_from_members(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        _give(alice, minutes=60, key="pot")
        pot_grant(actor=olu, recipient=bob, minutes=30, reason="Lost credit in a dispute", key="g")
        seen_by_alice = pot_summary(viewer=alice)
        seen_by_olu = pot_summary(viewer=olu)
    assert [(g.minutes, g.recipient, g.reason) for g in seen_by_alice.recent] == [(30, "", "")]
    assert [(g.recipient, g.reason) for g in seen_by_olu.recent] == [
        ("Bob Bell", "Lost credit in a dispute")
    ]
    assert (seen_by_alice.balance_minutes, seen_by_alice.granted_minutes) == (30, 30)
    assert seen_by_alice.received_minutes == 60


def test_repeating_a_key_gives_once_and_other_details_are_refused(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob = people["alice"], people["bob"]
    with tenant_context(network_a):
        first = _give(alice, recipient=bob)
        again = _give(alice, recipient=bob)
        assert again.pk == first.pk
        assert member_balance(member=alice) == 90
        assert Transfer.objects.filter(kind=Transfer.Kind.GIFT_MEMBER).count() == 1
        with pytest.raises(GiftRefused, match="already sent with other details"):
            _give(alice, minutes=60, recipient=bob)
        # A client's key may be longer than the ledger's column: the ledger keeps its digest.
        long_key = "x" * 255
        assert (
            _give(alice, key=long_key, recipient=bob).pk
            == _give(alice, key=long_key, recipient=bob).pk
        )
        assert Transfer.objects.filter(kind=Transfer.Kind.GIFT_MEMBER).count() == 2
        assert Notification.objects.filter(kind=Kind.GIFT_RECEIVED).count() == 2


@pytest.mark.parametrize(
    ("minutes", "message"),
    [(0, "Give between 15 minutes"), (20, "whole or quarter hours"), (121 * 60, "between")],
)
def test_amounts_outside_quarter_hours_and_bounds_are_refused(
    network_a: Network, people: dict[str, Member], minutes: int, message: str
) -> None:
    with tenant_context(network_a), pytest.raises(GiftRefused, match=message):
        _give(people["alice"], minutes=minutes, recipient=people["bob"])


def test_no_gift_beyond_your_credit_yourself_or_an_inactive_member(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob = people["alice"], people["bob"]
    with tenant_context(network_a):
        with pytest.raises(GiftRefused, match="You have 2 hours of credit, so you cannot give 3"):
            _give(alice, minutes=180, recipient=bob)
        with pytest.raises(GiftRefused, match="yourself"):
            _give(alice, recipient=alice)
        bob.state = MemberState.DEACTIVATED
        bob.save(update_fields=["state"])
        with pytest.raises(GiftRefused, match="not active"):
            _give(alice, recipient=bob)
        with pytest.raises(GiftRefused, match="holds 0 minutes"):
            pot_grant(actor=people["olu"], recipient=alice, minutes=15, reason="x", key="g")
        assert Gift.objects.count() == 0
        assert member_balance(member=alice) == 120


def test_the_monthly_limit_counts_every_kind_of_gift(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        giving_settings_update(actor=olu, member_monthly_minutes=60, pot_monthly_minutes=15)
        _give(alice, minutes=45, key="a", recipient=bob)
        assert gift_allowance(member=alice).remaining_minutes == 15
        with pytest.raises(GiftRefused, match="give 15 minutes more"):
            _give(alice, minutes=30, key="b")
        _give(alice, minutes=15, key="c")
        _give(bob, minutes=60, key="d")
        pot_grant(actor=olu, recipient=alice, minutes=15, reason="r", key="g1")
        with pytest.raises(GiftRefused, match="0 minutes more"):
            pot_grant(actor=olu, recipient=bob, minutes=15, reason="r", key="g2")
        # A grant received does not use the receiver's allowance to give.
        assert gift_allowance(member=alice).given_minutes == 60
        assert AuditEvent.objects.filter(verb="giving.settings").count() == 1


def test_only_organisers_grant_and_set_limits_and_a_grant_needs_a_reason(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        with pytest.raises(PermissionDenied):
            pot_grant(actor=alice, recipient=bob, minutes=15, reason="x", key="g")
        with pytest.raises(PermissionDenied):
            giving_settings_update(actor=alice, member_monthly_minutes=0, pot_monthly_minutes=0)
        with pytest.raises(GiftRefused, match="say why"):
            pot_grant(actor=olu, recipient=bob, minutes=15, reason="  ", key="g")
        with pytest.raises(GiftRefused, match="yourself"):
            pot_grant(actor=olu, recipient=olu, minutes=15, reason="x", key="g")


def test_a_gift_to_a_project_that_is_not_funded_is_refused(
    network_a: Network, people: dict[str, Member]
) -> None:
    olu = people["olu"]
    with tenant_context(network_a):
        project = project_propose(
            actor=olu,
            title="Falls",
            aim="Fewer falls",
            description="PDSA cycles",
            budget_minutes=60,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + datetime.timedelta(days=30),
        )
        with pytest.raises(GiftRefused, match="funded project"):
            _give(people["alice"], project=project)
        assert not Account.objects.filter(kind=Account.Kind.PROJECT).exists()


def test_member_gifts_for_the_cpd_record(network_a: Network, people: dict[str, Member]) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        _give(alice, minutes=30, key="a", recipient=bob, message="For the teaching")
        _give(bob, minutes=60, key="b")
        pot_grant(actor=olu, recipient=alice, minutes=15, reason="New starter", key="g")
        today = timezone.localdate()
        lines = member_gifts(member=alice, start=today, end=today)
        later = member_gifts(member=alice, start=today + datetime.timedelta(days=1))
    assert [(line.direction, line.minutes, line.counterpart, line.message) for line in lines] == [
        ("given", 30, "Bob Bell", "For the teaching"),
        ("received", 15, "The community pot", "New starter"),
    ]
    assert later == []


def test_gifts_are_never_help_given_in_insights(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        _give(alice, minutes=30, key="a", recipient=bob)
        _give(bob, minutes=60, key="b")
        pot_grant(actor=olu, recipient=alice, minutes=15, reason="New starter", key="g")
        assert network_edges(dates=DateRange()) == []
        assert network_totals().exchanged == 0
        assert hours_by_month(dates=DateRange()).rows == []
    since = timezone.now() - datetime.timedelta(days=1)
    figures = equality_figures([network_a.schema_name], since=since)[network_a.schema_name]
    everyone = figures["all", ""]
    assert (everyone.members, everyone.active, everyone.given, everyone.received) == (3, 0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_ledger_audit_stays_clean_with_gifts(
    network_a: Network, people: dict[str, Member], capsys: pytest.CaptureFixture[str]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        _give(alice, minutes=30, key="a", recipient=bob)
        _give(bob, minutes=60, key="b")
        pot_grant(actor=olu, recipient=alice, minutes=15, reason="New starter", key="g")
    call_command("ledger_audit", network="network-a")
    assert "network-a" in capsys.readouterr().out
