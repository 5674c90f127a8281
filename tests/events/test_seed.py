import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from events import tasks
from events.models import Event, EventStatus
from forum import permissions as forum_permissions
from forum.models import Category, StartAccess, TopicStatus
from tests.factories import OfficialFactory

pytestmark = pytest.mark.django_db


def test_the_seed_creates_the_launch_webinar_and_city_managers_days_once():
    call_command("seed_metropolis", stdout=io.StringIO())
    call_command("seed_metropolis", stdout=io.StringIO())
    launch = Event.objects.get(slug="digitalisation-metropolitan-spaces")
    local = launch.starts_at.astimezone(ZoneInfo("Europe/Madrid"))
    assert (local.month, local.day, local.hour, local.minute) == (5, 17, 15, 0)
    assert launch.starts_at > timezone.now()
    assert launch.is_launch and launch.status == EventStatus.PUBLISHED
    assert launch.title_es.startswith("Retos y oportunidades")
    assert launch.linked_topics.count() == 3
    assert launch.speakers.filter(user__username="harare_ict").exists()

    days = Event.objects.get(slug="city-managers-days-barcelona")
    assert days.kind == "in_person" and days.is_multi_day
    sessions = list(days.sessions.all())
    assert len(sessions) >= 4
    assert len({session.venue for session in sessions}) == 2
    assert Event.objects.count() == 2


def test_starts_in_launches_the_forum_two_minutes_later_with_no_click(django_capture_on_commit_callbacks):
    call_command("seed_metropolis", "--starts-in", "2", stdout=io.StringIO())
    launch = Event.objects.get(slug="digitalisation-metropolitan-spaces")
    question = launch.linked_topics.order_by("pk").first()
    assert question.status == TopicStatus.SCHEDULED
    category = Category.objects.get(slug="digitalisation")
    assert category.start_access == StartAccess.MODERATORS
    official = OfficialFactory()
    assert not forum_permissions.can_reply(official, question)

    with time_machine.travel(launch.starts_at + timedelta(seconds=5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.run_schedule()
        launch.refresh_from_db()
        question.refresh_from_db()
        assert launch.status == EventStatus.LIVE
        assert question.status == TopicStatus.OPEN
        assert forum_permissions.can_reply(official, question)


def test_starts_in_again_rehearses_the_launch():
    call_command("seed_metropolis", "--starts-in", "0", stdout=io.StringIO())
    tasks.run_schedule()
    assert Event.objects.get(slug="digitalisation-metropolitan-spaces").status == EventStatus.LIVE
    call_command("seed_metropolis", "--starts-in", "30", stdout=io.StringIO())
    launch = Event.objects.get(slug="digitalisation-metropolitan-spaces")
    assert launch.status == EventStatus.PUBLISHED and launch.went_live_at is None
    assert launch.starts_at > timezone.now() + timedelta(minutes=29)
