"""Matching that reaches people: one skills query behind suggestions, the digest and a
request's matches; members told of requests matching their skills (as they chose, the
fan-out bounded); the poster invites at most five matched members to respond."""

from __future__ import annotations

import datetime
import threading
from functools import partial
from typing import TYPE_CHECKING

import pytest
from django.core import mail
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.listings import services
from core.listings.models import Listing, ResponseInvitation
from core.listings.selectors import (
    listing_matched_members,
    listing_suggestions,
    members_open_to_matching,
    skill_matches,
)
from core.listings.services import (
    InvitationRefused,
    listing_create,
    listing_invite,
    listing_matches_notify,
    listing_status_set,
    listings_weekly_digest,
)
from core.members.models import MemberState, ProfileVisibility
from core.members.services import member_block
from core.notifications.models import Kind, Notification
from core.notifications.services import email_preferences_set, notifications_daily_summaries
from kernel.db import connection
from kernel.errors import NotFound, PermissionDenied
from tests.conftest import at_once, reads

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import DjangoCaptureOnCommitCallbacks

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

RUN_CHARTS = {
    "kind": "request",
    "category": "data",
    "title": "Help with run charts for our falls project",
    "description": "We need someone who knows run charts and QI methods to look at our data.",
}


@pytest.fixture
def poster(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Priya Patel", skills=["coaching"])


@pytest.fixture
def request_listing(network_a: Network, poster: Member) -> Listing:
    with tenant_context(network_a):
        return listing_create(actor=poster, **RUN_CHARTS)


def _told(network: Network, member: Member) -> list[Notification]:
    with tenant_context(network):
        return list(Notification.objects.filter(recipient=member, kind=Kind.REQUEST_MATCH))


def test_one_query_ranks_members_by_how_much_of_a_request_mentions_their_skills(
    network_a: Network, make_member: Callable[..., Member], poster: Member, request_listing: Listing
) -> None:
    both = make_member(network_a, skills=["run charts", "qi methods"])
    one = make_member(network_a, skills=["run charts", "knitting"])
    make_member(network_a, skills=["knitting"])
    with tenant_context(network_a):
        matches = skill_matches(
            members=members_open_to_matching(),
            listings=Listing.objects.filter(pk=request_listing.pk),
        )
        assert [m.member_id for m in matches] == [both.pk, one.pk]
        assert matches[0].score > matches[1].score
        assert matches[0].shared_skills == ["run charts", "qi methods"]
        assert matches[1].shared_skills == ["run charts"]
        # The suggestions ask the same query from the other side: the same pair.
        assert listing_suggestions(member=one) == [request_listing]
        assert listing_suggestions(member=poster) == []  # never one's own
        listing_status_set(actor=poster, listing=request_listing, status="closed")
        assert listing_suggestions(member=one) == []  # only open listings
        assert listing_matched_members(listing=request_listing, viewer=poster) == []


def test_suggestions_are_ranked_once_and_read_afresh_until_the_member_changes_skills(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    poster: Member,
    request_listing: Listing,
) -> None:
    member = make_member(network_a, skills=["run charts"])
    with tenant_context(network_a):
        assert listing_suggestions(member=member) == [request_listing]
        # Kept: the ranking is not asked again, only its listings are read (one query).
        with CaptureQueriesContext(connection) as kept:
            assert listing_suggestions(member=member) == [request_listing]
        assert len(kept) == 1 and "ts_rank" not in kept[0]["sql"]
        # Read afresh: a kept listing closed since is not suggested.
        listing_status_set(actor=poster, listing=request_listing, status="closed")
        assert listing_suggestions(member=member) == []
        listing_status_set(actor=poster, listing=request_listing, status="open")
        # New skills rank again at once.
        member.skills = ["knitting"]
        member.save(update_fields=["skills"])
        with CaptureQueriesContext(connection) as asked:
            assert listing_suggestions(member=member) == []
        assert any("ts_rank" in query["sql"] for query in asked)
    # The same member id in network B finds nothing of A's ranking: B ranks its own.
    with tenant_context(network_b), CaptureQueriesContext(connection) as elsewhere:
        twin = type(member)(pk=member.pk, skills=["run charts"])
        assert listing_suggestions(member=twin) == []
    assert any("ts_rank" in query["sql"] for query in elsewhere)


def test_suggestions_are_ranked_on_every_page_while_redis_is_down(
    network_a: Network, make_member: Callable[..., Member], request_listing: Listing
) -> None:
    member = make_member(network_a, skills=["run charts"])
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: connection refused
        }
    }
    with override_settings(CACHES=unreachable), tenant_context(network_a):
        assert listing_suggestions(member=member) == [request_listing]
        assert listing_suggestions(member=member) == [request_listing]


