from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from kernel.errors import NotFound, PermissionDenied
from ledger.models import Account, Entry, Transfer
from ledger.services import (
    IdempotencyConflict,
    InsufficientCredit,
    LedgerError,
    Leg,
    clearing_account,
    gift_grant,
    issuance_account,
    member_account,
    minutes_as_text,
    transfer_create,
    transfer_reverse,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from core.members.models import Member
    from tenants.models import Network


@pytest.fixture
def members(
    network_a: Network, make_member: Callable[..., Member]
) -> Iterator[tuple[Member, Member]]:
    alice = make_member(network_a, full_name="Alice")
    ben = make_member(network_a, full_name="Ben")
    with tenant_context(network_a):
        yield alice, ben


def _balance(member: Member) -> int:
    return Account.objects.get(kind="member", owner_id=member.pk).balance


def test_every_network_is_born_with_its_issuance_clearing_and_pot_accounts(
    network_a: Network, network_b: Network
) -> None:
    for network in (network_a, network_b):
        with tenant_context(network):
            kinds = sorted(Account.objects.values_list("kind", flat=True))
            assert kinds == ["clearing", "issuance", "pot"]


def test_the_gift_is_two_hours_from_issuance_and_granted_once(
    members: tuple[Member, Member],
) -> None:
    alice, _ = members
    first = gift_grant(member=alice)
    again = gift_grant(member=alice)
    assert again.pk == first.pk
    assert first.kind == Transfer.Kind.GIFT
    assert _balance(alice) == 120
    assert issuance_account().balance == -120
    assert Entry.objects.filter(transfer=first).count() == 2


def test_a_transfer_moves_minutes_and_records_running_balances(
    members: tuple[Member, Member],
) -> None:
    alice, ben = members
    gift_grant(member=alice)
    transfer = transfer_create(
        idempotency_key="exchange:1:complete",
        legs=[Leg(member_account(alice), -90), Leg(member_account(ben), 90)],
        kind=Transfer.Kind.EXCHANGE,
        memo="Coaching",
        actor=alice,
    )
    assert (_balance(alice), _balance(ben)) == (30, 90)
    assert transfer.actor_label == "Alice"
    assert transfer.created_at is not None
    after = dict(Entry.objects.filter(transfer=transfer).values_list("amount", "balance_after"))
    assert after == {-90: 30, 90: 90}


def test_not_enough_credit_is_refused_in_plain_words_and_writes_nothing(
    members: tuple[Member, Member],
) -> None:
    alice, ben = members
    gift_grant(member=alice)
    before = Entry.objects.count()
    with pytest.raises(InsufficientCredit) as refused:
        transfer_create(
            idempotency_key="exchange:2:complete",
            legs=[Leg(member_account(alice), -180), Leg(member_account(ben), 180)],
            kind=Transfer.Kind.EXCHANGE,
        )
    assert refused.value.message.startswith(
        "You have 2 hours of credit, and this needs 3 hours. Offer some help"
    )
    assert refused.value.extra["needed"] == 180
    assert Entry.objects.count() == before
    assert not Transfer.objects.filter(idempotency_key="exchange:2:complete").exists()
    assert (_balance(alice), _balance(ben)) == (120, 0)


def test_a_key_reused_for_different_legs_is_refused(members: tuple[Member, Member]) -> None:
    alice, ben = members
    gift_grant(member=alice)
    legs = [Leg(member_account(alice), -60), Leg(member_account(ben), 60)]
    transfer_create(idempotency_key="k", legs=legs, kind=Transfer.Kind.EXCHANGE)
    with pytest.raises(IdempotencyConflict):
        transfer_create(
            idempotency_key="k",
            legs=[Leg(member_account(alice), -30), Leg(member_account(ben), 30)],
            kind=Transfer.Kind.EXCHANGE,
        )
    assert _balance(ben) == 60


@pytest.mark.parametrize(
    "amounts",
    [[-60, 30], [0, 0], [60], [-60, 60, 0]],
    ids=["unbalanced", "zero", "one-leg", "zero-leg"],
)
def test_malformed_transfers_are_refused(
    members: tuple[Member, Member], amounts: list[int]
) -> None:
    alice, ben = members
    accounts = [member_account(alice), member_account(ben), issuance_account()]
    with pytest.raises(LedgerError, match="two or more distinct accounts"):
        transfer_create(
            idempotency_key="bad",
            legs=[Leg(a, m) for a, m in zip(accounts, amounts, strict=False)],
            kind=Transfer.Kind.EXCHANGE,
        )
    assert not Transfer.objects.exists()


def test_reversal_undoes_a_transfer_once(
    members: tuple[Member, Member], make_member: Callable[..., Member], network_a: Network
) -> None:
    alice, _ = members
    organiser = make_member(network_a, role="organiser")
    gift = gift_grant(member=alice)
    reversal = transfer_reverse(transfer=gift, actor=organiser, reason="Duplicate account")
    again = transfer_reverse(transfer=gift, actor=organiser, reason="Duplicate account")
    assert again.pk == reversal.pk
    assert reversal.reverses_id == gift.pk
    assert _balance(alice) == 0
    assert issuance_account().balance == 0
    # A second correction under another key is refused too, and moves nothing.
    with pytest.raises(LedgerError, match="already been corrected"):
        transfer_create(
            idempotency_key="another correction",
            kind=Transfer.Kind.REVERSAL,
            reverses=gift,
            legs=[Leg(member_account(alice), 120), Leg(issuance_account(), -120)],
        )
    assert _balance(alice) == 0
    assert Transfer.objects.count() == 2


def test_the_database_refuses_edits_deletes_and_direct_balance_changes(
    members: tuple[Member, Member],
) -> None:
    alice, _ = members
    gift = gift_grant(member=alice)
    entry = Entry.objects.filter(transfer=gift).earliest("id")
    attempts = [
        lambda: Entry.objects.filter(pk=entry.pk).update(amount=999),
        lambda: Entry.objects.filter(pk=entry.pk).delete(),
        lambda: Transfer.objects.filter(pk=gift.pk).update(memo="forged"),
        lambda: Account.objects.filter(owner_id=alice.pk).update(balance=10_000),
        lambda: Account.objects.filter(owner_id=alice.pk).update(last_sequence=7),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert _balance(alice) == 120


def test_entries_are_written_only_by_ledger_post(members: tuple[Member, Member]) -> None:
    alice, _ = members
    gift = gift_grant(member=alice)
    with (
        pytest.raises(DatabaseError, match="entries change only through ledger_post"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, sequence)"
            " VALUES (%s, %s, 5, 0, 1)",
            [gift.pk, clearing_account().pk],
        )


def test_an_unbalanced_transfer_is_refused_at_commit(members: tuple[Member, Member]) -> None:
    """Even a hand that raises ledger_post()'s flag cannot commit a lopsided transfer."""
    alice, _ = members
    with (
        pytest.raises(IntegrityError, match="unbalanced: 1 legs summing to 5"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('hexitime.ledger_posting', 'on', true)")
        cursor.execute(
            "INSERT INTO ledger_transfer (id, idempotency_key, kind, memo, actor_label, created_at)"
            " VALUES ('00000000-0000-0000-0000-000000000001', 'forged', 'gift', '', '', now())"
        )
        cursor.execute(
            "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, sequence)"
            " VALUES ('00000000-0000-0000-0000-000000000001', %s, 5, 5, 1)",
            [member_account(alice).pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not Transfer.objects.filter(idempotency_key="forged").exists()


def test_minutes_read_as_plain_english() -> None:
    assert minutes_as_text(150) == "2 hours 30 minutes"
    assert minutes_as_text(60) == "1 hour"
    assert minutes_as_text(0) == "0 minutes"
    assert minutes_as_text(15) == "15 minutes"


def test_one_networks_ledger_is_invisible_in_another(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=alice)
    with tenant_context(network_b):
        assert not Transfer.objects.exists()
        assert issuance_account().balance == 0


def test_a_correction_is_an_organisers_audited_action_with_a_reason(
    network_b: Network,
    members: tuple[Member, Member],
    make_member: Callable[..., Member],
    network_a: Network,
) -> None:
    alice, ben = members
    organiser = make_member(network_a, role="organiser")
    gift = gift_grant(member=alice)
    with pytest.raises(PermissionDenied, match="organisers"):
        transfer_reverse(transfer=gift, actor=ben, reason="I would like it back")
    with pytest.raises(LedgerError, match="say why") as refused:
        transfer_reverse(transfer=gift, actor=organiser, reason="  <b></b> ")
    assert refused.value.field == "reason"
    assert not Transfer.objects.filter(kind=Transfer.Kind.REVERSAL).exists()
    assert not AuditEvent.objects.exists()
    # Another network's organiser cannot reach this network's transfers.
    with tenant_context(network_b):
        stranger = make_member(network_b, role="organiser")
        with pytest.raises(NotFound):
            transfer_reverse(transfer=gift, actor=stranger, reason="Not mine")
    reversal = transfer_reverse(transfer=gift, actor=organiser, reason="Duplicate account")
    transfer_reverse(transfer=gift, actor=organiser, reason="Asked twice")  # no second row
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id, event.reason) == (
        "ledger.correct",
        organiser.pk,
        "Duplicate account",
    )
    assert (event.target_type, event.target_id) == ("ledger.transfer", str(gift.pk))
    assert event.after == {
        "reversal": str(reversal.pk),
        "legs": {
            str(member_account(alice).pk): -120,
            str(issuance_account().pk): 120,
        },
    }
    assert reversal.memo == "Correction of welcome gift: Duplicate account"
    assert reversal.actor_id == organiser.pk
    assert _balance(alice) == 0
