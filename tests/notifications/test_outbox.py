"""Every email through the outbox: written with the action, sent after commit, on time, exactly once."""

import smtplib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app as celery_app
from events import services as events
from notifications import services
from notifications.models import (
    JobState,
    Notification,
    OutboxEmail,
    OutboxJob,
    OutboxMessage,
    OutboxState,
)
from notifications.tasks import drain_outbox
from tests.factories import EventFactory, OfficialFactory, RegistrationFactory, UserFactory

# A port in this branch's range where nothing listens: the broker "is down".
CLOSED_BROKER = "redis://127.0.0.1:9399/0"


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_a_registration_email_survives_a_lost_enqueue_and_the_drain_sends_it_once(caplog):
    official, event = OfficialFactory(), EventFactory()
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    _use_broker(CLOSED_BROKER)
    try:
        events.register(official, event)  # Commits; the task cannot reach the broker.
    finally:
        celery_app.conf.task_always_eager = previous[0]
        _use_broker(previous[1])

    row = OutboxMessage.objects.get()
    assert (row.state, row.to, row.urgent) == (OutboxState.PENDING, official.email, True)
    assert mail.outbox == []
    assert "the outbox drain will send them" in caplog.text

    drain_outbox.apply()
    drain_outbox.apply()
    assert [m.to for m in mail.outbox] == [[official.email]]
    assert "You are registered" in mail.outbox[0].subject
    assert mail.outbox[0].attachments[0][0] == f"{event.slug}.ics"
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id
    row.refresh_from_db()
    assert row.state == OutboxState.SENT


@pytest.mark.django_db
def test_a_rolled_back_registration_owes_no_email():
    official, event = OfficialFactory(), EventFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        events.register(official, event)
        raise RuntimeError("the request failed after registering")
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_live_now_and_reminders_are_due_at_once_while_replies_keep_their_delay(settings):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 300
    bea = OfficialFactory()
    now = timezone.now()
    services.notify(bea, "reply", title="Ana replied", url="/t/x/1/2", dedupe_key="reply:1")
    services.notify(bea, "event_live", title="Live now: Launch", url="/events/launch/", dedupe_key="live:1")
    services.notify(bea, "event_reminder", title="Reminder", url="/events/launch/", dedupe_key="rem:1")
    services.notify(bea, "watched_post", title="New post", url="/t/x/1/3", dedupe_key="watch:1")

    due = {
        row.notification.kind: row.send_after for row in OutboxEmail.objects.select_related("notification")
    }
    assert due["event_live"] <= timezone.now() and due["event_reminder"] <= timezone.now()
    assert due["reply"] >= now + timedelta(seconds=300)
    assert due["watched_post"].hour == settings.NOTIFICATION_DIGEST_HOUR  # The daily digest.

    drain_outbox.apply()
    assert sorted(m.subject.split("] ")[-1] for m in mail.outbox) == ["Live now: Launch", "Reminder"]
    assert OutboxEmail.objects.get(notification__kind="reply").state == OutboxState.PENDING


