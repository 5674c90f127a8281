"""The site-wide banner: events live now, or else the next one coming up.

Pages read it from the cache and never from the database, so the banner costs no
query even with thousands of people on a webinar's threads. It is rewritten after
every change of an event's state and by the periodic schedule (which also heals a
cache that was emptied).
"""

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from core import page_cache

from .models import Event, EventStatus, current_language

CACHE_KEY = "events:banner:v1"
# How far ahead an upcoming event is announced across the site.
ANNOUNCE_AHEAD = timedelta(days=60)


def _entry(event: Event) -> dict:
    return {
        "url": event.get_absolute_url(),
        "titles": {"en": event.title, "es": event.title_es, "fr": event.title_fr},
        "starts_at": event.starts_at.isoformat(),
        "time_zone": event.time_zone,
    }


def refresh() -> dict:
    """Recompute the banner from the database and store it (no expiry: refresh replaces it)."""
    now = timezone.now()
    live = [_entry(event) for event in Event.objects.filter(status=EventStatus.LIVE).order_by("starts_at")]
    upcoming = None
    if not live:
        following = (
            Event.objects.filter(
                status=EventStatus.PUBLISHED, starts_at__gt=now, starts_at__lte=now + ANNOUNCE_AHEAD
            )
            .order_by("-is_launch", "starts_at")
            .first()
        )
        upcoming = _entry(following) if following else None
    data = {"live": live, "upcoming": upcoming}
    if cache.get(CACHE_KEY) != data:
        page_cache.changed(site=True)  # every cached page shows the banner
    cache.set(CACHE_KEY, data, timeout=None)
    return data


def refresh_on_commit() -> None:
    from django.db import transaction

    transaction.on_commit(refresh)


def _localise(entry: dict, language: str) -> dict:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return {
        "url": entry["url"],
        "title": entry["titles"].get(language) or entry["titles"]["en"],
        "starts_at": datetime.fromisoformat(entry["starts_at"]).astimezone(ZoneInfo(entry["time_zone"])),
        "time_zone": entry["time_zone"],
    }


def current() -> dict:
    """What the banner shows now, in the reader's language; empty when nothing is cached."""
    data = cache.get(CACHE_KEY) or {}
    language = current_language()
    return {
        "live": [_localise(entry, language) for entry in data.get("live", ())],
        "upcoming": _localise(data["upcoming"], language) if data.get("upcoming") else None,
    }
