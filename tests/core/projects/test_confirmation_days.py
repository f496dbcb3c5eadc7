"""A confirmation of a volunteer's hours is one per volunteer and day: sending the form
again (Back and resubmit, a second page load) pays nothing more, whatever key the form
carried; hours before the project started, or in the future, are refused."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.projects.models import HoursConfirmation, Volunteer
from core.projects.services import ProjectRefused, volunteer_confirm_hours, volunteer_pledge
from ledger.models import Transfer
from ledger.selectors import member_balance

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from core.projects.models import Project
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def pledged(network_a: Network, funded: Project, make_member: Callable[..., Member]) -> Volunteer:
    amara = make_member(network_a, full_name="Amara Adeyemi")
    with tenant_context(network_a):
        return volunteer_pledge(actor=amara, project=funded, pledged_minutes=180)


def _key(page: bytes) -> str:
    found = re.search(rb'name="key" value="([0-9a-f]{32})"', page)
    assert found is not None
    return found.group(1).decode()


def test_back_and_resubmit_pays_once(
    network_a: Network, lead: Member, funded: Project, pledged: Volunteer, client_a: NetworkClient
) -> None:
    client_a.force_login(lead)
    page = f"/projects/{funded.pk}/confirm/"
    first = client_a.get(page)
    assert f'value="{timezone.localdate().isoformat()}"' in first.content.decode()
    form = {"volunteer": pledged.pk, "minutes": "2.5", "worked_on": _days_ago(1).isoformat()}
    sent = client_a.post(page, {**form, "key": _key(first.content)}, follow=True)
    assert b"Amara Adeyemi has been paid 2 hours 30 minutes." in sent.content
    # Back, and the same form again: the page is loaded anew and carries a new key.
    again = client_a.post(page, {**form, "key": _key(client_a.get(page).content)}, follow=True)
    assert b"already confirmed" in again.content
    with tenant_context(network_a):
        assert member_balance(member=pledged.member) == 150
        assert Volunteer.objects.get(pk=pledged.pk).confirmed_minutes == 150
        assert HoursConfirmation.objects.count() == 1
        assert Transfer.objects.filter(kind=Transfer.Kind.PROJECT_CREDIT).count() == 1
    # Through the API, under another key: still the same confirmation.
    api = client_a.post(
        f"/api/v1/projects/{funded.pk}/confirmations/",
        {"volunteer_id": pledged.pk, "minutes": 150, "worked_on": _days_ago(1).isoformat()},
        content_type="application/json",
    )
    assert api.status_code == 201, api.content
    with tenant_context(network_a):
        assert HoursConfirmation.objects.get().pk == api.json()["id"]
        assert api.json()["worked_on"] == _days_ago(1).isoformat()
        assert member_balance(member=pledged.member) == 150


def test_another_day_pays_and_other_hours_on_the_same_day_are_refused(
    network_a: Network, lead: Member, funded: Project, pledged: Volunteer
) -> None:
    with tenant_context(network_a):
        volunteer_confirm_hours(
            actor=lead,
            project=funded,
            volunteer=pledged,
            minutes=60,
            worked_on=_days_ago(2),
            key="monday",
        )
        volunteer_confirm_hours(
            actor=lead,
            project=funded,
            volunteer=pledged,
            minutes=45,
            worked_on=_days_ago(1),
            key="tuesday",
        )
        with pytest.raises(ProjectRefused, match="already confirmed 1 hour") as refused:
            volunteer_confirm_hours(
                actor=lead,
                project=funded,
                volunteer=pledged,
                minutes=30,
                worked_on=_days_ago(2),
                key="monday-again",
            )
        assert refused.value.field == "worked_on"
        assert member_balance(member=pledged.member) == 105


def test_hours_before_the_start_or_in_the_future_are_refused(
    network_a: Network, lead: Member, funded: Project, pledged: Volunteer, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        for day, message in [
            (funded.starts_on - datetime.timedelta(days=1), "The project starts on"),
            (timezone.localdate() + datetime.timedelta(days=1), "cannot be in the future"),
        ]:
            with pytest.raises(ProjectRefused, match=message) as refused:
                volunteer_confirm_hours(
                    actor=lead,
                    project=funded,
                    volunteer=pledged,
                    minutes=60,
                    worked_on=day,
                    key=f"k{day}",
                )
            assert refused.value.field == "worked_on"
    client_a.force_login(lead)
    early = (funded.starts_on - datetime.timedelta(days=1)).isoformat()
    page = client_a.post(
        f"/projects/{funded.pk}/confirm/",
        {
            "volunteer": pledged.pk,
            "minutes": "1",
            "worked_on": early,
            "key": "early",
        },
    )
    assert "The project starts on" in page.content.decode()
    with tenant_context(network_a):
        assert not HoursConfirmation.objects.exists()
        assert member_balance(member=pledged.member) == 0


def test_another_networks_member_cannot_confirm_hours(
    network_a: Network,
    network_b: Network,
    funded: Project,
    pledged: Volunteer,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    client_b.force_login(make_member(network_b))
    form = {
        "volunteer": pledged.pk,
        "minutes": "1",
        "worked_on": _days_ago(1).isoformat(),
        "key": "x",
    }
    assert client_b.post(f"/projects/{funded.pk}/confirm/", form).status_code == 404
    api = client_b.post(
        f"/api/v1/projects/{funded.pk}/confirmations/",
        {"volunteer_id": pledged.pk, "minutes": 60, "worked_on": _days_ago(1).isoformat()},
        content_type="application/json",
    )
    assert api.status_code == 404
    with tenant_context(network_a):
        assert not HoursConfirmation.objects.exists()
