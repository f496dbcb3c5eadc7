"""The installable app: each network's manifest and icons from its branding, the service
worker and the offline page (tests/browser/test_pwa.py drives them in Chromium)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.members.models import Role
from tests.conftest import NetworkClient
from theming.services import theme_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client

    from core.members.models import Member
    from tenants.models import Network


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, role=Role.ORGANISER)


def _icon(client: Client, src: str) -> Image.Image:
    response = client.get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_each_network_has_its_own_manifest_from_its_branding(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    theme_update(
        network=network_a, actor=organiser, primary_colour="#330072", accent_colour="#007f3b"
    )
    a = client_a.get("/manifest.webmanifest")
    assert a["Content-Type"] == "application/manifest+json"
    manifest = a.json()
    assert manifest["name"] == "Network A"
    assert manifest["short_name"] == "Network A"
    assert manifest["theme_color"] == "#330072"
    assert manifest["background_color"] == "#ffffff"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert purposes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        image = _icon(client_a, icon["src"])
        assert f"{image.width}x{image.height}" == icon["sizes"]
    b = client_b.get("/manifest.webmanifest").json()
    assert b["name"] == "Network B"
    assert b["theme_color"] == "#005eb8"  # B's default, not A's colour


def test_a_long_name_is_cut_for_the_home_screen(make_network: Callable[..., Network]) -> None:
    network = make_network("trust", "Northern Care Alliance NHS Foundation Trust")
    manifest = NetworkClient(network).get("/manifest.webmanifest").json()
    assert manifest["short_name"] == "Northern Car"
    assert manifest["name"] == "Northern Care Alliance NHS Foundation Trust"


def test_icons_are_drawn_from_the_logo_or_the_default_in_the_networks_colour(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    version = client_a.get("/manifest.webmanifest").json()["icons"][0]["src"].split("/")[3]
    default = _icon(client_a, f"/theme/icon/{version}/192.png").convert("RGB")
    assert default.getpixel((96, 40)) == (0, 94, 184)  # the hexagon, in NHS blue
    assert default.getpixel((96, 96)) == (255, 255, 255)  # its H
    assert default.getpixel((2, 2)) == (255, 255, 255)
    # A red logo: the icon now shows it, centred on white.
    red = Image.new("RGB", (40, 40), "#d5281b")
    png = io.BytesIO()
    red.save(png, format="PNG")
    theme = theme_update(
        network=network_a,
        actor=organiser,
        primary_colour="#005eb8",
        accent_colour="#007f3b",
        logo=SimpleUploadedFile("logo.png", png.getvalue()),
    )
    icon = _icon(client_a, f"/theme/icon/{theme.version}/192.png").convert("RGB")
    assert icon.getpixel((96, 96)) == (213, 40, 27)
    assert icon.getpixel((2, 2)) == (255, 255, 255)
    maskable = _icon(client_a, f"/theme/icon/{theme.version}/maskable-512.png").convert("RGB")
    # Inside the middle 80% (what a circular mask keeps), with margin left around it.
    assert maskable.getpixel((256, 256)) == (213, 40, 27)
    assert maskable.getpixel((60, 256)) == (255, 255, 255)
    # An old version's icon, or a size not offered, is not found.
    assert client_a.get(f"/theme/icon/{version}/192.png").status_code == 404
    assert client_a.get(f"/theme/icon/{theme.version}/64.png").status_code == 404


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(
    client_a: NetworkClient, network_a: Network
) -> None:
    response = client_a.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    script = response.content.decode()
    assert '"/offline/"' in script
    assert "/theme/1.css" in script


def test_the_offline_page_needs_no_sign_in_and_says_what_works(
    client_a: NetworkClient, network_a: Network
) -> None:
    response = client_a.get("/offline/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>You are offline</h1>" in page
    assert "What works without a connection" in page
    assert "Sign in" not in page  # kept on the device: it names no one, offers no menu


def test_network_pages_name_the_manifest_and_ios_icons(
    client_a: NetworkClient, network_a: Network
) -> None:
    page = client_a.get("/accounts/login/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/theme/icon/1/180.png">' in page
    assert '<meta name="apple-mobile-web-app-title" content="Network A">' in page
    assert 'data-service-worker="/sw.js"' in page
    assert _icon(client_a, "/theme/icon/1/180.png").size == (180, 180)
