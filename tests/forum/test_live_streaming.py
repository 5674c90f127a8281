"""A topic's live channel over real HTTP: the ASGI server streaming, another client posting
through the forum's own reply page (in-process broker, and Redis Streams with the redis mark)."""

import uuid

import pytest
from django.test import Client

from forum.models import ReadAccess
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory, UserFactory
from tests.sse import SSEClient


def _reply(topic, text: str) -> int:
    """Another person answers through the reply form, as a browser would; returns the post number."""
    other = Client()
    other.force_login(OfficialFactory())
    response = other.post(f"/t/{topic.pk}/reply", {"raw": text, "idempotency_key": str(uuid.uuid4())})
    assert response.status_code == 302, response.content[:500]
    return int(response["Location"].rsplit("#post-", 1)[1])


def _cookie(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def test_a_reply_reaches_a_reader_of_the_topic_within_a_second(live_backend, asgi_server):
    topic = TopicFactory()
    with SSEClient(asgi_server, f"/live/stream?channel=/topic/{topic.pk}") as stream:
        assert stream.status == 200
        number = _reply(topic, "Our city publishes every dataset it can.")
        # The post is saved when the form answers; from then on, one second at most.
        stream.set_timeout(1.0)
        event = stream.next_event()
    assert event["event"] == "post_created"
    assert event["channel"] == f"/topic/{topic.pk}"
    assert event["data"]["number"] == number == 2
    assert set(event["data"]) == {"post_id", "number"}  # numbers only, never the text


def test_a_reconnecting_reader_gets_exactly_the_replies_it_missed(live_backend, asgi_server):
    topic = TopicFactory()
    channel = f"/live/stream?channel=/topic/{topic.pk}"
    with SSEClient(asgi_server, channel) as stream:
        _reply(topic, "The first answer, seen live.")
        seen = stream.next_event()
    assert seen["data"]["number"] == 2
    missed = [_reply(topic, f"Answer {n}, posted while the reader was away.") for n in (3, 4)]

    with SSEClient(asgi_server, channel, headers={"Last-Event-ID": seen["id"]}) as stream:
        replayed = [stream.next_event() for _ in missed]
        assert [event["data"]["number"] for event in replayed] == missed == [3, 4]
        later = _reply(topic, "And one more after the reconnect.")
        assert stream.next_event()["data"]["number"] == later == 5  # no duplicate, no gap


def test_a_private_topic_channel_is_refused_to_those_who_may_not_read_it(live_backend, asgi_server):
    topic = TopicFactory(category=CategoryFactory(read_access=ReadAccess.VERIFIED))
    path = f"/live/stream?channel=/topic/{topic.pk}"
    for headers in ({}, _cookie(UserFactory())):
        with SSEClient(asgi_server, path, headers=headers) as stream:
            assert stream.status == 403
    with SSEClient(asgi_server, f"/live/stream?channel=/category/{topic.category_id}") as stream:
        assert stream.status == 403
    with SSEClient(asgi_server, path, headers=_cookie(OfficialFactory())) as stream:
        assert stream.status == 200


@pytest.mark.parametrize("channel", ["/latest", "category"])
def test_a_new_topic_is_announced_on_the_lists(live_backend, asgi_server, channel):
    category = CategoryFactory()
    path = "/latest" if channel == "/latest" else f"/category/{category.pk}"
    with SSEClient(asgi_server, f"/live/stream?channel={path}") as stream:
        author = Client()
        author.force_login(OfficialFactory())
        response = author.post(
            "/new-topic",
            {
                "title": "How do you train staff for new tools?",
                "raw": "Tell us.",
                "category": str(category.pk),
                "idempotency_key": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 302
        event = stream.next_event()
    assert event["event"] == "topic_created"
    assert response["Location"].endswith(f"/{event['data']['topic_id']}")
