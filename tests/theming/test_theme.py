from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Role
from tests.conftest import streamed
from theming.contrast import contrast_ratio, passing_shade
from theming.models import Theme
from theming.services import ThemeRefused, logo_check, theme_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x00\x5e\xb8" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olivia Organiser", role=Role.ORGANISER)


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.005)  # AA grey


def test_a_pale_colour_is_refused_with_its_ratio_and_a_passing_shade(
    network_a: Network, organiser: Member
) -> None:
    with pytest.raises(ThemeRefused) as refused:
        theme_update(
            network=network_a, actor=organiser, primary_colour="#7fbfff", accent_colour="#007f3b"
        )
    error = refused.value
    assert error.field == "primary_colour"
    assert "contrast ratio of 1.8:1" in error.message
    assert error.extra["suggestion"] in error.message
    assert contrast_ratio(error.extra["suggestion"], "#f0f4f5") >= 4.5
    assert not Theme.objects.filter(network=network_a).exists()  # nothing written


def test_passing_shade_keeps_the_hue_and_passes() -> None:
    shade = passing_shade("#ffb81c", against=["#ffffff"])  # NHS warm yellow
    assert contrast_ratio(shade, "#ffffff") >= 4.5
    assert shade != "#000000"


def test_saving_bumps_the_version_and_serves_a_cached_stylesheet(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    theme = theme_update(
        network=network_a,
        actor=organiser,
        primary_colour="#330072",
        accent_colour="#007F3B",
        welcome_headline="Learn from each other",
    )
    assert (theme.version, theme.accent_colour) == (2, "#007f3b")
    css = client_a.get("/theme/2.css")
    assert css.status_code == 200
    assert "--colour-primary: #330072;" in css.content.decode()
    assert "immutable" in css["Cache-Control"]
    assert client_a.get("/theme/1.css")["Location"] == "/theme/2.css"  # old URLs move on
    home = client_a.get("/").content.decode()
    assert 'href="/theme/2.css"' in home
    assert "<h1>Learn from each other</h1>" in home
    with tenant_context(network_a):
        event = AuditEvent.objects.get(verb="theme.update")
        assert (event.after or {}).get("primary_colour") == "#330072"


def test_two_networks_have_their_own_colours(
    network_a: Network, network_b: Network, organiser: Member, client_b: NetworkClient
) -> None:
    theme_update(
        network=network_a, actor=organiser, primary_colour="#330072", accent_colour="#007f3b"
    )
    css_b = client_b.get("/theme/1.css").content.decode()
    assert "#005eb8" in css_b  # B still has the default


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("logo.png", b"<html><script>alert(1)</script></html>", "must be a PNG or SVG"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "scripts",
        ),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "scripts"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<a x:href="javascript:alert(1)"><text>hi</text></a></svg>',
            "scripts",
        ),
        ("logo.svg", b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x "x">]><svg/>', "scripts"),
        ("logo.png", _png() + b"\0" * (200 * 1024), "larger than 200 KB"),
    ],
    ids=["html-named-png", "svg-script", "svg-onload", "svg-js-link", "svg-entity", "too-big"],
)
def test_unsafe_or_fake_logos_are_refused(name: str, data: bytes, message: str) -> None:
    with pytest.raises(ThemeRefused, match=message):
        logo_check(_upload(name, data))


