"""The demonstration networks `hexitime up` loads on first start."""

from __future__ import annotations

from django.core.management import call_command
from django_tenants.utils import tenant_context

from core.announcements.models import Delivery, Recipient
from core.announcements.selectors import announcements_shown
from core.campaigns.models import CampaignMember
from core.campaigns.selectors import campaign_items, campaigns_active
from core.cpd.models import EntryNote, Record
from core.exchanges.models import Exchange, Thanks
from core.exchanges.services import exchange_settings
from core.giving.models import Gift
from core.listings.models import ResponseInvitation
from core.listings.selectors import listing_search, listing_suggestions
from core.members.models import Block, Member
from core.notifications.models import Kind, Notification
from core.projects.models import Project, Volunteer
from core.safety.models import Report
from core.stories.models import Story
from hexitime.demo import DEMO_NETWORKS, STAFF_EMAIL, demo_load, demo_logins
from ledger.models import Entry
from ledger.selectors import network_totals
from ledger.services import issuance_account, pot_account, project_account
from tenants.models import Network
from theming.selectors import theme_for


def test_demo_networks_live_in_their_own_schemas_with_their_own_members(db: None) -> None:
    demo_load(members_per_network=12)
    networks = {n.slug: n for n in Network.objects.filter(slug__in=["oxford-ics", "wbs"])}
    assert networks["oxford-ics"].schema_name == "net_oxford_ics"
    assert networks["wbs"].schema_name == "net_wbs"
    emails = {}
    for slug, network in networks.items():
        with tenant_context(network):
            emails[slug] = set(Member.objects.values_list("email", flat=True))
            # Every demo network has a funded project with hours already confirmed.
            assert Project.objects.filter(
                state=Project.State.APPROVED, volunteers__confirmed_minutes__gt=0
            ).exists()
            assert Member.objects.get(email=f"organiser@{slug}.example").check_password(
                "hexitime-demo"
            )
    assert len(emails["oxford-ics"]) == len(emails["wbs"]) == 13
    with tenant_context(networks["wbs"]):
        ben = Member.objects.exclude(email__startswith="organiser@").first()
        assert ben is not None and ben.profession and ben.job_title and ben.bio and ben.skills
        totals = network_totals()
        # Welcome gifts and the funded project's 40-hour budget, less the minutes that group
        # sessions' rounding returned to the issuance account.
        returned = sum(
            Entry.objects.filter(
                account=issuance_account(), transfer__idempotency_key__startswith="groupsession:"
            ).values_list("amount", flat=True)
        )
        assert (totals.issued + returned, totals.members_with_credit) == (13 * 120 + 40 * 60, 13)
        assert len(listing_search(query="sepsis")) > 0
        people = Member.objects.exclude(email__startswith="organiser@")
        assert all(m.profession and m.job_title and m.skills for m in people)
        assert any(listing_suggestions(member=m) for m in people)
        # Requests reached the people their skills match, and posters invited some.
        assert Notification.objects.filter(kind=Kind.REQUEST_MATCH).exists()
        assert ResponseInvitation.objects.filter(listing__kind="request").exists()
        # The organiser's announcement is on every member's home page; nobody is emailed.
        assert all(announcements_shown(member=m) for m in people)
        assert not Recipient.objects.filter(email=Delivery.PENDING).exists()
        funded = Project.objects.get(state=Project.State.APPROVED)
        confirmed = sum(
            Volunteer.objects.filter(project=funded).values_list("confirmed_minutes", flat=True)
        )
        assert Volunteer.objects.filter(project=funded).count() == 4 and confirmed > 0
        given = sum(Gift.objects.filter(project=funded).values_list("minutes", flat=True))
        assert project_account(funded.pk).balance == funded.budget_minutes - confirmed + given
        # Gifts between members, to the project and to the pot, and grants from it.
        assert {"member", "project", "pot", "grant"} <= set(
            Gift.objects.values_list("kind", flat=True)
        )
        assert totals.balanced and pot_account().balance >= 0
        assert Project.objects.filter(state=Project.State.PROPOSED).count() == 1
        states = set(Exchange.objects.values_list("state", flat=True))
        assert {"completed", "responded", "scheduled", "recorded", "disputed"} <= states
        assert Exchange.objects.filter(state="completed").count() >= 6
        assert Thanks.objects.exists()
        # Stories picked for the pages, reflections written, a record issued.
        assert Story.objects.filter(on_home=True, on_impact=True, consent=True).exists()
        assert EntryNote.objects.exclude(reflection="").exists()
        assert Record.objects.exists()
        assert Notification.objects.exists()
        assert not Notification.objects.filter(emailed_at__isnull=True).exists()  # no emails
        # Safety: a contact on every exchange page, a block, a queue for the organiser.
        assert exchange_settings().has_safeguarding_contact
        assert Block.objects.count() == 1
        open_kinds = set(Report.objects.filter(status="open").values_list("target_kind", flat=True))
        assert {"listing", "profile", "message"} <= open_kinds
        assert Report.objects.filter(outcome="warn").exists()
        # One campaign running, with listings, a session and the funded project, and hours.
        (campaign,) = campaigns_active(member=Member.objects.get(email=f"organiser@{slug}.example"))
        kinds = {item.kind for item in campaign_items(campaign=campaign)}
        assert kinds == {"listing", "session", "project"} and campaign.counted_minutes > 0
        assert CampaignMember.objects.filter(campaign=campaign).count() == 5
    call_command("ledger_audit")  # the demo's credit adds up
    colours = {slug: theme_for(network).primary_colour for slug, network in networks.items()}
    assert colours["oxford-ics"] != colours["wbs"]  # each demo network looks like its own
    assert all(e.endswith(("@ouh.nhs.uk", "@oxford-ics.example")) for e in emails["oxford-ics"])
    assert emails["oxford-ics"].isdisjoint(emails["wbs"])
    assert Member.objects.filter(email=STAFF_EMAIL, is_staff=True).exists()  # public schema


def test_loading_the_demo_twice_changes_nothing(db: None) -> None:
    demo_load(members_per_network=3)
    assert demo_load(members_per_network=3) == []
    assert Network.objects.filter(slug__in=[slug for slug, *_ in DEMO_NETWORKS]).count() == 2
    assert [where for where, _ in demo_logins()] == ["staff", "oxford-ics", "wbs"]
