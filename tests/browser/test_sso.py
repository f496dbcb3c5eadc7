"""Single sign-on in Chromium: an organiser connects the network to its identity provider
(a real OpenID Connect provider started by the tests) and tests the connection; a new
person signs in through the provider, joins, and lands on their home with the welcome
credit; with password sign-in off, the sign-in page offers only the provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django_tenants.utils import tenant_context

from core.joining.services import join_settings_set
from core.members.models import JoinPolicy, Member, MemberState, Role
from ledger.selectors import member_balance
from tests.browser.conftest import axe_scan, screenshot, sign_in, unlabelled_controls, url
from tests.conftest import host_of
from tests.core.sso.conftest import oidc_provider  # noqa: F401  (the provider fixture)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django.live_server_helper import LiveServer

    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser
    from tests.core.sso.conftest import Provider

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
SECRET = "maple-client-secret-0123456789"


def _serious(found: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [v["id"] for v in result["violations"] if v["impact"] in {"serious", "critical"}]
        for name, result in found.items()
    }


def test_an_organiser_connects_sso_and_a_new_member_signs_in_through_it(
    live_server: LiveServer,
    browser: WatchedBrowser,
    make_network: Callable[..., Network],
    make_member: Callable[..., Member],
    oidc_provider: Provider,  # noqa: F811
) -> None:
    network = make_network("maple", "Maple Trust")
    host = host_of(network)
    organiser = make_member(
        network,
        email="olive@maple.example",
        full_name="Olive Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    with tenant_context(network):
        join_settings_set(actor=organiser, policy=JoinPolicy.OPEN)
    callback = url(live_server, host, "/sso/callback/")
    oidc_provider.client("maple", SECRET, [callback])
    oidc_provider.person("nia", email="nia@maple.example", name="Nia Nowak")
    olive = browser.new_context().new_page()
    nia = browser.new_context(ignore_https_errors=True).new_page()
    found: dict[str, Any] = {}
    unlabelled: dict[str, list[str]] = {}
    try:
        sign_in(olive, live_server, host, "olive@maple.example", PASSWORD)
        olive.goto(url(live_server, host, "/settings/sso/"))
        assert callback in olive.locator("main").inner_text()
        olive.get_by_label("Another OpenID Connect provider").check()
        olive.get_by_label("Name on the sign-in button").fill("Maple ID")
        olive.get_by_label("Issuer or discovery URL").fill(
            f"{oidc_provider.issuer}/.well-known/openid-configuration"
        )
        olive.get_by_label("Client (application) ID").fill("maple")
        olive.get_by_label("Client secret").fill(SECRET)
        olive.get_by_role("button", name="Save").click()
        assert "Single sign-on settings saved" in olive.locator("main").inner_text()
        assert SECRET not in olive.content()
        olive.get_by_role("button", name="Test the connection").click()
        assert "The connection works" in olive.locator("main").inner_text()
        screenshot(olive, "sso-settings")
        found["sso settings"] = axe_scan(olive)
        unlabelled["sso settings"] = unlabelled_controls(olive)

        nia.goto(url(live_server, host, "/accounts/login/"))
        found["sign in with sso"] = axe_scan(nia)
        nia.get_by_role("link", name="Sign in with Maple ID").click()
        nia.get_by_label("User name").fill("nia")
        nia.get_by_role("button", name="Continue").click()
        nia.wait_for_url(url(live_server, host, "/"))
        assert "Signed in as Nia Nowak" in nia.locator("body").inner_text()
        screenshot(nia, "sso-signed-in")
        with tenant_context(network):
            joined = Member.objects.get(email="nia@maple.example")
            assert joined.state == MemberState.ACTIVE and member_balance(member=joined) == 120

        # Passwords off: the sign-in page offers the provider alone.
        olive.goto(url(live_server, host, "/settings/sso/"))
        olive.get_by_label("Members may also sign in with a password").uncheck()
        olive.get_by_role("button", name="Save").click()
        assert "Single sign-on settings saved" in olive.locator("main").inner_text()
        nia.context.clear_cookies()
        nia.goto(url(live_server, host, "/accounts/login/"))
        assert nia.get_by_role("link", name="Sign in with Maple ID").is_visible()
        assert nia.locator("input[type=password]").count() == 0
        found["sign in, sso only"] = axe_scan(nia)
    finally:
        for page in (olive, nia):
            page.context.close()
    assert _serious(found) == {name: [] for name in found}
    assert unlabelled == {name: [] for name in unlabelled}
