"""The live page's newest replies (events.linked.live_posts_html), refetched by every open live
page after each reply: rendered once per change and shared, never across what readers may read."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from events import services
from forum import services as forum_services
from tests.conftest import make_user
from tests.factories import CategoryFactory, EventFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    staff = make_user("staff")
    public = TopicFactory(title="How do cities open their data?")
    verified_only = TopicFactory(
        title="Budget figures among officials", category=CategoryFactory(read_access="verified")
    )
    event = EventFactory()
    services.link_forum(event, staff, topics=[public, verified_only])
    forum_services.create_reply(OfficialFactory(), public, "Our portal publishes every dataset weekly.")
    forum_services.create_reply(OfficialFactory(), verified_only, "Our deficit this year is 2.1 %.")
    return {"event": event, "public": public, "verified_only": verified_only}


def fetch(client, event) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/events/{event.slug}/live-posts", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_readers_of_the_same_topics_share_one_rendering(event):
    first, first_queries = fetch(Client(), event["event"])
    second, second_queries = fetch(Client(), event["event"])
    assert first == second and "Our portal publishes every dataset weekly." in second
    assert second_queries < first_queries  # the replies and the counter came from the cache


def test_nobody_gets_the_replies_of_a_topic_they_may_not_read(event):
    official = Client()
    official.force_login(OfficialFactory())
    fetch(official, event["event"])
    shared, _queries = fetch(official, event["event"])
    assert "Our deficit this year is 2.1 %." in shared
    anonymous, _queries = fetch(Client(), event["event"])
    assert "Our deficit this year is 2.1 %." not in anonymous
    assert "Our portal publishes every dataset weekly." in anonymous


def test_a_new_reply_and_a_hidden_one_show_on_the_next_refetch(event):
    client = Client()
    fetch(client, event["event"])
    reply = forum_services.create_reply(OfficialFactory(), event["public"], "We began with transport data.")
    page, _queries = fetch(client, event["event"])
    assert "We began with transport data." in page
    forum_services.hide_post(make_user("moderator"), reply, "Off topic")
    page, _queries = fetch(Client(), event["event"])
    assert "We began with transport data." not in page


def test_spanish_and_english_readers_get_their_own_language(event):
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es")
    spanish.cookies["django_language"] = "es"
    english = Client()
    assert "since the start" in fetch(english, event["event"])[0]
    assert "since the start" not in fetch(spanish, event["event"])[0]


def test_the_refetch_costs_a_fixed_number_of_queries_whatever_the_replies(event):
    """The event and the linked topics this reader may see; the replies too when not kept."""
    author = OfficialFactory()
    counts = {}
    for size in ("few", "many"):
        if size == "many":
            for number in range(40):
                forum_services.create_reply(
                    author, event["public"], f"Another city answers, number {number}."
                )
        _page, rendered = fetch(Client(), event["event"])
        _page, shared = fetch(Client(), event["event"])
        counts[size] = (rendered, shared)
    assert counts["few"] == counts["many"] == (4, 2)
