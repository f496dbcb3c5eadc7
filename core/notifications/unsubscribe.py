"""One-click unsubscribe (RFC 8058): a signed token naming a member and a kind of email.

The token is signed with a salt that names the network's schema, so a token made in one
network is not valid in any other. It carries no expiry: an unsubscribe link in an old
email must still work (RFC 8058 section 3.1), and all it can do is turn one kind of email
off for one member.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.urls import reverse

SALT = "hexitime.notifications.unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    member_id: int
    kind: str


def _salt(schema_name: str) -> str:
    return f"{SALT}:{schema_name}"


def unsubscribe_token(*, schema_name: str, member_id: int, kind: str) -> str:
    return signing.dumps({"m": member_id, "k": kind}, salt=_salt(schema_name), compress=True)


def unsubscribe_read(token: str, *, schema_name: str) -> Unsubscribe | None:
    """What a token asks, or None for a token that is not this network's or was altered."""
    try:
        data = signing.loads(token, salt=_salt(schema_name))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        return None
    return Unsubscribe(member_id=data["m"], kind=str(data.get("k", "")))


def list_unsubscribe_headers(
    *, base_url: str, schema_name: str, member_id: int, kind: str
) -> dict[str, str]:
    """The headers of a bulk email to a member that let their mail program unsubscribe them
    from `kind` in one click: a POST to the URL, without signing in (RFC 8058). `base_url`
    is the network's address (`tenants.selectors.network_url(network, "")`)."""
    token = unsubscribe_token(schema_name=schema_name, member_id=member_id, kind=kind)
    path = reverse("unsubscribe", args=[token], urlconf="hexitime.urls_tenant")
    return {
        "List-Unsubscribe": f"<{base_url}{path}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
