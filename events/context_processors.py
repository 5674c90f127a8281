from . import banner


def live_now(request):
    """The site-wide "Live now" banner (from the cache: no database query)."""
    return {"event_banner": banner.current()}
