"""The organisers' single sign-on settings: the page, the API, the secret at rest, the
audit trail, the connection test against the real provider, and network isolation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Role
from core.sso.crypto import secret_decrypt
from core.sso.models import ProviderKind, SsoSettings
from core.sso.services import SsoRefused, sso_connection_check, sso_settings_set
from kernel.errors import PermissionDenied
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


@pytest.fixture
def organiser_a(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, email="olivia@network-a.example", role=Role.ORGANISER)


def _form(**changes: object) -> dict[str, object]:
    return {
        "kind": "oidc",
        "name": "Trust ID",
        "issuer": "https://id.trust.example",
        "client_id": "hexitime",
        "client_secret": SECRET,
        "password_sign_in": "on",
        **changes,
    }


def test_an_organiser_connects_a_provider_and_the_secret_is_never_shown_back(
    network_a: Network, organiser_a: Member, client_a: NetworkClient
) -> None:
    client_a.force_login(organiser_a)
    page = client_a.get("/settings/sso/")
    assert page.status_code == 200
    assert "http://network-a." in page.content.decode()  # the redirect URI to register
    saved = client_a.post("/settings/sso/", _form())
    assert saved.status_code == 302
    with tenant_context(network_a):
        row = SsoSettings.objects.get()
        assert (row.issuer, row.client_id, row.secret_hint) == (
            "https://id.trust.example",
            "hexitime",
            "-7Qx",
        )
        assert SECRET not in row.client_secret_encrypted
        assert secret_decrypt(row.client_secret_encrypted) == SECRET
        event = AuditEvent.objects.get(verb="sso.change")
        assert SECRET not in str(event.before) + str(event.after)
        assert event.after is not None and event.after["secret_changed"] is True
    shown = client_a.get("/settings/sso/").content.decode()
    assert SECRET not in shown and "-7Qx" in shown
    # A blank secret keeps the saved one; the change is audited again.
    assert client_a.post("/settings/sso/", _form(client_secret="", name="NHS")).status_code == 302
    with tenant_context(network_a):
        row = SsoSettings.objects.get()
        assert row.name == "NHS" and secret_decrypt(row.client_secret_encrypted) == SECRET
        assert AuditEvent.objects.filter(verb="sso.change").count() == 2
    api = client_a.get("/api/v1/sso/").json()
    assert api["issuer"] == "https://id.trust.example" and api["secret_hint"] == "-7Qx"
    assert SECRET not in str(api) and "client_secret" not in api
    # Turning it off is audited too.
    assert client_a.post("/settings/sso/remove/").status_code == 302
    with tenant_context(network_a):
        assert not SsoSettings.objects.exists()
        assert AuditEvent.objects.filter(verb="sso.remove").count() == 1
    assert client_a.get("/api/v1/sso/").json() == {"configured": False}


def test_the_known_providers_have_their_issuers(network_a: Network, organiser_a: Member) -> None:
    with tenant_context(network_a):
        google = sso_settings_set(
            actor=organiser_a,
            kind=ProviderKind.GOOGLE,
            client_id="g",
            client_secret=SECRET,
            password_sign_in=True,
        )
        assert (google.issuer, google.name) == ("https://accounts.google.com", "Google")
        entra = sso_settings_set(
            actor=organiser_a,
            kind=ProviderKind.ENTRA,
            directory="4f1c2b3a-0000-4000-8000-000000000001",
            client_id="e",
            password_sign_in=False,
        )
        assert entra.issuer == (
            "https://login.microsoftonline.com/4f1c2b3a-0000-4000-8000-000000000001/v2.0"
        )
        assert entra.name == "Microsoft" and not entra.password_sign_in


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"issuer": "http://id.trust.example"}, "issuer", "starting https://"),
        ({"issuer": "not a url"}, "issuer", "starting https://"),
        ({"issuer": "https://id.trust.example/?x=1"}, "issuer", "no query"),
        ({"client_id": " "}, "client_id", "This field is required"),
        ({"client_secret": ""}, "client_secret", "client secret"),
        ({"kind": "entra", "directory": "no/slashes"}, "directory", "directory (tenant) ID"),
        ({"kind": "saml"}, "kind", "Select a valid choice"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(
    network_a: Network,
    organiser_a: Member,
    client_a: NetworkClient,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    client_a.force_login(organiser_a)
    answer = client_a.post("/settings/sso/", _form(**changes))
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert message in " ".join(errors[field]), errors
    with tenant_context(network_a):
        assert not SsoSettings.objects.exists()
        assert not AuditEvent.objects.filter(verb="sso.change").exists()


def test_only_organisers_see_or_change_the_settings(
    network_a: Network,
    network_b: Network,
    organiser_a: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    with tenant_context(network_a):
        sso_settings_set(
            actor=organiser_a,
            kind="oidc",
            name="Trust ID",
            issuer="https://id.trust.example",
            client_id="hexitime",
            client_secret=SECRET,
            password_sign_in=True,
        )
    member = make_member(network_a)
    client_a.force_login(member)
    assert client_a.get("/settings/sso/").status_code == 403
    assert client_a.post("/settings/sso/", _form(name="Mine")).status_code == 403
    assert client_a.post("/settings/sso/remove/").status_code == 403
    assert client_a.get("/api/v1/sso/").status_code == 403
    with tenant_context(network_a), pytest.raises(PermissionDenied):
        sso_settings_set(
            actor=member, kind="google", client_id="x", client_secret=SECRET, password_sign_in=True
        )
    # B's organiser sees B's (none), and cannot change A's.
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    assert client_b.get("/api/v1/sso/").json() == {"configured": False}
    assert client_b.post("/settings/sso/remove/").status_code == 302
    with tenant_context(network_a):
        assert SsoSettings.objects.get().name == "Trust ID"


def test_a_secret_copied_into_another_network_does_not_decrypt(
    network_a: Network, network_b: Network, organiser_a: Member
) -> None:
    with tenant_context(network_a):
        row = sso_settings_set(
            actor=organiser_a,
            kind="google",
            client_id="g",
            client_secret=SECRET,
            password_sign_in=True,
        )
    with tenant_context(network_b):
        assert secret_decrypt(row.client_secret_encrypted) is None


def test_the_connection_test_fetches_discovery_and_says_what_failed(
    network_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    assert sso_connection_check(issuer=provider.issuer).keys == 1
    with pytest.raises(SsoRefused, match="Could not reach"):
        sso_connection_check(issuer=f"https://127.0.0.1:{free_port()}")
    with pytest.raises(SsoRefused, match="answered HTTP 404"):
        sso_connection_check(issuer=f"{provider.issuer}/elsewhere")
    connect(network_a, provider, organiser_a, client_id="check-a")
    client_a.force_login(organiser_a)
    answer = client_a.post("/settings/sso/test/", follow=True)
    assert "The connection works" in answer.content.decode()
    with tenant_context(network_a):
        SsoSettings.objects.update(issuer=f"https://127.0.0.1:{free_port()}")
    cache.clear()  # the settings were changed behind the service's back
    answer = client_a.post("/settings/sso/test/", follow=True)
    assert "The connection failed: Could not reach" in answer.content.decode()
