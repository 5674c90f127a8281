from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from events import services, tasks
from events.models import EventStatus, ReminderSent
from tests.factories import EventFactory, OfficialFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

START = datetime(2027, 5, 17, 13, 0, tzinfo=UTC)  # 15:00 in Madrid


@pytest.fixture
def event():
    with time_machine.travel(START - timedelta(days=10), tick=False):
        event = EventFactory(starts_at=START, ends_at=START + timedelta(minutes=90))
        RegistrationFactory(event=event, user=OfficialFactory(email="harare@mail.example"))
    return event


def _tick(when, captured):
    with time_machine.travel(when, tick=False), captured(execute=True):
        tasks.send_due_reminders()


def test_reminders_go_out_24_hours_and_1_hour_before_once_each(event, django_capture_on_commit_callbacks):
    _tick(START - timedelta(hours=25), django_capture_on_commit_callbacks)
    assert mail.outbox == []
    _tick(START - timedelta(hours=24), django_capture_on_commit_callbacks)
    _tick(START - timedelta(hours=23), django_capture_on_commit_callbacks)
    assert [m.subject for m in mail.outbox] == [f"Reminder: {event.title} starts in 24 hours"]
    _tick(START - timedelta(minutes=59), django_capture_on_commit_callbacks)
    _tick(START - timedelta(minutes=30), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == f"Reminder: {event.title} starts in 1 hour"
    assert mail.outbox[1].to == ["harare@mail.example"]


def test_a_late_registration_gets_only_the_reminder_still_ahead(event, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with time_machine.travel(START - timedelta(hours=5), tick=False):
        late = RegistrationFactory(event=event)
    _tick(START - timedelta(hours=4), django_capture_on_commit_callbacks)
    # The early registrant's 24-hour reminder is due (and late); the late one waits for 1 hour.
    assert [m.to for m in mail.outbox] == [[event.registrations.first().user.email]]
    mail.outbox.clear()
    _tick(START - timedelta(minutes=50), django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(["harare@mail.example", late.user.email])


def test_moving_the_event_moves_the_reminders(event, django_capture_on_commit_callbacks):
    staff = OfficialFactory(is_staff=True)
    _tick(START - timedelta(hours=23), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    new_start = START + timedelta(days=2)
    with (
        time_machine.travel(START - timedelta(hours=22), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.update_event(event, staff, starts_at=new_start, ends_at=new_start + timedelta(hours=1))
    assert mail.outbox[-1].subject == f"New time: {event.title}"
    assert mail.outbox[-1].attachments, "the new time comes with an updated calendar file"
    mail.outbox.clear()

    # The old start passes without any reminder for it.
    _tick(START - timedelta(minutes=30), django_capture_on_commit_callbacks)
    _tick(START + timedelta(minutes=5), django_capture_on_commit_callbacks)
    assert mail.outbox == []
    # The new start gets both reminders.
    _tick(new_start - timedelta(hours=23), django_capture_on_commit_callbacks)
    _tick(new_start - timedelta(minutes=45), django_capture_on_commit_callbacks)
    assert [m.subject.rsplit(" in ", 1)[1] for m in mail.outbox] == ["24 hours", "1 hour"]
    assert ReminderSent.objects.filter(starts_at=new_start).count() == 2


def test_cancelled_registrations_and_waiting_lists_get_no_reminder(event, django_capture_on_commit_callbacks):
    with time_machine.travel(START - timedelta(days=9), tick=False):
        RegistrationFactory(event=event, status="cancelled")
        RegistrationFactory(event=event, status="waitlisted")
    _tick(START - timedelta(hours=2), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_the_periodic_task_takes_the_event_live_at_the_start_and_ends_it_at_the_end(
    event, django_capture_on_commit_callbacks
):
    def run(when):
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            return tasks.run_schedule()

    assert run(START - timedelta(seconds=1)) == {"started": 0, "ended": 0}
    assert run(START) == {"started": 1, "ended": 0}
    assert run(START + timedelta(seconds=15)) == {"started": 0, "ended": 0}
    event.refresh_from_db()
    assert event.status == EventStatus.LIVE
    assert event.went_live_at == START
    live_emails = [m for m in mail.outbox if m.subject.startswith("Live now")]
    assert len(live_emails) == 1

    assert run(event.ends_at) == {"started": 0, "ended": 1}
    assert run(event.ends_at + timedelta(minutes=1)) == {"started": 0, "ended": 0}
    event.refresh_from_db()
    assert event.status == EventStatus.ENDED
    assert [m.subject for m in mail.outbox if m.subject.startswith("Thank you")] == [
        f"Thank you for joining {event.title}"
    ]


def test_the_schedule_runs_in_process_without_redis(settings):
    from core import inprocess

    assert {"events-schedule", "events-reminders"} <= set(settings.CELERY_BEAT_SCHEDULE)
    ran = inprocess.run_due({}, 0.0)
    assert "events-schedule" in ran and "events-reminders" in ran


def test_draft_and_cancelled_events_never_go_live(django_capture_on_commit_callbacks):
    with time_machine.travel(START - timedelta(days=1), tick=False):
        draft = EventFactory(status="draft", starts_at=START, ends_at=START + timedelta(hours=1))
        cancelled = EventFactory(status="cancelled", starts_at=START, ends_at=START + timedelta(hours=1))
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        tasks.run_schedule()
    draft.refresh_from_db()
    cancelled.refresh_from_db()
    assert (draft.status, cancelled.status) == ("draft", "cancelled")
