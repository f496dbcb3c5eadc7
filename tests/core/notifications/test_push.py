"""Web Push: members' subscriptions, and notifications pushed after commit through a local
push service (tests/push_local.py) that checks the VAPID signature and decrypts."""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import TYPE_CHECKING

import http_ece
import pytest
from django.core.management import call_command
from django.db import transaction
from django_tenants.utils import tenant_context

from core.notifications.models import Kind, PushSubscription
from core.notifications.push import PushRefused, b64url_decode, vapid_keys_generate
from core.notifications.services import (
    notification_send,
    notifications_erase_for_member,
    push_subscription_remove,
    push_subscription_save,
)
from tests.conftest import NetworkClient
from tests.push_local import Browser, PushService, vapid_verify

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pytest_django import Settings

    from core.members.models import Member
    from tenants.models import Network

API = "/api/v1/notifications/push-subscriptions/"


@pytest.fixture
def push(settings: Settings) -> Iterator[PushService]:
    """A local push service, and this deployment's VAPID keys, for the test."""
    private, public = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = private
    settings.WEBPUSH_VAPID_PUBLIC_KEY = public
    with PushService() as service:
        settings.WEBPUSH_EXTRA_ORIGINS = [service.origin]
        yield service


def _subscribe(member: Member, push: PushService, name: str) -> Browser:
    browser = Browser()
    push_subscription_save(actor=member, endpoint=push.endpoint(name), **browser.keys())
    return browser


def _notify(member: Member, key: str = "exchange:1:accepted") -> None:
    notification_send(
        recipient=member,
        kind=Kind.RESPONSE_ACCEPTED,
        key=key,
        title="Your response was accepted",
        body="Ben accepted your offer of coaching.",
        url="/exchanges/1/",
    )


@pytest.mark.django_db(transaction=True)
def test_a_notification_is_pushed_after_commit_signed_and_encrypted_for_each_browser(
    worker: None,
    network_a: Network,
    make_member: Callable[..., Member],
    push: PushService,
    settings: Settings,
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        phone, laptop = _subscribe(alice, push, "phone"), _subscribe(alice, push, "laptop")
        with transaction.atomic():
            _notify(alice)
            time.sleep(0.3)
            assert push.received == []  # nothing leaves before the commit
        received = push.wait_for(2)
    assert push.rejected == []
    by_path = {message.path: message for message in received}
    assert set(by_path) == {"/push/phone", "/push/laptop"}
    for path, browser in (("/push/phone", phone), ("/push/laptop", laptop)):
        message = by_path[path]
        assert message.vapid_key == settings.WEBPUSH_VAPID_PUBLIC_KEY
        assert browser.decrypt(message.body) == {
            "title": "Your response was accepted",
            "body": "Ben accepted your offer of coaching.",
            "url": "/exchanges/1/",
        }
    # Each browser's message opens only with its own keys.
    with pytest.raises(http_ece.ECEException, match="InvalidTag"):
        laptop.decrypt(by_path["/push/phone"].body)


@pytest.mark.django_db(transaction=True)
def test_nothing_is_pushed_for_a_change_that_rolled_back(
    worker: None, network_a: Network, make_member: Callable[..., Member], push: PushService
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        browser = _subscribe(alice, push, "phone")
        with pytest.raises(RuntimeError), transaction.atomic():
            _notify(alice, key="rolled-back")
            raise RuntimeError("the change failed")
        _notify(alice, key="later")  # proves the worker is up and pushing
        received = push.wait_for(1)
        time.sleep(0.3)
    assert len(push.received) == 1
    assert browser.decrypt(received[0].body)["title"] == "Your response was accepted"


@pytest.mark.django_db(transaction=True)
def test_a_subscription_the_push_service_says_is_gone_is_removed(
    worker: None, network_a: Network, make_member: Callable[..., Member], push: PushService
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        _subscribe(alice, push, "old-phone")
        _subscribe(alice, push, "phone")
        push.gone.add("/push/old-phone")
        _notify(alice)
        push.wait_for(1)
        deadline = time.monotonic() + 10
        while PushSubscription.objects.count() > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [
            push.endpoint("phone")
        ]


@pytest.mark.django_db(transaction=True)
def test_a_notification_in_network_a_never_pushes_to_network_b(
    worker: None,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    push: PushService,
) -> None:
    alice, bob = make_member(network_a), make_member(network_b)
    assert alice.pk == bob.pk  # the same id in two schemas: the case that could go wrong
    with tenant_context(network_b):
        _subscribe(bob, push, "bob")
    with tenant_context(network_a):
        browser = _subscribe(alice, push, "alice")
        _notify(alice)
    received = push.wait_for(1)
    time.sleep(0.5)  # room for a wrong second message
    assert [message.path for message in push.received] == ["/push/alice"]
    assert browser.decrypt(received[0].body)["url"] == "/exchanges/1/"


def test_the_api_turns_push_on_and_off_for_the_member_only(
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    push: PushService,
) -> None:
    alice, carol = make_member(network_a), make_member(network_a)
    browser = Browser()
    client_a.force_login(alice)
    subscription = {"endpoint": push.endpoint("alice"), "keys": browser.keys()}
    assert client_a.post(API, subscription, content_type="application/json").status_code == 201
    # Saving the same browser again changes nothing but its keys.
    assert client_a.post(API, subscription, content_type="application/json").status_code == 201
    with tenant_context(network_a):
        assert PushSubscription.objects.get().member_id == alice.pk
    # Carol cannot remove Alice's, even knowing its endpoint.
    client_a.force_login(carol)
    gone = client_a.delete(
        API, {"endpoint": push.endpoint("alice")}, content_type="application/json"
    )
    assert gone.json() == {"removed": 0}
    client_a.force_login(alice)
    gone = client_a.delete(
        API, {"endpoint": push.endpoint("alice")}, content_type="application/json"
    )
    assert gone.json() == {"removed": 1}
    with tenant_context(network_a):
        assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"endpoint": "http://10.0.0.5/internal"}, "push service is not one we can send to"),
        ({"endpoint": "https://push.example.com/x"}, "push service is not one we can send to"),
        ({"keys": {"p256dh": "bm90IGEga2V5", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}, "not valid"),
        ({"keys": {"p256dh": "!!!", "auth": "short"}}, "not valid"),
        ({"keys": {}}, "required"),
        ({"endpoint": "not a url"}, "valid URL"),
    ],
)
def test_bad_subscriptions_get_a_clear_refusal_and_store_nothing(
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    push: PushService,
    change: dict[str, Any],
    complaint: str,
) -> None:
    client_a.force_login(make_member(network_a))
    subscription = {"endpoint": push.endpoint("x"), "keys": Browser().keys(), **change}
    response = client_a.post(API, subscription, content_type="application/json")
    assert response.status_code == 400
    assert complaint in response.content.decode()
    with tenant_context(network_a):
        assert not PushSubscription.objects.exists()


