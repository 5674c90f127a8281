from django.utils.functional import SimpleLazyObject

from .models import Event, EventStatus


def live_now(request):
    """The site-wide "Live now" banner: one query, made only when a page shows the banner."""
    return {
        "live_events": SimpleLazyObject(
            lambda: list(
                Event.objects.filter(status=EventStatus.LIVE).only("slug", "title", "title_es", "title_fr")
            )
        )
    }
