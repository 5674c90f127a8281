"""Email about events, written in each person's language. Called from events/tasks.py only."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from .calendar import build_calendar, site_base_url
from .models import Event

# Kinds of email, and whether they carry the event's .ics file.
KINDS = {
    "registered": True,
    "waitlisted": False,
    "promoted": True,
    "moved": True,
    "reminder": False,
    "live": False,
    "follow_up": False,
    "message": False,
    "cancelled": True,
}


def build_message(kind: str, event: Event, user, extra: dict | None = None) -> EmailMultiAlternatives:
    language = user.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        base_url = site_base_url()
        context = {
            "event": event,
            "user": user,
            "event_url": base_url + event.get_absolute_url(),
            "base_url": base_url,
            "extra": extra or {},
            "SITE_NAME": settings.SITE_NAME,
        }
        subject = render_to_string(f"events/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"events/email/{kind}.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=body, to=[user.email], from_email=settings.DEFAULT_FROM_EMAIL
    )
    if KINDS[kind]:
        message.attach(f"{event.slug}.ics", build_calendar([event], base_url, event.title), "text/calendar")
    return message


def send_to(kind: str, event: Event, users, extra: dict | None = None) -> int:
    """Send one email per person over one connection; returns how many went out."""
    messages = [build_message(kind, event, user, extra) for user in users if user.email]
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0
