from django import template

register = template.Library()


@register.inclusion_tag("events/_when.html")
def event_when(event, viewer_zone, start=None, end=None):
    """An event's (or session's) times in the event's zone, plus the viewer's when it differs."""
    start = start or event.starts_at
    end = end or event.ends_at
    zone = event.zone
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    viewer_start, viewer_end = start.astimezone(viewer_zone), end.astimezone(viewer_zone)
    same_offset = local_start.utcoffset() == viewer_start.utcoffset()
    return {
        "start": start,
        "end": end,
        "local_start": local_start,
        "local_end": local_end,
        "same_day": local_start.date() == local_end.date(),
        "zone_name": event.time_zone,
        "viewer_start": viewer_start,
        "viewer_end": viewer_end,
        "viewer_same_day": viewer_start.date() == viewer_end.date(),
        "viewer_zone_name": str(viewer_zone),
        "show_viewer": not same_offset,
    }
