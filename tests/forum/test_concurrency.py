"""Twenty people reply to the same topic at the same instant: numbers 1..21, exact counters.

Twenty threads, each with its own connection, race as hard as fifty would on two cores and leave
room under PostgreSQL's default of 100 connections for everything else on the machine.
"""

import threading

import pytest
from django.db import connection

from forum import services
from forum.models import Post, Topic
from tests.factories import OfficialFactory, TopicFactory

REPLIERS = 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_get_consecutive_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so there is no race to test")
    topic = TopicFactory()
    officials = [OfficialFactory() for _ in range(REPLIERS)]
    barrier = threading.Barrier(REPLIERS)
    errors: list[BaseException] = []

    def reply(official):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.create_reply(official, Topic.objects.get(pk=topic.pk), f"Reply from {official.username}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=reply, args=(official,)) for official in officials]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(Post.objects.filter(topic=topic).values_list("number", flat=True))
    assert numbers == list(range(1, REPLIERS + 2))
    topic.refresh_from_db()
    assert topic.posts_count == REPLIERS + 1
    assert topic.replies_count == REPLIERS
    assert topic.highest_post_number == REPLIERS + 1
    assert topic.participants_count == REPLIERS + 1
