"""Periodic and background work for events (Celery; in-process without Redis)."""

from celery import shared_task

from accounts.models import User

from . import emails, services
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
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    users = User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk")
    return emails.send_to(kind, event, users, extra)
