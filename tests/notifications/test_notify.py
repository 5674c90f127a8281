"""notify(): what it records, publishes and emails."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core import live
from notifications import hooks, services
from notifications.models import EmailFrequency, EmailPreference, Notification, OutboxEmail, OutboxState
from notifications.tasks import drain_outbox
from tests.factories import OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_email_delay(settings):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0
    settings.REDIS_URL = ""  # The in-process broker: live events are read back below.


def _reply(recipient, actor=None, key="reply:post:1", **kwargs):
    return services.notify(
        recipient,
        "reply",
        actor=actor,
        title=kwargs.pop("title", "Ana replied to “Digital divide”"),
        url="/t/digital-divide/1/2",
        data={"excerpt": "We started with libraries."},
        dedupe_key=key,
        **kwargs,
    )


def test_a_reply_is_recorded_emailed_once_and_announced_live(django_capture_on_commit_callbacks):
    ana, bea = OfficialFactory(), OfficialFactory()
    before = live.last_id(f"/user/{bea.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        notification = _reply(bea, actor=ana)
    assert notification.recipient == bea and notification.read_at is None
    assert OutboxEmail.objects.get().state == OutboxState.SENT

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [bea.email]
    assert "Ana replied to “Digital divide”" in message.subject
    assert "http://127.0.0.1:8000/t/digital-divide/1/2" in message.body
    assert "We started with libraries." in message.alternatives[0][0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:8000/notifications/unsubscribe/"
    )

    events, _ = live.read_after(f"/user/{bea.pk}", before)
    assert [(e.event, e.data["unread"], e.data["title"]) for e in events] == [
        ("notification", 1, "Ana replied to “Digital divide”")
    ]


def test_the_same_occasion_notifies_once(django_capture_on_commit_callbacks):
    bea = OfficialFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _reply(bea)
        second = _reply(bea)
    assert first.pk == second.pk
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_likes_of_one_post_are_grouped_while_unread(django_capture_on_commit_callbacks):
    author = OfficialFactory()
    likers = OfficialFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        for liker in likers:
            services.notify(
                author,
                "like",
                actor=liker,
                title=f"{liker.username} liked your post",
                url="/t/x/1/1",
                dedupe_key=f"like:{liker.pk}:1",
                group_key="like:post:1",
            )
        # A retried task for a like already counted changes nothing.
        services.notify(
            author,
            "like",
            actor=likers[0],
            title="again",
            url="/t/x/1/1",
            dedupe_key=f"like:{likers[0].pk}:1",
        )
    grouped = Notification.objects.get()
    assert grouped.count == 3
    assert grouped.actor == likers[-1]
    assert mail.outbox == []  # Likes are not emailed unless the person asks.


def test_nobody_is_notified_of_their_own_action_and_rollback_sends_nothing(
    django_capture_on_commit_callbacks,
):
    bea = OfficialFactory()
    assert _reply(bea, actor=bea) is None
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _reply(bea)
        raise RuntimeError
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_the_email_waits_for_the_configured_delay(settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 300
    bea = OfficialFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _reply(bea)
    drain_outbox.apply()
    assert mail.outbox == []
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        drain_outbox.apply()
        drain_outbox.apply()
    assert len(mail.outbox) == 1


def test_no_email_for_content_already_read():
    bea = OfficialFactory()

    def forum_says_read(notification):
        return notification.url == "/t/digital-divide/1/2"

    hooks.register_already_read(forum_says_read)
    try:
        _reply(bea)
        drain_outbox.apply()
    finally:
        hooks.unregister_already_read(forum_says_read)
    assert mail.outbox == []
    assert OutboxEmail.objects.get().state == OutboxState.SKIPPED


def test_no_email_when_read_in_the_site_before_it_was_due(settings):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 300
    bea = OfficialFactory()
    _reply(bea)
    services.mark_read(bea)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        drain_outbox.apply()
    assert mail.outbox == []


def test_never_writes_no_email_and_daily_sends_one_digest():
    bea = OfficialFactory()
    EmailPreference.objects.create(user=bea, kind="mention", frequency=EmailFrequency.NEVER)
    services.notify(bea, "mention", title="Mentioned", url="/t/a/1", dedupe_key="mention:1")
    assert not OutboxEmail.objects.exists()

    services.set_email_preferences(bea, {"reply": EmailFrequency.DAILY})
    _reply(bea, key="reply:1", title="First reply")
    _reply(bea, key="reply:2", title="Second reply")
    drain_outbox.apply()
    assert mail.outbox == []
    with time_machine.travel(timezone.now() + timedelta(days=1, hours=1)):
        drain_outbox.apply()
        drain_outbox.apply()
    assert len(mail.outbox) == 1
    assert "First reply" in mail.outbox[0].body and "Second reply" in mail.outbox[0].body
    assert "2 new notifications" in mail.outbox[0].subject


def test_the_email_is_in_the_recipients_language():
    bea = UserFactory(preferred_language="fr")
    with services.in_language_of(bea):
        _reply(bea)
    drain_outbox.apply()
    html = mail.outbox[0].alternatives[0][0]
    assert '<html lang="fr">' in html


def test_a_failing_mail_server_is_retried_and_the_row_waits(monkeypatch, django_capture_on_commit_callbacks):
    bea = OfficialFactory()

    def refuse(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    settings_delay = services.email_delay()
    assert settings_delay == timedelta(0)
    with django_capture_on_commit_callbacks(execute=True):
        _reply(bea)  # The task fails and asks to be retried...
    row = OutboxEmail.objects.get()
    assert row.state == OutboxState.PENDING
    assert row.attempts >= 1 and "mail server down" in row.last_error
    assert row.send_after > timezone.now()  # The next attempt waits (30 s, doubling).
    monkeypatch.undo()
    drain_outbox.apply()
    assert mail.outbox == []  # Not before its time...
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        drain_outbox.apply()  # ... and then the drain sends it, the server being back.
    assert len(mail.outbox) == 1
    assert OutboxEmail.objects.get().state == OutboxState.SENT
