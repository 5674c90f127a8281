import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from events import services, tasks
from events.models import EventStatus, ReminderSent
from notifications.models import Notification
from tests.factories import EventFactory, OfficialFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

START = datetime(2027, 5, 17, 13, 0, tzinfo=UTC)  # 15:00 in Madrid


@pytest.fixture
def event():
    with time_machine.travel(START - timedelta(days=10), tick=False):
        event = EventFactory(starts_at=START, ends_at=START + timedelta(minutes=90))
        RegistrationFactory(event=event, user=OfficialFactory(email="harare@mail.example"))
    return event


def reminders() -> list[tuple[str, str]]:
    """(who, title) of every reminder notification so far, oldest first."""
    return list(
        Notification.objects.filter(kind="event_reminder")
        .order_by("pk")
        .values_list("recipient__email", "title")
    )


def _tick(when, captured):
    with time_machine.travel(when, tick=False), captured(execute=True):
        tasks.send_due_reminders()


def test_reminders_go_out_24_hours_and_1_hour_before_once_each(event, django_capture_on_commit_callbacks):
    _tick(START - timedelta(hours=25), django_capture_on_commit_callbacks)
    assert reminders() == []
    _tick(START - timedelta(hours=24), django_capture_on_commit_callbacks)
    _tick(START - timedelta(hours=23), django_capture_on_commit_callbacks)
    assert reminders() == [("harare@mail.example", f"Reminder: {event.title} starts in 24 hours")]
    _tick(START - timedelta(minutes=59), django_capture_on_commit_callbacks)
    _tick(START - timedelta(minutes=30), django_capture_on_commit_callbacks)
    assert reminders()[1:] == [("harare@mail.example", f"Reminder: {event.title} starts in 1 hour")]
    # The email follows through the notifications outbox, as the person chose.
    assert Notification.objects.get(title__endswith="1 hour").emails.count() == 1


def test_a_late_registration_gets_only_the_reminder_still_ahead(event, django_capture_on_commit_callbacks):
    with time_machine.travel(START - timedelta(hours=5), tick=False):
        late = RegistrationFactory(event=event)
    _tick(START - timedelta(hours=4), django_capture_on_commit_callbacks)
    # The early registrant's 24-hour reminder is due (and late); the late one waits for 1 hour.
    assert [who for who, _title in reminders()] == ["harare@mail.example"]
    _tick(START - timedelta(minutes=50), django_capture_on_commit_callbacks)
    assert sorted(who for who, _title in reminders()[1:]) == sorted(["harare@mail.example", late.user.email])


def test_moving_the_event_moves_the_reminders(event, django_capture_on_commit_callbacks):
    staff = OfficialFactory(is_staff=True)
    _tick(START - timedelta(hours=23), django_capture_on_commit_callbacks)
    assert len(reminders()) == 1
    new_start = START + timedelta(days=2)
    with (
        time_machine.travel(START - timedelta(hours=22), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.update_event(event, staff, starts_at=new_start, ends_at=new_start + timedelta(hours=1))
    assert mail.outbox[-1].subject == f"New time: {event.title}"
    assert mail.outbox[-1].attachments, "the new time comes with an updated calendar file"

    # The old start passes without any reminder for it.
    _tick(START - timedelta(minutes=30), django_capture_on_commit_callbacks)
    _tick(START + timedelta(minutes=5), django_capture_on_commit_callbacks)
    assert len(reminders()) == 1
    # The new start gets both reminders.
    _tick(new_start - timedelta(hours=23), django_capture_on_commit_callbacks)
    _tick(new_start - timedelta(minutes=45), django_capture_on_commit_callbacks)
    assert [title.rsplit(" in ", 1)[1] for _who, title in reminders()[1:]] == ["24 hours", "1 hour"]
    assert ReminderSent.objects.filter(starts_at=new_start).count() == 2


def test_cancelled_registrations_and_waiting_lists_get_no_reminder(event, django_capture_on_commit_callbacks):
    with time_machine.travel(START - timedelta(days=9), tick=False):
        RegistrationFactory(event=event, status="cancelled")
        RegistrationFactory(event=event, status="waitlisted")
    _tick(START - timedelta(hours=2), django_capture_on_commit_callbacks)
    assert len(reminders()) == 1


def test_the_periodic_task_takes_the_event_live_at_the_start_and_ends_it_at_the_end(
    event, django_capture_on_commit_callbacks
):
    def run(when):
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            return tasks.run_schedule()

    assert run(START - timedelta(seconds=1)) == {"started": 0, "ended": 0, "closed": 0}
    assert run(START) == {"started": 1, "ended": 0, "closed": 0}
    assert run(START + timedelta(seconds=15)) == {"started": 0, "ended": 0, "closed": 0}
    event.refresh_from_db()
    assert event.status == EventStatus.LIVE
    assert event.went_live_at == START
    assert Notification.objects.filter(kind="event_live").count() == 1

    assert run(event.ends_at) == {"started": 0, "ended": 1, "closed": 0}
    assert run(event.ends_at + timedelta(minutes=1)) == {"started": 0, "ended": 0, "closed": 0}
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


def test_a_fresh_web_process_knows_every_periodic_task():
    """`make run` serves one process with the in-process scheduler: every task of the beat
    schedule must be registered there, although no request has imported the apps' tasks yet."""
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from config.celery import app\n"
        "from core import inprocess\n"
        "inprocess.load_tasks()\n"
        "names = [entry['task'] for entry in settings.CELERY_BEAT_SCHEDULE.values()]\n"
        "print(sorted(name for name in names if name not in app.tasks))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
