"""Background work for the forum: the notifications owed for posts and likes (forum/notify.py)."""

from celery import shared_task
from django.db import DatabaseError

from . import notify

MAX_RETRIES = 8


@shared_task(bind=True, name="forum.fan_out_notifications", acks_late=True, max_retries=MAX_RETRIES)
def fan_out(self, job_id: int) -> int:
    """Run one notification job (idempotent: a retried or redelivered task notifies nobody twice)."""
    try:
        return notify.run_job(job_id)
    except DatabaseError as error:
        if self.request.retries >= MAX_RETRIES:
            raise  # the periodic drain tries again later
        raise self.retry(exc=error, countdown=min(10 * 2**self.request.retries, 600)) from error


@shared_task(name="forum.drain_notification_jobs", acks_late=True)
def drain_notification_jobs() -> dict:
    """Run the notification jobs whose task was lost (Celery beat, or core.inprocess, runs it)."""
    return notify.drain()


@shared_task(name="forum.flush_view_counts")
def flush_view_counts() -> int:
    """Write the buffered topic views to the database in one batch (Celery beat, or core.inprocess)."""
    from . import services

    return services.flush_view_counts()


@shared_task(name="forum.delete_unreferenced_uploads")
def delete_unreferenced_uploads() -> int:
    """Remove files no post references for a day (Celery beat, or core.inprocess, hourly)."""
    from . import uploads

    return uploads.delete_unreferenced_uploads()
