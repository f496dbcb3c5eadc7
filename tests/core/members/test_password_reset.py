from __future__ import annotations

from typing import TYPE_CHECKING

from django.core import mail

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def test_a_reset_asked_in_network_b_sends_nothing_for_network_a_members(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    make_member(network_a, email="ada@nhs.net")
    assert client_b.post("/accounts/password-reset/", {"email": "ada@nhs.net"}).status_code == 302
    assert mail.outbox == []