@pytest.mark.django_db
def test_going_live_emails_registrants_at_once_even_with_the_reply_delay(
    settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 300
    event = EventFactory()
    registrations = RegistrationFactory.create_batch(3, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        events.go_live(event)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.user.email for r in registrations)
    assert all(m.subject.endswith(f"Live now: {event.title}") for m in mail.outbox)


@pytest.mark.django_db
def test_going_live_to_many_is_one_job_in_the_transaction_and_one_email_each_even_if_run_twice(
    django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "JOB_BATCH", 7)  # Several batches.
    event = EventFactory()
    people = [r.user for r in RegistrationFactory.create_batch(20, event=event)]
    with django_capture_on_commit_callbacks() as callbacks:  # Not run: the task is "lost".
        events.go_live(event)
    job = OutboxJob.objects.get()
    assert (job.handler, len(job.recipient_ids), job.state) == ("events.notify", 20, JobState.PENDING)
    assert not Notification.objects.exists()  # Nothing rendered in the request.
    assert callbacks

    with django_capture_on_commit_callbacks(execute=True):
        assert services.run_job(job.pk) == 20
        assert services.run_job(job.pk) is None  # Done already: a redelivered task does nothing.
    OutboxJob.objects.filter(pk=job.pk).update(state=JobState.PENDING, progress=6)  # A crash mid-way.
    with django_capture_on_commit_callbacks(execute=True):
        services.run_job(job.pk)
    drain_outbox.apply()

    assert Notification.objects.filter(kind="event_live").count() == 20
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert OutboxJob.objects.get().state == JobState.DONE


@pytest.mark.django_db
def test_a_message_to_every_attendee_is_one_job_and_each_email_once(django_capture_on_commit_callbacks):
    event = EventFactory()
    people = [r.user for r in RegistrationFactory.create_batch(5, event=event)]
    staff = _staff()
    with django_capture_on_commit_callbacks() as lost:
        events.message_registered(event, staff, subject="Slides", body="Here they are.")
    assert lost and OutboxJob.objects.get().handler == "events.email"
    job = OutboxJob.objects.get()
    # The job runs twice at once in effect: a redelivered task and the drain.
    with django_capture_on_commit_callbacks(execute=True):
        services.run_job(job.pk)
    handler_again = services.hooks.job_handler("events.email")
    assert handler_again(job.payload, job.recipient_ids, f"job:{job.pk}:to:") == []  # Unique per person.
    drain_outbox.apply()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert OutboxMessage.objects.filter(state=OutboxState.SENT).count() == 5


def _staff():
    from tests.conftest import make_user

    return make_user("staff")


class HeldBackend(LocmemBackend):
    """Holds the first message until the test lets it go: the row stays locked meanwhile."""

    sending = threading.Event()
    release = threading.Event()

    def send_messages(self, messages):
        HeldBackend.sending.set()
        assert HeldBackend.release.wait(30)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", ["task", "drain"])
def test_two_deliveries_of_one_row_at_once_send_it_once(settings, second):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.HeldBackend"
    HeldBackend.sending.clear()
    HeldBackend.release.clear()
    bea = UserFactory()
    with transaction.atomic():
        row = services.queue_message(_message(bea.email), urgent=True, send=False)
    results = {}

    def first():
        results["first"] = services.deliver_messages([row.pk])
        connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert HeldBackend.sending.wait(30)  # The first worker holds the row and talks to the server.
    if second == "task":
        results["second"] = services.deliver_messages([row.pk])
    else:
        results["second"] = drain_outbox.apply().get()
    HeldBackend.release.set()
    thread.join(30)

    assert results["first"] == {"sent": 1}
    assert results["second"].get("sent", 0) == 0
    assert len(mail.outbox) == 1
    assert services.deliver_messages([row.pk]) == {"sent": 1}  # Already sent: the state says so.
    assert len(mail.outbox) == 1


def _message(to: str):
    from django.core.mail import EmailMessage

    return EmailMessage("Hello", "Body", "forum@example.org", [to])


class RefusingBackend(LocmemBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server down")


@pytest.mark.django_db
def test_a_failing_mail_server_is_retried_with_backoff_then_the_row_is_marked_failed(settings):
    bea = UserFactory()
    row = services.queue_message(_message(bea.email), send=False)
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.RefusingBackend"
    assert services.deliver_messages([row.pk]) == {"error": 1}
    row.refresh_from_db()
    assert (row.state, row.attempts) == (OutboxState.PENDING, 1)
    assert "mail server down" in row.last_error
    assert row.send_after > timezone.now()  # Waits before the next attempt.
    assert services.due_message_ids() == []
    start = timezone.now()
    for attempt in range(1, services.MAX_ATTEMPTS):
        with time_machine.travel(start + timedelta(hours=2 * attempt)):
            drain_outbox.apply()
    row.refresh_from_db()
    assert (row.state, row.attempts) == (OutboxState.FAILED, services.MAX_ATTEMPTS)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    second = services.queue_message(_message(bea.email), send=False)
    with time_machine.travel(start + timedelta(hours=2 * services.MAX_ATTEMPTS)):
        drain_outbox.apply()
    assert [m.to for m in mail.outbox] == [[bea.email]]  # Only the new one; a failed row stays failed.
    second.refresh_from_db()
    assert second.state == OutboxState.SENT


@pytest.mark.django_db
def test_urgent_messages_are_sent_ahead_of_the_rest():
    later = services.queue_message(_message("later@example.org"), send=False)
    first = services.queue_message(_message("first@example.org"), urgent=True, send=False)
    assert services.due_message_ids() == [first.pk, later.pk]
    drain_outbox.apply()
    assert [m.to for m in mail.outbox] == [["first@example.org"], ["later@example.org"]]


@pytest.mark.django_db
def test_allauth_password_reset_goes_through_the_outbox(client, django_capture_on_commit_callbacks):
    bea = UserFactory(email="bea@toronto.example")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=bea, email=bea.email, defaults={"verified": True, "primary": True}
    )
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/accounts/password/reset/", {"email": bea.email})
    assert response.status_code == 302
    row = OutboxMessage.objects.get()
    assert (row.kind, row.to, row.urgent) == ("account/email/password_reset_key", bea.email, True)
    assert mail.outbox == []  # Not sent inside the request...
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [[bea.email]]  # ... but right after it commits.
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


@pytest.mark.django_db
def test_without_redis_the_email_goes_out_in_process_to_the_console(
    settings, capsys, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    official, event = OfficialFactory(), EventFactory()
    assert celery_app.conf.task_always_eager  # The embedded default: tasks in-process.
    with django_capture_on_commit_callbacks(execute=True):
        events.register(official, event)
    printed = capsys.readouterr().out
    assert f"To: {official.email}" in printed and "You are registered" in printed
    assert OutboxMessage.objects.get().state == OutboxState.SENT
