"""The single sign-on settings through the API: organisers set them (the secret written,
never read back), remove them and test the connection against the real local provider;
members and network B's organiser can do none of it to network A."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Role
from core.sso.crypto import secret_decrypt
from core.sso.models import SsoSettings
from tests.servers import free_port

from .conftest import connect

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient
    from tests.core.sso.conftest import Provider

SECRET = "s3cret-value-that-is-long-7Qx"
API = "/api/v1/sso/"
JSON = "application/json"
BODY = {
    "kind": "oidc",
    "name": "Trust ID",
    "issuer": "https://id.trust.example",
    "client_id": "hexitime",
    "client_secret": SECRET,
    "password_sign_in": False,
}


@pytest.fixture
def organiser_a(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, email="olivia@network-a.example", role=Role.ORGANISER)


def test_an_organiser_puts_and_deletes_the_provider_and_the_secret_never_comes_back(
    network_a: Network, organiser_a: Member, client_a: NetworkClient
) -> None:
    client_a.force_login(organiser_a)
    saved = client_a.put(API, BODY, content_type=JSON)
    assert saved.status_code == 200, saved.content
    assert saved.json() == {
        "configured": True,
        "kind": "oidc",
        "name": "Trust ID",
        "issuer": "https://id.trust.example",
        "client_id": "hexitime",
        "secret_hint": "-7Qx",
        "password_sign_in": False,
    }
    with tenant_context(network_a):
        row = SsoSettings.objects.get()
        assert secret_decrypt(row.client_secret_encrypted) == SECRET
        event = AuditEvent.objects.get(verb="sso.change")
        assert SECRET not in str(event.before) + str(event.after)
    # A blank secret keeps the saved one; Entra's directory becomes its issuer.
    entra = {
        **BODY,
        "kind": "entra",
        "name": "",
        "client_secret": "",
        "directory": "4F1C2B3A-5D6E-4F70-8A9B-0C1D2E3F4A5B",
    }
    changed = client_a.put(API, entra, content_type=JSON).json()
    assert changed["issuer"] == (
        "https://login.microsoftonline.com/4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b/v2.0"
    )
    assert changed["name"] == "Microsoft" and SECRET not in str(changed)
    with tenant_context(network_a):
        assert secret_decrypt(SsoSettings.objects.get().client_secret_encrypted) == SECRET
    assert client_a.get(API).json() == changed
    assert client_a.delete(API).status_code == 204
    assert client_a.get(API).json() == {"configured": False}
    assert client_a.delete(API).status_code == 204  # nothing to remove: nothing changes
    with tenant_context(network_a):
        assert not SsoSettings.objects.exists()
        assert AuditEvent.objects.filter(verb="sso.change").count() == 2
        assert AuditEvent.objects.filter(verb="sso.remove").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "ldap"}, "kind"),
        ({"issuer": "http://id.trust.example"}, "issuer"),
        ({"kind": "entra", "directory": "trust.example"}, "directory"),
        ({"client_id": ""}, "client_id"),
        ({"client_secret": ""}, "client_secret"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_and_nothing_is_written(
    network_a: Network,
    organiser_a: Member,
    client_a: NetworkClient,
    changes: dict[str, Any],
    field: str,
) -> None:
    client_a.force_login(organiser_a)
    refused = client_a.put(API, {**BODY, **changes}, content_type=JSON)
    assert refused.status_code == 400, refused.content
    body = refused.json()
    assert body.get("field") == field or field in body.get("errors", {}), body
    with tenant_context(network_a):
        assert not SsoSettings.objects.exists()
        assert not AuditEvent.objects.filter(verb__startswith="sso.").exists()


def test_the_connection_test_answers_what_worked_or_failed(
    network_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    client_a.force_login(organiser_a)
    none = client_a.post(f"{API}test/")
    assert none.status_code == 404 and none.json()["detail"] == "No identity provider is connected."
    connect(network_a, provider, organiser_a, client_id="api-check-a")
    works = client_a.post(f"{API}test/")
    assert works.status_code == 200, works.content
    body = works.json()
    assert body["works"] is True and body["keys"] == 1 and body["issuer"] == provider.issuer
    assert body["authorization_endpoint"].startswith(provider.issuer)
    assert body["detail"].startswith("The connection works")
    unreachable = f"https://127.0.0.1:{free_port()}"
    with tenant_context(network_a):
        SsoSettings.objects.update(issuer=unreachable)
    cache.clear()  # the settings were changed behind the service's back
    failed = client_a.post(f"{API}test/").json()
    assert failed["works"] is False and failed["issuer"] == unreachable
    assert failed["detail"].startswith("The connection failed: Could not reach")


def test_members_and_network_b_cannot_change_network_a_sign_in(
    network_a: Network,
    network_b: Network,
    organiser_a: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    client_a.force_login(organiser_a)
    assert client_a.put(API, BODY, content_type=JSON).status_code == 200
    client_a.force_login(make_member(network_a))
    assert client_a.put(API, {**BODY, "name": "Mine"}, content_type=JSON).status_code == 403
    assert client_a.delete(API).status_code == 403
    assert client_a.post(f"{API}test/").status_code == 403
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    assert client_b.delete(API).status_code == 204  # B's own (none)
    assert client_b.put(API, {**BODY, "name": "B's"}, content_type=JSON).status_code == 200
    client_a.force_login(organiser_b)  # B's sign-in does not carry to A
    assert client_a.delete(API).status_code in (401, 403)
    with tenant_context(network_a):
        assert SsoSettings.objects.get().name == "Trust ID"
    with tenant_context(network_b):
        assert SsoSettings.objects.get().name == "B's"
