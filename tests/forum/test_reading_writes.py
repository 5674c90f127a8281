"""Reading a topic writes nothing to the database on a GET, yet read positions and views still count.

The view counter is buffered (Redis, or this process without it) and written by a periodic task;
the read position is written only when it advances or a new visit starts.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum import services, tasks
from forum.models import Topic, TopicReadState
from tests.factories import OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def writes_of(queries) -> list[str]:
    return [
        query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith(WRITES)
    ]


@pytest.fixture
def topic():
    topic = TopicFactory()
    for text in ("First answer", "Second answer"):
        services.create_reply(OfficialFactory(), topic, text)
    topic.refresh_from_db()
    return topic


def test_rereading_a_topic_writes_nothing(client, topic):
    reader = OfficialFactory()
    client.force_login(reader)
    client.get(topic.get_absolute_url())  # the first visit records the read position
    assert TopicReadState.objects.get(user=reader, topic=topic).last_read_number == 3
    with CaptureQueriesContext(connection) as queries:
        response = client.get(topic.get_absolute_url())
    assert response.status_code == 200
    assert writes_of(queries) == []


def test_a_new_reply_read_is_recorded_at_once_and_leaves_the_unread_list(client, topic):
    reader = OfficialFactory()
    client.force_login(reader)
    client.get(topic.get_absolute_url())
    services.create_reply(OfficialFactory(), topic, "A third answer")
    assert topic.title in client.get("/unread").content.decode()
    client.get(topic.get_absolute_url())
    assert TopicReadState.objects.get(user=reader, topic=topic).last_read_number == 4
    assert topic.title not in client.get("/unread").content.decode()


def test_views_reach_the_database_in_a_batch(client, topic):
    services.flush_view_counts()  # views other tests left in this process's buffer (no Redis)
    before = Topic.objects.get(pk=topic.pk).views_count
    for _ in range(3):
        assert client.get(topic.get_absolute_url()).status_code == 200
    assert Topic.objects.get(pk=topic.pk).views_count == before  # nothing written on the GETs
    assert tasks.flush_view_counts.apply().get() == 3
    assert Topic.objects.get(pk=topic.pk).views_count == before + 3
    assert tasks.flush_view_counts.apply().get() == 0  # counted once
    assert Topic.objects.get(pk=topic.pk).views_count == before + 3


def test_the_periodic_flush_is_scheduled(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "forum.flush_view_counts" in tasks_scheduled


def test_topic_page_answers_when_redis_is_down(client, settings, topic):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client.force_login(OfficialFactory())
    response = client.get(topic.get_absolute_url())
    assert response.status_code == 200
    assert "Second answer" in response.content.decode()


def test_read_position_is_kept_when_the_cache_is_down(settings, topic):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    reader = OfficialFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.mark_read(reader, topic, 2)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        state = services.mark_read(reader, topic, 2)
    # Without the cache, the visit's time goes to the database as before.
    assert TopicReadState.objects.get(pk=state.pk).last_visit_at == start + timedelta(minutes=10)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        state = services.mark_read(reader, topic, 3)
    assert (state.last_read_number, state.last_visit_number) == (3, 2)
