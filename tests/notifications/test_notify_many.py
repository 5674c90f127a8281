"""notify_many(): notify() for a crowd (a go-live's registrants, a topic's watchers), by the same
rules, in a fixed number of queries; its emails sent in batches over one connection."""

from unittest import mock

import pytest
from django.core import mail
from django.db import transaction

from core import live
from notifications import services
from notifications.models import EmailFrequency, EmailPreference, Notification, OutboxEmail, OutboxState
from tests.factories import OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_process(settings):
    settings.REDIS_URL = ""  # The in-process broker: live events are read back below.


def _live_now(people, key="event-live:1:now"):
    return [
        services.Notice(
            person,
            "event_live",
            title="Live now: Launch",
            url="/events/launch/",
            dedupe_key=f"{key}:{person.pk}",
        )
        for person in people
    ]


def test_each_person_is_notified_announced_and_emailed_once(django_capture_on_commit_callbacks):
    people = OfficialFactory.create_batch(3)
    before = {p.pk: live.last_id(f"/user/{p.pk}") for p in people}
    with django_capture_on_commit_callbacks(execute=True):
        written = services.notify_many(_live_now(people))
    assert len(written) == 3
    assert set(OutboxEmail.objects.values_list("state", flat=True)) == {OutboxState.SENT}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    for person in people:
        events, _ = live.read_after(f"/user/{person.pk}", before[person.pk])
        assert [(e.event, e.data["unread"], e.data["title"]) for e in events] == [
            ("notification", 1, "Live now: Launch")
        ]

    # The same occasion again (a rerun job): nothing new, nothing sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_many(_live_now(people)) == []
    assert Notification.objects.count() == 3 and len(mail.outbox) == 3


def test_the_same_rules_as_notify(django_capture_on_commit_callbacks):
    ana, quiet, gone, no_address = (
        OfficialFactory(),
        OfficialFactory(),
        UserFactory(is_active=False),
        OfficialFactory(),
    )
    no_address.email = ""
    EmailPreference.objects.create(user=quiet, kind="event_live", frequency=EmailFrequency.NEVER)
    notices = _live_now([ana, quiet, gone, no_address])
    notices.append(
        services.Notice(ana, "reply", title="You replied", url="/t/x/1/2", dedupe_key="self", actor=ana)
    )
    with django_capture_on_commit_callbacks(execute=True):
        written = services.notify_many(notices)
    # The inactive person and one's own action: no notification; "never" and no address: no email.
    assert {n.recipient_id for n in written} == {ana.pk, quiet.pk, no_address.pk}
    assert [m.to for m in mail.outbox] == [[ana.email]]
    with pytest.raises(ValueError):
        services.notify_many([services.Notice(ana, "nonsense", title="x", url="/", dedupe_key="x")])


def test_a_rollback_writes_and_sends_nothing(django_capture_on_commit_callbacks):
    people = OfficialFactory.create_batch(2)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.notify_many(_live_now(people))
        raise RuntimeError
    assert not Notification.objects.exists() and mail.outbox == []


def test_queries_do_not_grow_with_the_crowd(django_assert_max_num_queries):
    few, many = OfficialFactory.create_batch(2), OfficialFactory.create_batch(40)
    with mock.patch.object(services, "queue_emails"), django_assert_max_num_queries(8) as few_queries:
        services.notify_many(_live_now(few, "a"))
    with mock.patch.object(services, "queue_emails"), django_assert_max_num_queries(8) as many_queries:
        services.notify_many(_live_now(many, "b"))
    assert len(many_queries) == len(few_queries)


def test_due_emails_go_to_the_worker_in_batches(settings, django_capture_on_commit_callbacks):
    people = OfficialFactory.create_batch(services.EMAIL_BATCH + 1)
    queueing = mock.patch("notifications.tasks.send_emails.apply_async")
    with queueing as queued, django_capture_on_commit_callbacks(execute=True):
        services.notify_many(_live_now(people))
    batches = [call.kwargs["args"][0] for call in queued.call_args_list]
    assert [len(batch) for batch in batches] == [services.EMAIL_BATCH, 1]
    assert sorted(pk for batch in batches for pk in batch) == sorted(
        OutboxEmail.objects.values_list("pk", flat=True)
    )


def test_deliver_many_sends_each_row_once_over_one_connection(django_capture_on_commit_callbacks):
    people = OfficialFactory.create_batch(3)
    with mock.patch.object(services, "queue_emails"):
        services.notify_many(_live_now(people))
    ids = list(OutboxEmail.objects.values_list("pk", flat=True))
    opened = []
    real = services.get_connection

    def counting_connection(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    with mock.patch.object(services, "get_connection", counting_connection):
        assert services.deliver_many(ids) == {OutboxState.SENT: 3}
    assert len(opened) == 1 and len(mail.outbox) == 3
    # A redelivered task, or the drain: nothing sent twice.
    assert services.deliver_many(ids) == {"done_already": 3}
    assert len(mail.outbox) == 3


def test_deliver_many_notes_a_mail_server_failure_and_goes_on(monkeypatch):
    people = OfficialFactory.create_batch(2)
    with mock.patch.object(services, "queue_emails"):
        services.notify_many(_live_now(people))
    first, second = OutboxEmail.objects.order_by("pk")
    sent = []

    def flaky_send(self, fail_silently=False):
        if self.to == [first.recipient.email]:
            raise OSError("connection refused")
        sent.append(self.to)
        return 1

    monkeypatch.setattr("django.core.mail.EmailMessage.send", flaky_send)
    assert services.deliver_many([first.pk, second.pk]) == {"error": 1, OutboxState.SENT: 1}
    first.refresh_from_db()
    assert (
        first.state == OutboxState.PENDING
        and first.attempts == 1
        and "connection refused" in first.last_error
    )
    assert sent == [[second.recipient.email]]
