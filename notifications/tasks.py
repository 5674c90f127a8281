"""Email delivery. The outbox row is the record; these tasks only carry it out."""

import logging
import smtplib

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 8


@shared_task(
    bind=True,
    name="notifications.send_email",
    acks_late=True,
    max_retries=MAX_RETRIES,
)
def send_email(self, outbox_id: int) -> str:
    """Send one outbox row (idempotent: a retried or redelivered task never sends twice)."""
    try:
        return services.deliver(outbox_id)
    except (smtplib.SMTPException, OSError) as error:
        give_up = self.request.retries >= MAX_RETRIES
        services.record_failure(outbox_id, error, give_up)
        if give_up:
            logger.error("Giving up on email %s: %s", outbox_id, error)
            return "failed"
        # 30 s, 60 s, 120 s ... up to an hour; the periodic drain is the safety net beyond that.
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 3600)) from error


@shared_task(name="notifications.drain_outbox", acks_late=True)
def drain_outbox() -> dict:
    """Send every due outbox row a lost task left behind (Celery beat, or core.inprocess, runs it)."""
    results: dict[str, int] = {}
    for outbox_id in services.due_outbox_ids():
        try:
            state = services.deliver(outbox_id)
        except (smtplib.SMTPException, OSError) as error:
            services.record_failure(outbox_id, error, give_up=False)
            state = "error"
        results[state] = results.get(state, 0) + 1
    return results
