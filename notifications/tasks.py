"""Email delivery. The outbox rows are the record; these tasks only carry them out."""

import logging
import smtplib
import time

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 8
# Beat runs the drain every minute; one run keeps going while there is work, at most this long.
DRAIN_BUDGET_SECONDS = 45


@shared_task(
    bind=True,
    name="notifications.send_email",
    acks_late=True,
    max_retries=MAX_RETRIES,
)
def send_email(self, outbox_id: int) -> str:
    """Send one notification email (idempotent: a retried or redelivered task never sends twice)."""
    try:
        return services.deliver(outbox_id)
    except (smtplib.SMTPException, OSError) as error:
        give_up = self.request.retries >= MAX_RETRIES
        next_attempt = services.record_failure(outbox_id, error, give_up)
        if give_up or next_attempt is None:
            logger.error("Giving up on email %s: %s", outbox_id, error)
            return "failed"
        # When the row says (30 s, 60 s, 120 s ... up to an hour), a second late so it is due;
        # the periodic drain is the safety net beyond MAX_RETRIES.
        countdown = max(0.0, (next_attempt - timezone.now()).total_seconds()) + 1
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task(name="notifications.send_emails", acks_late=True)
def send_emails(outbox_ids: list[int]) -> dict:
    """Send a batch of notification emails over one connection (idempotent). A failed one is noted
    on its row with the time of its next attempt, which the periodic drain honours."""
    return services.deliver_many(outbox_ids)


@shared_task(name="notifications.send_messages", acks_late=True)
def send_messages(outbox_ids: list[int]) -> dict:
    """Send ready messages over one connection (idempotent). A failed one is noted on its row with
    the time of its next attempt, which the periodic drain honours: that is the retry."""
    return services.deliver_messages(outbox_ids)


@shared_task(bind=True, name="notifications.run_job", acks_late=True)
def run_job(self, job_id: int) -> int | None:
    """Expand one fan-out job into per-person notifications and messages (idempotent)."""
    try:
        return services.run_job(job_id)
    except DatabaseError:
        raise  # The drain runs it again once the database answers.
    except Exception as error:
        services.record_job_failure(job_id, error)
        raise


@shared_task(name="notifications.drain_outbox", acks_late=True)
def drain_outbox() -> dict:
    """Keep every promise a lost task left behind (Celery beat, or core.inprocess, runs it each
    minute): fan-out jobs first, then due messages (urgent ones first), then notification emails."""
    results: dict[str, int] = {}
    # Until nothing is due (a go-live owes thousands at once), within a time budget so one run
    # never overlaps the next by much.
    deadline = time.monotonic() + DRAIN_BUDGET_SECONDS
    while True:
        handled = _drain_once(results)
        if not handled or time.monotonic() > deadline:
            return results


def _drain_once(results: dict[str, int]) -> int:
    """One pass over what is due; returns how many rows it handled."""
    handled = 0
    for job_id in services.due_job_ids():
        try:
            services.run_job(job_id)
            results["job"] = results.get("job", 0) + 1
        except Exception as error:  # noqa: BLE001 - one broken job must not stop the others
            logger.exception("Outbox job %s failed", job_id)
            services.record_job_failure(job_id, error)
            results["job_error"] = results.get("job_error", 0) + 1
    for state, count in services.deliver_messages(services.due_message_ids()).items():
        results[state] = results.get(state, 0) + count
        handled += count if state == "sent" else 0
    for state, count in services.deliver_many(services.due_outbox_ids()).items():
        results[state] = results.get(state, 0) + count
        handled += count if state != "error" else 0  # a failing mail server: wait for the next run
    return handled
