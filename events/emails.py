"""Email about events, written in each person's language, owed through the notifications outbox.

events/services.py calls :func:`queue_for` inside its transactions: one person's email is
rendered at once (a registration confirmation, with its .ics); many people's (a cancellation,
a message to every attendee) become one outbox job that the worker expands with :func:`email_job`.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
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


# Time-critical: sent at once and ahead of the rest. Follow-ups and staff messages are not
# delayed either, but wait their turn behind these.
URGENT = {"registered", "waitlisted", "promoted", "moved", "cancelled"}
# Up to this many people, the email is rendered in the action's transaction; beyond, a job.
RENDER_NOW_UP_TO = 1


def queue_for(kind: str, event: Event, user_ids: list[int], extra: dict | None = None) -> None:
    """Owe ``kind`` email about ``event`` to these people, inside the caller's transaction."""
    from accounts.models import User
    from notifications import services as notifications

    user_ids = list(dict.fromkeys(user_ids))
    if not user_ids:
        return
    if len(user_ids) <= RENDER_NOW_UP_TO:
        for user in User.objects.filter(pk__in=user_ids, is_active=True).exclude(email=""):
            notifications.queue_message(
                build_message(kind, event, user, extra), urgent=kind in URGENT, kind=f"events:{kind}"
            )
        return
    notifications.queue_job(
        "events.email",
        {"kind": kind, "event": event.pk, "extra": extra or {}},
        user_ids,
        urgent=kind in URGENT,
    )


def email_job(payload: dict, user_ids: list[int], dedupe_prefix: str) -> list[int]:
    """Outbox job handler: one message per person of the batch, unique per job and person."""
    from accounts.models import User
    from notifications import services as notifications

    event = Event.objects.filter(pk=payload["event"]).first()
    if event is None:
        return []
    kind, extra = payload["kind"], payload.get("extra") or {}
    queued = []
    for user in User.objects.filter(pk__in=user_ids, is_active=True).exclude(email="").order_by("pk"):
        row = notifications.queue_message(
            build_message(kind, event, user, extra),
            urgent=kind in URGENT,
            kind=f"events:{kind}",
            dedupe_key=f"{dedupe_prefix}{user.pk}",
            send=False,
        )
        if row is not None:
            queued.append(row.pk)
    return queued
