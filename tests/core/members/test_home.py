"""The member's home page panels say what is true of the member reading them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.members.services import member_profile_update
from core.notifications.models import Kind
from core.notifications.services import notification_send

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def test_a_member_with_skills_and_no_match_is_not_asked_to_add_skills(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    skilled = make_member(network_a, skills=["coaching", "qi methods", "data", "teaching"])
    client_a.force_login(skilled)
    page = client_a.get("/").content.decode()
    assert "No open offers or requests match your skills yet." in page
    assert "Add your skills" not in page

    newcomer = make_member(network_a)
    client_a.force_login(newcomer)
    page = client_a.get("/").content.decode()
    assert "Add your skills</a> to your profile and we will suggest" in page


def test_a_member_with_no_credit_is_told_so_in_words(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))  # no welcome gift
    page = client_a.get("/").content.decode()
    assert "You have <strong>no credit</strong> at the moment" in page
    assert "0 minutes" not in page


def test_a_notification_just_sent_says_now_not_zero_minutes_ago(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        notification_send(
            recipient=alice,
            kind=Kind.RESPONSE_ACCEPTED,
            key="k",
            title="Your response was accepted",
        )
    client_a.force_login(alice)
    page = client_a.get("/notifications/").content.decode()
    assert "0 minutes ago" not in page
    assert ">now</time>" in page


def test_skill_tags_read_in_sentence_case_with_their_acronyms(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        member_profile_update(actor=alice, skills=["qi methods", "spc charts", "run charts"])
    client_a.force_login(alice)
    edit = client_a.get("/members/profile/edit/").content.decode()
    assert "QI methods" in edit and "SPC charts" in edit and "Run charts" in edit
    assert "Qi methods" not in edit and "Spc charts" not in edit
    profile = client_a.get(f"/members/{alice.pk}/").content.decode()
    assert "<li>QI methods</li>" in profile and "<li>SPC charts</li>" in profile
