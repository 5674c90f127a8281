from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail


@shared_task(name="accounts.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(to: str, subject: str, body: str) -> None:
    """Send one plain-text email (verification notices). Retried when the mail server is down."""
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


@shared_task(name="accounts.expire_verifications")
def expire_verifications() -> tuple[int, int]:
    """Hourly: prompt officials whose verification lapses soon, expire the lapsed ones."""
    from .services import expire_verifications as run

    return run()
