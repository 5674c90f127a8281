"""What an event does to the rest of the site: its linked topics and categories in the forum,
notifications in the site, and live pages. Called from events/services.py inside its
transactions; everything here goes through forum/services.py and the notifications app.
"""

from .models import Event


def sync_topics(event: Event, *, moved: bool) -> None:
    """Keep linked topics scheduled for the event's start and its officials invited to post."""


def open_topics(event: Event, actor) -> None:
    """The event went live: open its linked topics and pin them everywhere."""


def release_topics(event: Event, actor) -> list[dict]:
    """The event ended: global pins return to category pins. Returns the topics for the follow-up."""
    return []


def notify_live(event: Event, user_ids: list[int]) -> None:
    """Tell registered people in the site that the event is live."""


def notify_reminded(event: Event, user_ids: list[int]) -> None:
    """Tell reminded people in the site too."""


def topics_for_page(request, event: Event) -> list:
    """The linked topics this viewer may read, for the event page."""
    return []


def live_context(request, event: Event) -> dict:
    """What the live page shows beside the stream: the discussion and its counters."""
    return {"posts": [], "topics": [], "replies_since_start": 0}


def checklist(event: Event, counts: dict) -> list[tuple[str, bool, str]]:
    """The control room's checklist: (label, done, detail)."""
    from django.utils.translation import gettext as _

    from .models import EventStatus, RegistrationStatus

    registered = counts.get(RegistrationStatus.REGISTERED, 0)
    items = [
        (_("Published"), event.status != EventStatus.DRAFT, event.get_status_display()),
        (
            _("Stream link on the allowlist"),
            bool(event.stream_url) or not event.is_online,
            event.stream_url or _("No stream link yet."),
        ),
        (
            _("Join link for registered people"),
            bool(event.join_url) or not event.is_online,
            event.join_url or _("No join link yet."),
        ),
        (_("Registrations"), registered > 0, str(registered)),
    ]
    return items
