"""Settlement with real transactions: two clicks at once, and a real Celery worker sending
the emails only after commit."""

from __future__ import annotations

import datetime
import threading
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core import mail
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.exchanges.models import Exchange, State
from core.exchanges.tasks import exchanges_due
from core.notifications.models import Kind, Notification
from kernel.db import connection
from kernel.errors import ApplicationError
from ledger.models import Transfer
from ledger.services import member_account

from .conftest import to_recorded

if TYPE_CHECKING:
    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_confirmations_at_the_same_moment_move_the_credit_once(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=60)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        try:
            connection.set_tenant(network_a)
            barrier.wait()
            x.exchange_confirm(actor=bob, exchange=exchange)
            outcomes.append("confirmed")
        except ApplicationError as refusal:
            outcomes.append(refusal.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("confirmed") == 1, outcomes
    assert [o for o in outcomes if o != "confirmed"] == [
        "You cannot confirm the hours now: this exchange is completed."
    ]
    with tenant_context(network_a):
        assert Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).count() == 1
        assert member_account(alice).balance == 180
        assert member_account(bob).balance == 60


def test_emails_are_sent_by_a_real_worker_only_after_commit(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing, worker: None
) -> None:
    alice, bob, _, _ = people
    mail.outbox.clear()
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=60)
        x.exchange_confirm(actor=bob, exchange=exchange)
        notification = Notification.objects.get(kind=Kind.HOURS_CONFIRMED)
    for _ in range(100):  # the worker runs in another thread; give it up to 10 s
        with tenant_context(network_a):
            notification.refresh_from_db()
        if notification.emailed_at:
            break
        threading.Event().wait(0.1)
    assert notification.emailed_at is not None
    subjects = [message.subject for message in mail.outbox]
    assert any("1 hour confirmed" in subject for subject in subjects), subjects
    (confirmed,) = [m for m in mail.outbox if "1 hour confirmed" in m.subject]
    assert confirmed.to == [alice.email]
    # Links in emails are absolute, on the network's own domain.
    assert f"https://network-a.localhost/exchanges/{exchange.pk}/" in confirmed.body
    assert "https://network-a.localhost/notifications/" in confirmed.body


def test_the_beat_task_auto_confirms_through_a_real_worker(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing, worker: None
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=45)
        eight_days_ago = timezone.now() - datetime.timedelta(days=8)
        Exchange.objects.filter(pk=exchange.pk).update(recorded_at=eight_days_ago)
        # Sent from inside the network, the task runs in the network's schema.
        result = exchanges_due.apply_async(ignore_result=False).get(timeout=30)
        exchange.refresh_from_db()
    assert result == {"confirmed": 1, "reminded": 0}
    assert exchange.state == State.COMPLETED


def test_every_beat_entry_names_a_registered_task() -> None:
    from hexitime.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def test_a_completed_exchange_refreshes_the_network_metrics(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing, worker: None
) -> None:
    from core.insights.selectors.metrics import network_metrics_cached

    alice, bob, _, _ = people
    schema = network_a.schema_name
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=60)
        assert network_metrics_cached(schema) is None
        x.exchange_confirm(actor=bob, exchange=exchange)  # commits, then asks for a refresh
    for _ in range(100):  # the real worker computes them; give it up to 10 s
        with tenant_context(network_a):  # cache keys are per schema
            metrics = network_metrics_cached(schema)
        if metrics is not None:
            break
        threading.Event().wait(0.1)
    assert metrics is not None and metrics["exchanges"] == 1
