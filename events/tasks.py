"""Periodic and background work for events (Celery; in-process without Redis).

Email and notifications about events are owed through the notifications outbox
(notifications.run_job, notifications.send_messages); the two tasks at the end only finish
work queued by an older release before it was deployed.
"""

from celery import shared_task
from django.db import transaction

from accounts.models import User

from . import emails, linked, services
from .models import Event


@shared_task(name="events.run_schedule")
def run_schedule() -> dict:
    """Take events live at their start and end them at their end."""
    return services.run_schedule()


@shared_task(name="events.send_due_reminders")
def send_due_reminders() -> int:
    return services.send_due_reminders()


@shared_task(name="events.send_event_email", acks_late=True)
def send_event_email(kind: str, event_id: int, user_ids: list[int], extra: dict | None = None) -> int:
    """Queued by an older release: hands the email to the outbox."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    with transaction.atomic():
        emails.queue_for(kind, event, user_ids, extra)
    return len(user_ids)


@shared_task(name="events.notify_people", acks_late=True)
def notify_people(kind: str, event_id: int, user_ids: list[int], extra: dict) -> int:
    """Queued by an older release: writes the notifications (idempotent by their dedupe keys)."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    users = User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk")
    return linked.notify_people(kind, event, users, extra)
