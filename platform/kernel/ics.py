"""iCalendar (RFC 5545) invites and feeds, built with `icalendar`.

An invite is one event in a calendar with `METHOD:REQUEST` (a new or changed meeting) or
`METHOD:CANCEL`; a feed is many events with `METHOD:PUBLISH`. Each event keeps one `UID`
for its whole life and a `SEQUENCE` that only rises, so a calendar program replaces the
copy it holds instead of adding a second one. Only plain data comes in (`Event`): the
callers say what the meeting is; this module says how a calendar reads it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from kernel.errors import ApplicationError

PRODID = "-//Hexitime//Time bank calendar//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
_https = URLValidator(schemes=["https"])


@dataclass(frozen=True)
class Event:
    uid: str
    sequence: int
    starts_at: datetime.datetime
    minutes: int
    title: str
    description: str = ""
    place: str = ""
    video_link: str = ""
    url: str = ""  # the meeting's page on the network's site
    attendee_email: str = ""
    attendee_name: str = ""
    cancelled: bool = False


def uid_for(kind: str, pk: int, schema_name: str) -> str:
    """A UID no other event anywhere shares: the object, its network, and our domain."""
    return f"{kind}-{pk}.{schema_name}@{settings.HEXITIME_BASE_DOMAIN}"


def video_link_clean(value: str, *, refusal: type[ApplicationError]) -> str:
    """A video-call link: an https URL (or empty). Anything else is refused on the field
    `video_link`: a link in an invite must not take anyone to an unencrypted page."""
    link = (value or "").strip()
    if not link:
        return ""
    if len(link) > 500:
        raise refusal("The video link is too long (500 characters at most).", field="video_link")
    try:
        _https(link)
    except ValidationError:
        raise refusal(
            "Give the video link as a full https:// address, for example "
            "https://meet.example.org/abc-defg.",
            field="video_link",
        ) from None
    if urlsplit(link).username or urlsplit(link).password:
        raise refusal(
            "The video link must not contain a user name or password.", field="video_link"
        )
    return link


def _event(item: Event, *, organiser_name: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", item.uid)
    event.add("sequence", item.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", item.starts_at.astimezone(datetime.UTC))
    event.add(
        "dtend",
        (item.starts_at + datetime.timedelta(minutes=item.minutes)).astimezone(datetime.UTC),
    )
    event.add("summary", item.title)
    description = [part for part in (item.description, item.video_link, item.url) if part]
    if description:
        event.add("description", "\n\n".join(description))
    # LOCATION: the place, or the video link when meeting online only.
    location = item.place or item.video_link
    if location:
        event.add("location", location)
    if item.video_link:
        event.add("url", item.video_link)
    elif item.url:
        event.add("url", item.url)
    organiser = icalendar.vCalAddress(f"mailto:{_from_address()}")
    organiser.params["cn"] = organiser_name
    event.add("organizer", organiser)
    if item.attendee_email:
        attendee = icalendar.vCalAddress(f"mailto:{item.attendee_email}")
        attendee.params["cn"] = item.attendee_name or item.attendee_email
        attendee.params["partstat"] = "DECLINED" if item.cancelled else "ACCEPTED"
        attendee.params["rsvp"] = "FALSE"
        event.add("attendee", attendee)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if item.cancelled else "OPAQUE")
    return event


def _from_address() -> str:
    """The bare address of DEFAULT_FROM_EMAIL (`Name <a@b>` -> `a@b`)."""
    sender = str(settings.DEFAULT_FROM_EMAIL)
    return sender.rsplit("<", 1)[-1].rstrip(">").strip() if "<" in sender else sender


def _calendar(method: str, name: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    return calendar


def invite(item: Event, *, network_name: str) -> str:
    """One event as an email invite: METHOD:REQUEST, or METHOD:CANCEL when cancelled."""
    calendar = _calendar("CANCEL" if item.cancelled else "REQUEST", network_name)
    calendar.add_component(_event(item, organiser_name=network_name))
    return calendar.to_ical().decode()


def feed(items: Iterable[Event], *, name: str, network_name: str) -> bytes:
    """A calendar to subscribe to (METHOD:PUBLISH), with a refresh hint of an hour."""
    calendar = _calendar("PUBLISH", name)
    calendar.add("refresh-interval", datetime.timedelta(hours=1), parameters={"value": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for item in items:
        calendar.add_component(_event(item, organiser_name=network_name))
    return calendar.to_ical()


def method_of(text: str) -> str:
    """The METHOD of an invite's text ('' for none): the email's content type carries it."""
    for line in text.splitlines():
        if line.startswith("METHOD:"):
            return line.removeprefix("METHOD:").strip()
    return ""
