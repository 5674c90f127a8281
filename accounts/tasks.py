from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage


@shared_task(name="accounts.send_email", acks_late=True)
def send_email(to: str, subject: str, body: str) -> None:
    """Queued by an older release: hands the email to the notifications outbox, which sends it.
    (Verification notices are now owed in the outbox by accounts/notifications.py directly.)"""
    from django.db import transaction

    from notifications.services import queue_message

    with transaction.atomic():
        queue_message(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]), kind="verification")


@shared_task(name="accounts.expire_verifications")
def expire_verifications() -> tuple[int, int]:
    """Hourly: prompt officials whose verification lapses soon, expire the lapsed ones."""
    from .services import expire_verifications as run

    return run()
