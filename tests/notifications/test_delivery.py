"""Email delivery with the real services: a Celery worker process on Redis, and Redis going away."""

import os
import subprocess
import sys
import time
import uuid
from email import message_from_string
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection, transaction

from config.celery import app as celery_app
from core import live
from forum import services as forum_services
from forum.models import NotificationJob
from forum.tasks import drain_notification_jobs
from notifications import services
from notifications.models import Notification, OutboxEmail, OutboxState
from notifications.tasks import drain_outbox, send_email
from tests.factories import OfficialFactory, TopicFactory

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    """The test database, as a URL the worker process can open."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the worker process needs a database it can share with the test: PostgreSQL")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _use_broker(url: str) -> None:
    """Point the app at another broker, dropping the connections pooled for the previous one."""
    celery_app.conf.broker_url = url
    # Forgotten, not closed: kombu keeps a registry of pools per URL that others reuse.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _messages(folder: Path) -> list:
    messages = []
    for path in folder.glob("*.log"):
        # The file backend separates messages with a line of 79 dashes.
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                messages.append(message_from_string(chunk.strip()))
    return messages


@pytest.fixture
def worker(redis_url, tmp_path, settings):
    """A real `celery worker` process on Redis, writing email to files the test reads."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "NOTIFICATION_EMAIL_DELAY_SECONDS": "0",
        # Tasks the worker queues itself (the email after a forum notification) come back to it.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue]
        + ["--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    previous = (
        celery_app.conf.task_always_eager,
        celery_app.conf.broker_url,
        celery_app.conf.result_backend,
        celery_app.conf.task_default_queue,
    )
    celery_app.conf.task_always_eager = False
    _use_broker(redis_url)
    celery_app.conf.result_backend = redis_url
    celery_app.conf.task_default_queue = queue
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0
    try:
        yield mail_dir
    finally:
        celery_app.conf.task_always_eager = previous[0]
        _use_broker(previous[1])
        celery_app.conf.result_backend, celery_app.conf.task_default_queue = previous[2:]
        process.terminate()
        output, _ = process.communicate(timeout=30)
        if process.returncode not in (0, -15):
            print(output.decode(errors="replace"))


def test_a_real_worker_delivers_each_notification_email_exactly_once(worker):
    people = OfficialFactory.create_batch(3)
    for n, person in enumerate(people):
        with transaction.atomic():
            services.notify(person, "reply", title=f"Reply {n}", url=f"/t/x/1/{n}", dedupe_key=f"reply:{n}")
    rows = list(OutboxEmail.objects.order_by("pk"))
    # A retried task, and one redelivered after a worker crash, for the first email.
    send_email.apply_async(args=[rows[0].pk]).get(timeout=60)
    send_email.apply_async(args=[rows[0].pk]).get(timeout=60)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and OutboxEmail.objects.filter(state=OutboxState.PENDING).exists():
        time.sleep(0.2)
    drain_outbox.apply_async().get(timeout=60)  # The periodic drain finds nothing left to send.

    messages = _messages(worker)
    assert sorted(m["To"] for m in messages) == sorted(p.email for p in people)
    assert sorted(m["Subject"].split("] ")[-1] for m in messages) == ["Reply 0", "Reply 1", "Reply 2"]
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in messages)
    assert set(OutboxEmail.objects.values_list("state", flat=True)) == {OutboxState.SENT}


def test_a_real_worker_turns_a_reply_into_exactly_one_email_to_the_replied_to_author(worker):
    ana, bea = OfficialFactory(), OfficialFactory(display_name="Bea")
    topic = TopicFactory(author=ana, title="How do you train staff in digital skills?")
    forum_services.create_reply(bea, topic, "With a yearly academy.", reply_to=topic.posts.get(number=1))

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not OutboxEmail.objects.filter(state=OutboxState.SENT).exists():
        time.sleep(0.2)
    drain_notification_jobs.apply_async().get(timeout=60)  # Nothing left for the periodic drains.
    drain_outbox.apply_async().get(timeout=60)

    assert not NotificationJob.objects.exists()
    assert list(Notification.objects.values_list("recipient", "kind")) == [(ana.pk, "reply")]
    messages = _messages(worker)
    assert [m["To"] for m in messages] == [ana.email]
    assert "Bea replied to you" in str(make_header(decode_header(messages[0]["Subject"])))


def test_with_redis_unreachable_the_write_succeeds_and_the_email_goes_out_later(
    redis_url, settings, live_test_channel, caplog
):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0
    bea = OfficialFactory()
    unreachable = "redis://127.0.0.1:1/0"
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    _use_broker(unreachable)
    settings.REDIS_URL = unreachable  # Live events too.
    try:
        with transaction.atomic():
            notification = services.notify(
                bea, "reply", title="Ana replied", url="/t/x/1/2", dedupe_key="reply:outage"
            )
    finally:
        celery_app.conf.task_always_eager = previous[0]
        _use_broker(previous[1])
        settings.REDIS_URL = redis_url

    # Saved, and the email is owed: nothing was lost with the broker.
    assert Notification.objects.filter(pk=notification.pk).exists()
    row = OutboxEmail.objects.get(notification=notification)
    assert row.state == OutboxState.PENDING
    assert mail.outbox == []
    assert "the outbox drain will send them" in caplog.text

    # Redis is back: the periodic drain sends it, once.
    drain_outbox.apply()
    drain_outbox.apply()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [bea.email]
    row.refresh_from_db()
    assert row.state == OutboxState.SENT
    # Live updates work again for the next event.
    assert live.publish(live_test_channel, "ping", {}) is not None
