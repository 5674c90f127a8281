"""iCalendar files for events: one event, the public feed and a person's own feed.

Times carry the event's own zone (TZID with a VTIMEZONE), so calendar programs
show them right wherever the reader is.
"""

from collections.abc import Iterable
from datetime import date, timedelta

import icalendar
from django.conf import settings
from django.core import signing
from django.utils import timezone

from .models import Event, EventStatus

FEED_SALT = "events.personal-feed"
PRODID = "-//Metropolis Peer Learning Forum//Events//EN"


def uid_for(event: Event) -> str:
    return f"event-{event.pk}@metropolis-forum"


def event_component(event: Event, base_url: str) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", uid_for(event))
    component.add("dtstamp", timezone.now())
    component.add("dtstart", event.local_starts_at)
    component.add("dtend", event.local_ends_at)
    component.add("summary", event.localized_title)
    component.add("sequence", event.sequence)
    url = base_url + event.get_absolute_url()
    component.add("url", url)
    description = "\n\n".join(part for part in (event.localized_summary, url) if part)
    component.add("description", description)
    location = ", ".join(part for part in (event.venue, event.address) if part)
    if location:
        component.add("location", location)
    if event.status == EventStatus.CANCELLED:
        component.add("status", "CANCELLED")
    else:
        component.add("status", "CONFIRMED")
    return component


def build_calendar(events: Iterable[Event], base_url: str, name: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    first = last = None
    for event in events:
        calendar.add_component(event_component(event, base_url))
        first = min(first or event.starts_at, event.starts_at)
        last = max(last or event.ends_at, event.ends_at)
    if first is not None:
        # Only the transitions around the events, so the files stay small.
        calendar.add_missing_timezones(
            first_date=date(first.year - 1, 1, 1), last_date=(last + timedelta(days=400)).date()
        )
    return calendar.to_ical()


def site_base_url(request=None) -> str:
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def feed_token(user) -> str:
    """The secret part of a person's own calendar URL (signed, so it cannot be guessed)."""
    return signing.Signer(salt=FEED_SALT).sign(str(user.pk)).replace(":", "-")


def user_id_from_feed_token(token: str) -> int | None:
    try:
        value = signing.Signer(salt=FEED_SALT).unsign(token.replace("-", ":", 1))
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None