def test_a_real_png_and_a_plain_svg_are_accepted_and_served(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    assert (
        logo_check(
            _upload("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>')
        )
        == "svg"
    )
    theme = theme_update(
        network=network_a,
        actor=organiser,
        primary_colour="#005eb8",
        accent_colour="#007f3b",
        logo=_upload("logo.png", _png()),
    )
    assert (theme.logo.name or "").startswith(f"theme/logo-{theme.version}")
    served = client_a.get(f"/theme/logo/{theme.version}")
    assert served["Content-Type"] == "image/png"
    assert streamed(served).startswith(b"\x89PNG")


def test_branding_page_for_organisers_only_and_per_network(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    assert client_a.get("/settings/branding/").status_code == 403
    client_a.force_login(organiser)
    page = client_a.get("/settings/branding/")
    assert b'<label for="id_primary_colour">' in page.content
    response = client_a.post(
        "/settings/branding/", {"primary_colour": "#eeeeee", "accent_colour": "#007f3b"}
    )
    assert b"There is a problem" in response.content
    assert b'href="#id_primary_colour"' in response.content
    response = client_a.post(
        "/settings/branding/",
        {
            "primary_colour": "#330072",
            "accent_colour": "#007f3b",
            "footer_links": "Privacy | https://example.nhs.uk/privacy",
        },
    )
    assert response.status_code == 302
    assert b"https://example.nhs.uk/privacy" in client_a.get("/").content
    # An organiser of B (same permission, other network) changes only B.
    other = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(other)
    client_b.post("/settings/branding/", {"primary_colour": "#000000", "accent_colour": "#000000"})
    assert Theme.objects.get(network=network_a).primary_colour == "#330072"
    assert Theme.objects.get(network=network_b).primary_colour == "#000000"


def test_logo_file_is_stored_in_the_networks_own_media_folder(
    network_a: Network, organiser: Member
) -> None:
    theme = theme_update(
        network=network_a,
        actor=organiser,
        primary_colour="#005eb8",
        accent_colour="#007f3b",
        logo=_upload("l.png", _png()),
    )
    with tenant_context(network_a):
        assert f"/{network_a.schema_name}/theme/" in theme.logo.path


def test_favicon_is_checked_like_a_logo_and_named_by_pages(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    with pytest.raises(ThemeRefused, match="favicon must be a PNG or SVG") as refused:
        theme_update(
            network=network_a,
            actor=organiser,
            primary_colour="#005eb8",
            accent_colour="#007f3b",
            logo=_upload("logo.png", _png()),
            favicon=_upload("icon.png", b"<!doctype html><p>not a picture"),
        )
    assert refused.value.field == "favicon"
    assert not Theme.objects.filter(network=network_a).exists()  # the good logo was not kept
    with pytest.raises(ThemeRefused, match="larger than 50 KB"):
        logo_check(
            _upload("i.png", _png() + b"\0" * 51 * 1024),
            field="favicon",
            label="favicon",
            max_bytes=50 * 1024,
        )
    theme = theme_update(
        network=network_a,
        actor=organiser,
        primary_colour="#005eb8",
        accent_colour="#007f3b",
        favicon=_upload("i.png", _png()),
    )
    assert f'<link rel="icon" href="/theme/favicon/{theme.version}">' in (
        client_a.get("/").content.decode()
    )
    served = client_a.get(f"/theme/favicon/{theme.version}")
    assert served["Content-Type"] == "image/png"
    assert "immutable" in served["Cache-Control"]


def test_the_live_preview_measures_with_the_saving_rule(
    network_a: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    client_a.force_login(organiser)
    preview = client_a.post(
        "/settings/branding/preview/", {"primary_colour": "#7fbfff", "accent_colour": "#007f3b"}
    ).content.decode()
    assert "contrast ratio of 1.8:1" in preview
    assert '"--colour-primary": "#7fbfff"' in preview  # set by css-vars.js (CSP)
    assert "<html" not in preview  # a fragment for htmx to swap in
    fine = client_a.post(
        "/settings/branding/preview/", {"primary_colour": "#330072", "accent_colour": "#007f3b"}
    ).content.decode()
    assert "Both colours pass" in fine
    assert not Theme.objects.filter(network=network_a).exists()  # a preview saves nothing
    client_a.force_login(make_member(network_a))
    assert client_a.post("/settings/branding/preview/", {}).status_code == 403


def test_another_network_can_neither_read_nor_change_a_theme(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    theme = theme_update(
        network=network_a,
        actor=organiser,
        primary_colour="#330072",
        accent_colour="#007f3b",
        logo=_upload("logo.png", _png()),
        welcome_headline="Only in A",
    )
    # B's host serves B's own theme, whatever version number is asked for.
    assert client_b.get(f"/theme/{theme.version}.css")["Location"] == "/theme/1.css"
    assert "#330072" not in client_b.get("/theme/1.css").content.decode()
    assert client_b.get(f"/theme/logo/{theme.version}").status_code == 404
    assert "Only in A" not in client_b.get("/").content.decode()
    # B's organiser, signed in on B, is a stranger on A's host: A's page sends them to sign in.
    other = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(other)
    assert client_b.get("/settings/branding/").status_code == 200
    session = client_b.cookies["sessionid"].value
    client_a.cookies["sessionid"] = session
    response = client_a.post(
        "/settings/branding/", {"primary_colour": "#000000", "accent_colour": "#000000"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Theme.objects.get(network=network_a).primary_colour == "#330072"
