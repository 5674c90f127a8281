from django import template

from core.timezones import format_moment, reader_zone

register = template.Library()


@register.filter
def in_zone_of(moment, user) -> str:
    """{{ topic.opens_at|in_zone_of:user }}: the moment in the reader's time zone, with its name."""
    if not moment:
        return ""
    return format_moment(moment, reader_zone(user))