def test_without_vapid_keys_push_is_refused_and_the_settings_page_says_so(
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    settings: Settings,
) -> None:
    settings.WEBPUSH_VAPID_PRIVATE_KEY = settings.WEBPUSH_VAPID_PUBLIC_KEY = ""
    alice = make_member(network_a)
    with tenant_context(network_a), pytest.raises(PushRefused):
        push_subscription_save(
            actor=alice, endpoint="https://fcm.googleapis.com/fcm/send/x", **Browser().keys()
        )
    client_a.force_login(alice)
    page = client_a.get("/notifications/settings/").content.decode()
    assert "not available on this server" in page
    assert 'id="push-on"' not in page


def test_the_settings_page_offers_push_with_the_deployments_key(
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    push: PushService,
    settings: Settings,
) -> None:
    client_a.force_login(make_member(network_a))
    page = client_a.get("/notifications/settings/").content.decode()
    assert f'data-key="{settings.WEBPUSH_VAPID_PUBLIC_KEY}"' in page
    assert 'id="push-on"' in page


def test_a_member_of_b_cannot_register_or_remove_a_subscription_in_a(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
    push: PushService,
) -> None:
    alice, bob = make_member(network_a), make_member(network_b)
    with tenant_context(network_a):
        _subscribe(alice, push, "alice")
    client_b.force_login(bob)
    # Bob's session belongs to B's schema: on A's host it signs nobody in.
    sneaky = NetworkClient(network_a)
    sneaky.cookies = copy.deepcopy(client_b.cookies)
    subscription = {"endpoint": push.endpoint("bob"), "keys": Browser().keys()}
    assert sneaky.post(API, subscription, content_type="application/json").status_code in {401, 403}
    removal = sneaky.delete(
        API, {"endpoint": push.endpoint("alice")}, content_type="application/json"
    )
    assert removal.status_code in {401, 403}
    # On his own network, removing Alice's endpoint finds nothing of hers.
    removal = client_b.delete(
        API, {"endpoint": push.endpoint("alice")}, content_type="application/json"
    )
    assert removal.json() == {"removed": 0}
    with tenant_context(network_a):
        assert list(PushSubscription.objects.values_list("member_id", "endpoint")) == [
            (alice.pk, push.endpoint("alice"))
        ]


def test_erasing_a_member_removes_their_subscriptions(
    network_a: Network, make_member: Callable[..., Member], push: PushService
) -> None:
    alice, carol = make_member(network_a), make_member(network_a)
    with tenant_context(network_a):
        _subscribe(alice, push, "alice")
        _subscribe(carol, push, "carol")
        with transaction.atomic():
            notifications_erase_for_member(member=alice)
        assert list(PushSubscription.objects.values_list("member_id", flat=True)) == [carol.pk]
        assert push_subscription_remove(actor=alice, endpoint=push.endpoint("alice")) == 0


def test_the_key_command_prints_a_working_vapid_pair() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        call_command("webpush_keys", stdout=out)
    values = dict(line.split("=", 1) for line in out.getvalue().split())
    private, public = values["WEBPUSH_VAPID_PRIVATE_KEY"], values["WEBPUSH_VAPID_PUBLIC_KEY"]
    assert len(b64url_decode(private)) == 32
    assert len(b64url_decode(public)) == 65
    # The pair signs what its public half verifies: a JWT made the way pywebpush makes it.
    from py_vapid import Vapid

    header = Vapid.from_string(private).sign(
        {"sub": "mailto:ops@example.org", "aud": "http://127.0.0.1:1", "exp": int(time.time()) + 60}
    )["Authorization"]
    _claims, key = vapid_verify(header, origin="http://127.0.0.1:1")
    assert key == public


def test_a_members_data_download_lists_the_browsers_push_goes_to(
    network_a: Network, make_member: Callable[..., Member], push: PushService
) -> None:
    from core.privacy.selectors import member_data

    alice, carol = make_member(network_a), make_member(network_a)
    with tenant_context(network_a):
        _subscribe(alice, push, "alice")
        _subscribe(carol, push, "carol")
        rows = member_data(member=alice, network=network_a)["push_subscriptions"]
    assert [row["endpoint"] for row in rows] == [push.endpoint("alice")]
