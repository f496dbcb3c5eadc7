"""Languages: the network's default, the switcher, the member's saved choice, emails in the
recipient's language, dates in the page's language, and networks kept apart."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.core import mail
from django.template import Context, Template
from django.utils import translation
from django_tenants.utils import tenant_context

from core.exchanges.models import Exchange
from core.listings.services import listing_create
from core.members.models import Member, Role
from core.members.services import LanguageRefused, member_language_set
from core.notifications.models import Kind
from core.notifications.services import notification_send
from core.notifications.tasks import notification_email
from tenants.selectors import network_language
from theming.models import DEFAULT_ACCENT, DEFAULT_PRIMARY
from theming.services import ThemeRefused, theme_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import Settings

    from tenants.models import Network
    from tests.conftest import NetworkClient
    from theming.models import Theme

pytestmark = pytest.mark.django_db


def welsh_default(network: Network, organiser: Member) -> Theme:
    return theme_update(
        network=network,
        actor=organiser,
        primary_colour=DEFAULT_PRIMARY,
        accent_colour=DEFAULT_ACCENT,
        default_language="cy",
    )


@pytest.fixture
def organiser_a(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olwen Organiser", role=Role.ORGANISER)


def test_a_network_is_english_until_its_organiser_chooses_welsh(
    network_a: Network,
    network_b: Network,
    organiser_a: Member,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    assert b'<html lang="en-gb">' in client_a.get("/").content
    welsh_default(network_a, organiser_a)
    page = client_a.get("/")
    assert b'<html lang="cy">' in page.content
    assert page["Content-Language"] == "cy"
    assert "Sut mae'n gweithio" in page.content.decode()  # "How it works"
    # Network B keeps its own default.
    other = client_b.get("/")
    assert b'<html lang="en-gb">' in other.content
    assert "How it works" in other.content.decode()


def test_an_organiser_sets_the_default_on_the_branding_page_of_their_network_only(
    network_a: Network,
    network_b: Network,
    organiser_a: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    response = client_b.post(
        "/settings/branding/",
        {
            "primary_colour": DEFAULT_PRIMARY,
            "accent_colour": DEFAULT_ACCENT,
            "default_language": "cy",
        },
    )
    assert response.status_code == 302
    network_a.refresh_from_db()
    network_b.refresh_from_db()
    assert network_language(network_b) == "cy"
    assert network_language(network_a) == "en-gb"
    # A language the platform does not offer is refused, with the form shown again.
    client_a.force_login(organiser_a)
    refused = client_a.post(
        "/settings/branding/",
        {
            "primary_colour": DEFAULT_PRIMARY,
            "accent_colour": DEFAULT_ACCENT,
            "default_language": "fr",
        },
    )
    assert refused.status_code == 200
    assert b"There is a problem" in refused.content
    network_a.refresh_from_db()
    assert network_language(network_a) == "en-gb"
    with pytest.raises(ThemeRefused):
        theme_update(
            network=network_a,
            actor=organiser_a,
            primary_colour=DEFAULT_PRIMARY,
            accent_colour=DEFAULT_ACCENT,
            default_language="xx",
        )


def test_the_switcher_sets_a_cookie_for_visitors_and_saves_a_members_choice(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    response = client_a.post("/i18n/language/", {"language": "cy", "next": "/listings/"})
    assert response.status_code == 302
    assert response["Location"] == "/listings/"
    assert response.cookies["django_language"].value == "cy"
    assert b'<html lang="cy">' in client_a.get("/").content

    member = make_member(network_a, email="mair@nhs.net")
    client_a.force_login(member)
    client_a.post("/i18n/language/", {"language": "cy", "next": "/"})
    with tenant_context(network_a):
        assert Member.objects.get(pk=member.pk).language == "cy"
    # Signed in again on a browser without the cookie: the profile still says Welsh.
    fresh = type(client_a)(network_a)
    fresh.force_login(member)
    page = fresh.get("/")
    assert b'<html lang="cy">' in page.content
    assert "Beth hoffech chi ei wneud heddiw?" in page.content.decode()


def test_an_unknown_language_or_an_outside_address_changes_nothing(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    response = client_a.post("/i18n/language/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert "django_language" not in response.cookies
    with tenant_context(network_a):
        assert Member.objects.get(pk=member.pk).language == ""
        with pytest.raises(LanguageRefused):
            member_language_set(actor=member, language="xx")
    outside = client_a.post("/i18n/language/", {"language": "cy", "next": "https://evil.example/"})
    assert outside["Location"] == "/"
    assert client_a.get("/i18n/language/").status_code == 405


def test_a_member_of_b_choosing_welsh_does_not_change_a(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    in_a = make_member(network_a, email="same@nhs.net")
    in_b = make_member(network_b, email="same@nhs.net")
    client_b.force_login(in_b)
    client_b.post("/i18n/language/", {"language": "cy", "next": "/"})
    with tenant_context(network_a):
        assert Member.objects.get(pk=in_a.pk).language == ""
    with tenant_context(network_b):
        assert Member.objects.get(pk=in_b.pk).language == "cy"
    client_a.force_login(in_a)
    assert b'<html lang="en-gb">' in client_a.get("/").content


def test_emails_are_written_in_the_recipients_language(
    network_a: Network, organiser_a: Member, make_member: Callable[..., Member], settings: Settings
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    english = make_member(network_a, full_name="Ann Jones")
    welsh = make_member(network_a, full_name="Bethan Huws")
    with tenant_context(network_a):
        member_language_set(actor=welsh, language="cy")
        ids = [
            notification_send(
                recipient=member,
                kind=Kind.RESPONSE_RECEIVED,
                key=f"t:{member.pk}",
                title="Hi",
                url="/exchanges/",
            ).pk
            for member in (english, welsh)
        ]
    with translation.override("cy"):  # the worker's own language plays no part
        for notification_id in ids:
            notification_email(schema_name=network_a.schema_name, notification_id=notification_id)
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert bodies[english.email].startswith("Hello Ann,")
    assert "You can choose which emails you receive" in bodies[english.email]
    assert bodies[welsh.email].startswith("Helo Bethan,")
    assert "Gallwch ddewis pa e-byst rydych yn eu cael" in bodies[welsh.email]


def test_dates_follow_the_language() -> None:
    template = Template('{{ day|date:"l j F Y" }}')
    day = datetime.date(2026, 12, 1)
    with translation.override("en-gb"):
        assert template.render(Context({"day": day})) == "Tuesday 1 December 2026"
    with translation.override("cy"):
        assert template.render(Context({"day": day})) == "Dydd Mawrth 1 Rhagfyr 2026"


def test_the_javascript_catalogue_is_served_from_the_site(client_a: NetworkClient) -> None:
    response = client_a.get("/i18n/catalog.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"django.gettext" in response.content


def test_a_refusal_is_in_the_language_the_member_chose(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    welsh = make_member(network_a, full_name="Gwen Welsh")
    english = make_member(network_b, full_name="Edward English")
    with tenant_context(network_a):
        member_language_set(actor=welsh, language="cy")
        mine_a = listing_create(
            actor=welsh,
            kind="offer",
            title="Coetsio QI",
            description="Cylchoedd PDSA",
            category="coaching",
        )
    with tenant_context(network_b):
        member_language_set(actor=english, language="en-gb")
        mine_b = listing_create(
            actor=english,
            kind="offer",
            title="QI coaching",
            description="PDSA cycles",
            category="coaching",
        )
    welsh_refusal, english_refusal = "Eich hysbyseb chi yw hon.", "This is your own listing."
    # Responding to one's own listing, on the page and through the API.
    client_a.force_login(welsh)
    page = client_a.post(f"/exchanges/respond/{mine_a.pk}/", {"message": "Fi?"}, follow=True)
    assert page.status_code == 200
    assert welsh_refusal in page.content.decode()
    assert english_refusal not in page.content.decode()
    api = client_a.post(
        "/api/v1/exchanges/",
        {"listing": mine_a.pk, "message": "Fi?"},
        content_type="application/json",
    )
    assert api.status_code == 409
    assert api.json()["detail"] == welsh_refusal
    # Network B's member chose English: the same refusal reads in English there.
    client_b.force_login(english)
    page = client_b.post(f"/exchanges/respond/{mine_b.pk}/", {"message": "Me?"}, follow=True)
    assert english_refusal in page.content.decode()
    assert welsh_refusal not in page.content.decode()
    api = client_b.post(
        "/api/v1/exchanges/",
        {"listing": mine_b.pk, "message": "Me?"},
        content_type="application/json",
    )
    assert api.json()["detail"] == english_refusal
    # Network A's listing stays out of network B's view.
    assert "Coetsio QI" not in client_b.get("/api/v1/listings/").content.decode()
    # Nothing was opened in either network.
    for network in (network_a, network_b):
        with tenant_context(network):
            assert not Exchange.objects.exists()
