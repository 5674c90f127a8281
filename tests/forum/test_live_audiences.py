"""The live channels carry nothing a subscriber may not see (issue 14): each new topic is announced
on the channel of exactly the audience that may see it listed, over a real streaming connection."""

import uuid

import pytest
from django.test import Client

from forum import live as forum_live
from forum.models import ReadAccess
from tests.conftest import make_user
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory
from tests.sse import SSEClient


def _cookie(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def _start_topic(category, title: str) -> int:
    author = Client()
    author.force_login(OfficialFactory())
    response = author.post(
        "/new-topic",
        {
            "title": title,
            "raw": "Tell us.",
            "category": str(category.pk),
            "idempotency_key": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302, response.content[:300]
    return int(response["Location"].rsplit("/", 1)[1])


def _stream_path(user) -> str:
    channels = forum_live.latest_channels(user) if user else ["/latest"]
    return "/live/stream?" + "&".join(f"channel={channel}" for channel in channels)


def test_an_anonymous_stream_hears_nothing_of_a_verified_only_topic_and_an_official_does(
    live_backend, asgi_server
):
    private = CategoryFactory(read_access=ReadAccess.VERIFIED)
    public = CategoryFactory()
    official = OfficialFactory()
    member = make_user("member")
    with (
        SSEClient(asgi_server, _stream_path(None)) as anonymous,
        SSEClient(asgi_server, _stream_path(member), headers=_cookie(member)) as unverified,
        SSEClient(asgi_server, _stream_path(official), headers=_cookie(official)) as verified,
    ):
        assert anonymous.status == unverified.status == verified.status == 200
        secret = _start_topic(private, "Our procurement of the new data centre")
        event = verified.next_event()
        assert (event["event"], event["channel"], event["data"]) == (
            "topic_created",
            "/latest/verified",
            {"topic_id": secret},
        )
        # A public topic comes next: it is the first thing the others hear (nothing came before it).
        opened = _start_topic(public, "How do you train staff for new tools?")
        for stream in (anonymous, unverified):
            event = stream.next_event()
            assert (event["channel"], event["data"]) == ("/latest", {"topic_id": opened})
        assert verified.next_event()["data"] == {"topic_id": opened}


def test_unlisted_topics_are_announced_to_moderators_only(live_backend, asgi_server):
    category = CategoryFactory()
    moderator = make_user("moderator")
    official = OfficialFactory()
    with (
        SSEClient(asgi_server, _stream_path(official), headers=_cookie(official)) as reader,
        SSEClient(asgi_server, _stream_path(moderator), headers=_cookie(moderator)) as watcher,
        SSEClient(asgi_server, f"/live/stream?channel=/category/{category.pk}") as category_stream,
    ):
        hidden = TopicFactory(category=category, unlisted=True)  # unlisted from its creation
        forum_live.topic_created(hidden)
        event = watcher.next_event()
        assert (event["channel"], event["data"]) == ("/latest/moderators", {"topic_id": hidden.pk})
        shown = _start_topic(category, "A question everyone may read")
        assert reader.next_event()["data"] == {"topic_id": shown}
        assert category_stream.next_event()["data"] == {"topic_id": shown}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("anonymous", ["/latest"]),
        ("member", ["/latest", "/latest/signed_in"]),
        ("suspended", ["/latest"]),
        ("verified", ["/latest", "/latest/signed_in", "/latest/verified"]),
        ("moderator", ["/latest", "/latest/signed_in", "/latest/verified", "/latest/moderators"]),
    ],
)
def test_each_audience_channel_opens_to_its_audience_only(client, role, allowed):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    for channel in ["/latest", "/latest/signed_in", "/latest/verified", "/latest/moderators", "/latest/x"]:
        response = client.get("/live/poll", {"channel": channel})
        assert (response.status_code == 200) == (channel in allowed), (role, channel)


@pytest.mark.django_db
def test_a_narrower_sub_category_is_not_announced_on_its_parent():
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent, read_access=ReadAccess.VERIFIED)
    topic = TopicFactory(category=child)
    assert forum_live.announcement_channels(topic) == ["/latest/verified", f"/category/{child.pk}"]
    open_child = CategoryFactory(parent=parent)
    assert f"/category/{parent.pk}" in forum_live.announcement_channels(TopicFactory(category=open_child))


@pytest.mark.django_db
def test_the_list_page_follows_its_readers_channels(client):
    client.force_login(make_user("verified"))
    page = client.get("/latest").content.decode()
    assert 'data-live-channels="/latest /latest/signed_in /latest/verified"' in page
    assert 'data-live-channels="/latest"' in Client().get("/latest").content.decode()


@pytest.mark.parametrize("given", ["99999999999999999999-0", "nonsense", "1-99999999999999999999999"])
def test_a_malformed_last_event_id_starts_a_fresh_stream(live_backend, asgi_server, given):
    category = CategoryFactory()
    with SSEClient(asgi_server, "/live/stream?channel=/latest", headers={"Last-Event-ID": given}) as stream:
        assert stream.status == 200
        topic_id = _start_topic(category, "A question after a bad reconnect")
        assert stream.next_event()["data"] == {"topic_id": topic_id}