def test_the_listings_page_suggests_while_browsing_not_above_a_search(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    request_listing: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    """Suggestions help a member browse; once they search or filter, their results come
    first and alone. B's member with the same skills is suggested nothing of A's."""
    client_a.force_login(make_member(network_a, skills=["run charts"]))
    heading = "Suggested for you"
    browsing = client_a.get("/listings/").content.decode()
    assert heading in browsing and request_listing.title in browsing
    for searched in ("?q=falls", "?kind=request", "?category=data", "?q=falls&page=1"):
        page = client_a.get(f"/listings/{searched}").content.decode()
        assert heading not in page, searched
        assert page.count(request_listing.title) == 1, searched  # the result, once
    assert heading in client_a.get("/listings/?q=+").content.decode()  # no words: browsing
    client_b.force_login(make_member(network_b, skills=["run charts"]))
    theirs = client_b.get("/listings/").content.decode()
    assert heading not in theirs and request_listing.title not in theirs


def test_the_digest_asks_the_shared_query_once_for_every_member(
    network_a: Network, make_member: Callable[..., Member], poster: Member, request_listing: Listing
) -> None:
    readers = [make_member(network_a, skills=["run charts"]) for _ in range(4)]
    with tenant_context(network_a), CaptureQueriesContext(connection) as queries:
        assert listings_weekly_digest() == 4
        digests = Notification.objects.filter(kind=Kind.WEEKLY_DIGEST)
        assert {n.recipient_id for n in digests} == {r.pk for r in readers}
    reads = [q for q in queries.captured_queries if "listings_listing" in q["sql"]]
    assert len(reads) == 2  # the matches and the listings they name, not a query per member


def test_members_told_of_a_request_are_those_who_let_it_and_are_active(
    network_a: Network, make_member: Callable[..., Member], poster: Member, request_listing: Listing
) -> None:
    told = make_member(network_a, skills=["run charts"])
    declined = make_member(network_a, skills=["run charts"])
    gone = make_member(
        network_a, skills=["qi methods"], state=MemberState.DEACTIVATED, is_active=False
    )
    with tenant_context(network_a):
        email_preferences_set(actor=declined, choices={}, in_app={Kind.REQUEST_MATCH: False})
        assert listing_matches_notify(listing_id=request_listing.pk) == 1
        assert listing_matches_notify(listing_id=request_listing.pk) == 0  # done already
        listing_status_set(actor=poster, listing=request_listing, status="paused")
        listing_status_set(actor=poster, listing=request_listing, status="open")
        assert listing_matches_notify(listing_id=request_listing.pk) == 1  # reopened...
    (note,) = _told(network_a, told)  # ...but nobody is told of one request twice
    assert note.url == f"/listings/{request_listing.pk}/"
    assert "run charts" in note.body and "Priya Patel" in note.body
    # In the app only: the email, for those who chose it, is the daily summary.
    assert note.email_pending is False and note.emailed_at is None
    assert _told(network_a, declined) == [] and _told(network_a, gone) == []
    assert _told(network_a, poster) == []


def test_posting_a_request_queues_the_matching_after_commit_and_reopening_does_again(
    network_a: Network,
    make_member: Callable[..., Member],
    poster: Member,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with tenant_context(network_a):
        with django_capture_on_commit_callbacks() as posted:
            listing = listing_create(actor=poster, **RUN_CHARTS)
        with django_capture_on_commit_callbacks() as offered:
            listing_create(actor=poster, **{**RUN_CHARTS, "kind": "offer"})
        listing_status_set(actor=poster, listing=listing, status="paused")
        with django_capture_on_commit_callbacks() as reopened:
            listing_status_set(actor=poster, listing=listing, status="open")
    assert len(posted) == 1 and len(reopened) == 1
    assert offered == []  # offers are not matched to people


def test_the_fan_out_is_bounded_to_the_best_matched(
    network_a: Network,
    make_member: Callable[..., Member],
    poster: Member,
    request_listing: Listing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "MATCH_NOTIFY_LIMIT", 2)
    best = [make_member(network_a, skills=["run charts", "qi methods"]) for _ in range(2)]
    rest = [make_member(network_a, skills=["run charts"]) for _ in range(3)]
    with tenant_context(network_a):
        assert listing_matches_notify(listing_id=request_listing.pk) == 2
        told = set(
            Notification.objects.filter(kind=Kind.REQUEST_MATCH).values_list(
                "recipient_id", flat=True
            )
        )
    assert told == {m.pk for m in best}
    assert not told & {m.pk for m in rest}


def test_a_member_of_another_network_is_never_matched_or_told(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    poster: Member,
    request_listing: Listing,
) -> None:
    here = make_member(network_a, skills=["run charts"])
    elsewhere = make_member(network_b, skills=["run charts"])
    with tenant_context(network_a):
        listing_matches_notify(listing_id=request_listing.pk)
        assert [
            m.member.pk for m in listing_matched_members(listing=request_listing, viewer=poster)
        ] == [here.pk]
    with tenant_context(network_b):
        # The same id in B's schema is nothing of A's.
        assert listing_matches_notify(listing_id=request_listing.pk) == 0
        assert not Notification.objects.filter(recipient=elsewhere).exists()


def test_the_daily_summary_is_one_email_a_day_for_those_who_chose_it(
    network_a: Network,
    make_member: Callable[..., Member],
    poster: Member,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    wants = make_member(network_a, skills=["run charts"])
    quiet = make_member(network_a, skills=["run charts"])
    with tenant_context(network_a):
        email_preferences_set(actor=wants, choices={Kind.REQUEST_MATCH: True})
        for n in range(3):
            listing = listing_create(actor=poster, **{**RUN_CHARTS, "title": f"Run charts {n}"})
            listing_matches_notify(listing_id=listing.pk)
        with django_capture_on_commit_callbacks() as queued:
            assert notifications_daily_summaries() == 1
            assert notifications_daily_summaries() == 0  # the same day: nothing more
        (summary,) = Notification.objects.filter(recipient=wants, key__startswith="daily:")
    assert len(queued) == 1
    assert summary.title == "3 new requests matching your skills"
    assert summary.email_pending and summary.read_at is not None  # the app showed each
    assert summary.body.count("Run charts") == 3
    with tenant_context(network_a):
        assert not Notification.objects.filter(recipient=quiet, email_pending=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_posted_request_reaches_people_and_their_daily_email_through_a_real_worker(
    network_a: Network, make_member: Callable[..., Member], worker: None
) -> None:
    from core.listings.tasks import listing_matches_sweep_task
    from core.notifications.tasks import notifications_daily_summaries_task

    poster = make_member(network_a, skills=["coaching"])
    members = [make_member(network_a, skills=["run charts"]) for _ in range(2)]
    with tenant_context(network_a):
        for member in members:
            email_preferences_set(actor=member, choices={Kind.REQUEST_MATCH: True})
        for n in range(2):
            listing_create(actor=poster, **{**RUN_CHARTS, "title": f"Run charts {n}"})
    for _ in range(200):  # the worker matches after the commit; give it up to 20 s
        with tenant_context(network_a):
            if Notification.objects.filter(kind=Kind.REQUEST_MATCH).count() == 4:
                break
        threading.Event().wait(0.1)
    assert len(_told(network_a, members[0])) == 2
    with tenant_context(network_a):
        # A request whose message was lost (Redis down at the commit) is still pending: the
        # sweep queues it again.
        lost = Listing.objects.create(
            owner=poster,
            match_pending=True,
            match_queued_at=timezone.now() - datetime.timedelta(hours=1),
            **RUN_CHARTS,
        )
        assert listing_matches_sweep_task.apply_async(ignore_result=False).get(timeout=30) == 1
    for _ in range(200):
        with tenant_context(network_a):
            if not Listing.objects.filter(pk=lost.pk, match_pending=True).exists():
                break
        threading.Event().wait(0.1)
    assert len(_told(network_a, members[0])) == 3
    mail.outbox.clear()
    with tenant_context(network_a):
        runs = [  # beat twice on one day: one summary each, once
            notifications_daily_summaries_task.apply_async(ignore_result=False).get(timeout=30)
            for _ in range(2)
        ]
    assert runs == [2, 0]
    for _ in range(200):
        with tenant_context(network_a):
            if not Notification.objects.filter(email_pending=True).exists():
                break
        threading.Event().wait(0.1)
    summaries = [m for m in mail.outbox if "matching your skills" in m.subject]
    assert sorted(m.to[0] for m in summaries) == sorted(m.email for m in members)
    assert all("3 new requests" in m.subject for m in summaries)


def test_the_poster_invites_up_to_five_matched_members_once_each(
    network_a: Network, make_member: Callable[..., Member], poster: Member, request_listing: Listing
) -> None:
    matched = [make_member(network_a, skills=["run charts"]) for _ in range(6)]
    stranger = make_member(network_a, skills=["knitting"])
    with tenant_context(network_a):
        first = listing_invite(actor=poster, listing=request_listing, member_id=matched[0].pk)
        again = listing_invite(actor=poster, listing=request_listing, member_id=matched[0].pk)
        assert again.pk == first.pk
        notes = Notification.objects.filter(recipient=matched[0], kind=Kind.INVITED_TO_RESPOND)
        assert [n.url for n in notes] == [f"/listings/{request_listing.pk}/"]
        with pytest.raises(NotFound):  # only people the request matches
            listing_invite(actor=poster, listing=request_listing, member_id=stranger.pk)
        with pytest.raises(PermissionDenied):
            listing_invite(actor=matched[1], listing=request_listing, member_id=matched[2].pk)
        for member in matched[1:5]:
            listing_invite(actor=poster, listing=request_listing, member_id=member.pk)
        with pytest.raises(InvitationRefused):
            listing_invite(actor=poster, listing=request_listing, member_id=matched[5].pk)
        assert ResponseInvitation.objects.filter(listing=request_listing).count() == 5
        assert (
            not Notification.objects.filter(recipient=matched[5])
            .exclude(kind=Kind.REQUEST_MATCH)
            .exists()
        )


@pytest.mark.django_db(transaction=True)
def test_two_invitations_at_once_cannot_pass_the_limit_together(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    poster = make_member(network_a, skills=["coaching"])
    matched = [make_member(network_a, skills=["run charts"]) for _ in range(6)]
    with tenant_context(network_a):
        listing = listing_create(actor=poster, **RUN_CHARTS)
        for member in matched[:4]:
            listing_invite(actor=poster, listing=listing, member_id=member.pk)
    results = at_once(
        network_a,
        [
            partial(listing_invite, actor=poster, listing=listing, member_id=member.pk)
            for member in matched[4:]
        ],
    )
    outcomes = sorted(type(r).__name__ for r in results)
    assert outcomes == ["InvitationRefused", "ResponseInvitation"], results
    with tenant_context(network_a):
        assert ResponseInvitation.objects.filter(listing=listing).count() == 5


def test_the_request_page_shows_the_poster_whom_to_invite_and_nobody_else(
    network_a: Network,
    make_member: Callable[..., Member],
    poster: Member,
    request_listing: Listing,
    client_a: NetworkClient,
) -> None:
    open_profile = make_member(
        network_a,
        full_name="Ben Begum",
        skills=["run charts"],
        profession="nurse",
        organisation="Oxford Health",
    )
    private = make_member(
        network_a,
        full_name="Cara Quinn",
        skills=["run charts"],
        organisation="Oxford Health",
        profile_visibility=ProfileVisibility.NAME_ONLY,
    )
    client_a.force_login(poster)
    page = client_a.get(f"/listings/{request_listing.pk}/").content.decode()
    assert "People whose skills match" in page and "Ben Begum" in page and "Cara Quinn" in page
    assert "Skills this request mentions: Run charts" in page  # Ben's, not Cara's
    assert page.count("Skills this request mentions") == 1
    assert "You can invite 5 more people to respond." in page
    response = client_a.post(f"/listings/{request_listing.pk}/invite/", {"member": private.pk})
    assert response.status_code == 302
    page = client_a.get(f"/listings/{request_listing.pk}/").content.decode()
    assert "Cara Quinn is invited to respond." in page
    assert "You can invite 4 more people to respond." in page
    assert (
        client_a.post(f"/listings/{request_listing.pk}/invite/", {"member": "x"}).status_code == 302
    )
    # Anyone else sees the request, not whom it matches, and cannot invite.
    client_a.force_login(open_profile)
    page = client_a.get(f"/listings/{request_listing.pk}/").content.decode()
    assert "People whose skills match" not in page and "Cara Quinn" not in page
    forged = client_a.post(f"/listings/{request_listing.pk}/invite/", {"member": private.pk})
    assert forged.status_code == 404
    with tenant_context(network_a):
        assert ResponseInvitation.objects.filter(listing=request_listing).count() == 1
        (note,) = Notification.objects.filter(recipient=private, kind=Kind.INVITED_TO_RESPOND)
    assert note.title == f"Priya Patel invited you to respond: {RUN_CHARTS['title']}"


def test_the_request_page_reads_its_matches_in_the_same_queries_for_any_number(
    network_a: Network,
    make_member: Callable[..., Member],
    poster: Member,
    request_listing: Listing,
    client_a: NetworkClient,
) -> None:
    client_a.force_login(poster)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_a.get(f"/listings/{request_listing.pk}/").status_code == 200
        return len(captured)

    for _ in range(2):
        make_member(network_a, skills=["run charts"])
    two = queries()
    for _ in range(6):
        make_member(network_a, skills=["run charts", "qi methods"])
    with tenant_context(network_a):
        someone = members_open_to_matching().exclude(pk=poster.pk)[0]
        listing_invite(actor=poster, listing=request_listing, member_id=someone.pk)
    assert queries() == two


def test_the_api_lists_matches_and_invites_for_the_poster_only(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    poster: Member,
    request_listing: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    ben = make_member(network_a, full_name="Ben Begum", skills=["run charts"], profession="nurse")
    other = make_member(network_a, skills=["coaching"])
    url = f"/api/v1/listings/{request_listing.pk}"
    client_a.force_login(poster)
    (match,) = client_a.get(f"{url}/matches/").json()
    assert match["member_id"] == ben.pk and match["shared_skills"] == ["run charts"]
    assert match["profession"] == "nurse" and match["invited"] is False
    made = client_a.post(f"{url}/invitations/", {"member": ben.pk}, content_type="application/json")
    assert made.status_code == 201 and made.json()["member_id"] == ben.pk
    repeat = client_a.post(
        f"{url}/invitations/", {"member": ben.pk}, content_type="application/json"
    )
    assert repeat.status_code == 200
    assert [i["member_id"] for i in client_a.get(f"{url}/invitations/").json()] == [ben.pk]
    assert client_a.get(f"{url}/matches/").json()[0]["invited"] is True
    not_matched = client_a.post(
        f"{url}/invitations/", {"member": other.pk}, content_type="application/json"
    )
    assert not_matched.status_code == 404
    # Another member of A sees the request but not its matches, and cannot invite.
    client_a.force_login(other)
    assert client_a.get(f"{url}/matches/").status_code == 403
    assert client_a.get(f"{url}/invitations/").status_code == 403
    assert (
        client_a.post(
            f"{url}/invitations/", {"member": ben.pk}, content_type="application/json"
        ).status_code
        == 403
    )
    # A member of B finds nothing of A's.
    client_b.force_login(make_member(network_b, skills=["run charts"]))
    assert client_b.get(f"{url}/matches/").status_code == 404
    assert (
        client_b.post(
            f"{url}/invitations/", {"member": ben.pk}, content_type="application/json"
        ).status_code
        == 404
    )
    with tenant_context(network_a):
        assert ResponseInvitation.objects.filter(listing=request_listing).count() == 1


def test_members_choose_on_the_notifications_page_and_api(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    prefs = client_a.get("/api/v1/notifications/preferences/").json()
    assert prefs["request_match_in_app"] is True and prefs["request_match"] is False
    page = client_a.get("/notifications/settings/").content.decode()
    assert 'id="in_app_request_match" name="in_app_request_match" checked' in page
    client_a.post("/notifications/settings/", {"email_request_match": "on"})
    prefs = client_a.get("/api/v1/notifications/preferences/").json()
    assert prefs["request_match_in_app"] is False and prefs["request_match"] is True
    changed = client_a.put(
        "/api/v1/notifications/preferences/",
        {"request_match_in_app": True},
        content_type="application/json",
    ).json()
    assert changed["request_match_in_app"] is True and changed["request_match"] is True
    with tenant_context(network_a):
        assert members_open_to_matching().filter(pk=member.pk).exists()


def test_members_who_blocked_each_other_are_never_matched(
    network_a: Network, make_member: Callable[..., Member], poster: Member, request_listing: Listing
) -> None:
    blocker = make_member(network_a, skills=["run charts"])
    blocked = make_member(network_a, skills=["run charts"])
    free = make_member(network_a, skills=["run charts"])
    with tenant_context(network_a):
        member_block(actor=blocker, member=poster)
        member_block(actor=poster, member=blocked)
        matched = [
            m.member_id
            for m in skill_matches(
                members=members_open_to_matching(),
                listings=Listing.objects.filter(pk=request_listing.pk),
            )
        ]
        assert matched == [free.pk]
        # The same holds for suggestions, which ask the same query from the other side.
        assert listing_suggestions(member=blocker) == []
        assert listing_suggestions(member=free) == [request_listing]


def test_a_suggestion_reads_what_it_shows(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    request_listing: Listing,
) -> None:
    """Its card's fields and its owner's name, nothing more (no password hash, no search
    vector), in one query once the ranking is kept; showing the card reads nothing more.
    B's member with the same skills is suggested nothing of A's."""
    member = make_member(network_a, skills=["run charts"])
    with tenant_context(network_a):
        listing_suggestions(member=member)  # ranked, and the ranking kept
        with CaptureQueriesContext(connection) as captured:
            (suggested,) = listing_suggestions(member=member)
        (sql,) = reads(captured)
        for hidden in ("password", "search_vector", "description", "bio"):
            assert hidden not in sql, sql
        with CaptureQueriesContext(connection) as shown:
            card = [
                suggested.pk,
                suggested.get_kind_display(),
                suggested.title,
                suggested.get_category_display(),
                suggested.get_format_display(),
                suggested.duration_minutes,
                suggested.owner.full_name,
            ]
        assert reads(shown) == []
        assert card == [
            request_listing.pk,
            request_listing.get_kind_display(),
            request_listing.title,
            request_listing.get_category_display(),
            request_listing.get_format_display(),
            request_listing.duration_minutes,
            "Priya Patel",
        ]
        assert suggested.owner_id == request_listing.owner_id
    stranger = make_member(network_b, skills=["run charts"])
    with tenant_context(network_b):
        assert listing_suggestions(member=stranger) == []
