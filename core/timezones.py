"""Times as a reader sees them: in the time zone of their profile (UTC when none or unknown),
always written with the zone's name, and entered the same way (a datetime-local field)."""

import zoneinfo
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

UTC = zoneinfo.ZoneInfo("UTC")


def reader_zone(user) -> zoneinfo.ZoneInfo:
    """The zone of the person's profile; UTC for anonymous readers or a name that is not a zone."""
    name = getattr(user, "time_zone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def format_moment(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """ "Dec. 5, 2026, 8:58 a.m. (Europe/Madrid)": the date in the zone, then the zone's name, so a
    sentence can end after it with one full stop."""
    return f"{date_format(timezone.localtime(moment, zone), 'DATETIME_FORMAT')} ({zone.key})"


def parse_local(value: str | None, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """A datetime-local value ("2026-05-17T14:00") read in `zone`; None when empty."""
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = parsed.replace(tzinfo=zone)
            parsed = parsed.astimezone(UTC)  # the year 9999 west of Greenwich overflows here
    except (ValueError, OverflowError):  # well formed but impossible: 2026-13-45 25:00
        parsed = None
    if parsed is None:
        raise ValidationError(_("Enter a date and time such as 2026-05-17 14:00."), code="invalid")
    return parsed
