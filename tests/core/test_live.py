"""Live updates: the broker's semantics (in-process and Redis) and the SSE/poll endpoints over real HTTP."""

import asyncio
import json
import threading

import pytest

from core import live
from tests.conftest import make_user
from tests.sse import SSEClient

# --------------------------------------------------------------- the brokers


def run_async(scenario) -> None:
    """asyncio.run in a thread of its own: Playwright's tests leave a running loop in this one."""
    errors = []

    def target():
        try:
            asyncio.run(scenario())
        except BaseException as error:  # noqa: BLE001 - handed back to the test below
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]


def test_ids_increase_and_replay_returns_exactly_what_came_after(live_backend, live_test_channel):
    ids = [live.publish(live_test_channel, "note", {"n": n}) for n in range(5)]
    assert all(live.is_after(later, earlier) for earlier, later in zip(ids, ids[1:], strict=False))
    assert live.last_id(live_test_channel) == ids[-1]

    events, gap = live.read_after(live_test_channel, ids[1])
    assert [e.data["n"] for e in events] == [2, 3, 4]
    assert [e.id for e in events] == ids[2:]
    assert gap is False
    assert live.read_after(live_test_channel, ids[-1]) == ([], False)


def test_a_channel_keeps_only_its_cap_and_says_when_replay_has_a_gap(
    live_backend, live_test_channel, settings
):
    settings.LIVE_STREAM_MAXLEN = 5
    first = live.publish(live_test_channel, "note", {"n": 0})
    for n in range(1, 400):
        live.publish(live_test_channel, "note", {"n": n})
    # Redis trims whole blocks of entries ("MAXLEN ~"), the in-process broker exactly: both stay bounded.
    events, gap = live.read_after(live_test_channel, first, limit=1000)
    assert len(events) < 300
    assert events[-1].data["n"] == 399
    assert gap is True


def test_an_event_reaches_a_subscriber_and_a_reconnect_replays_the_missed_ones(
    live_backend, live_test_channel
):
    async def scenario():
        subscription = await live.subscribe([live_test_channel], {live_test_channel: None})
        try:
            # Published from another thread, as a web request's on_commit would.
            first = await asyncio.to_thread(live.publish, live_test_channel, "post_created", {"post": 1})
            event = await subscription.next(timeout=10)
            assert (event.id, event.event, event.data) == (first, "post_created", {"post": 1})
        finally:
            subscription.close()

        missed = [
            await asyncio.to_thread(live.publish, live_test_channel, "post_created", {"post": n})
            for n in (2, 3)
        ]
        again = await live.subscribe([live_test_channel], {live_test_channel: first})
        try:
            later = await asyncio.to_thread(live.publish, live_test_channel, "post_created", {"post": 4})
            received = [await again.next(timeout=10) for _ in range(3)]
            assert [e.id for e in received] == [*missed, later]
            assert await again.next(timeout=0.2) is None  # Nothing twice.
        finally:
            again.close()

    run_async(scenario)


def test_one_subscription_follows_several_channels_with_one_id_per_channel(live_backend, live_test_channel):
    other = live_test_channel + "x"

    async def scenario():
        channels = [live_test_channel, other]
        subscription = await live.subscribe(channels, dict.fromkeys(channels))
        try:
            await asyncio.to_thread(live.publish, other, "a", {})
            await asyncio.to_thread(live.publish, live_test_channel, "b", {})
            seen = [(await subscription.next(timeout=10)).event for _ in range(2)]
            assert sorted(seen) == ["a", "b"]
            cursor = subscription.last_event_id
        finally:
            subscription.close()
        assert live.decode_cursor(cursor, channels) == {
            live_test_channel: live.last_id(live_test_channel),
            other: live.last_id(other),
        }

    run_async(scenario)


def test_publishing_after_commit_sends_nothing_on_rollback(live_backend, live_test_channel, transactional_db):
    from django.db import transaction

    with transaction.atomic():
        live.publish_on_commit(live_test_channel, "kept", {})
    with pytest.raises(RuntimeError), transaction.atomic():
        live.publish_on_commit(live_test_channel, "rolled_back", {})
        raise RuntimeError
    events, _ = live.read_after(live_test_channel, live.ZERO_ID)
    assert [e.event for e in events] == ["kept"]


@pytest.mark.redis
def test_publishing_with_redis_unreachable_logs_and_returns_none(settings, live_test_channel, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert live.publish(live_test_channel, "lost", {}) is None
    assert "Could not publish" in caplog.text


def test_channel_permissions():
    user, other = make_user("member"), make_user("member")
    assert live.can_subscribe(user, f"/user/{user.pk}")
    assert not live.can_subscribe(user, f"/user/{other.pk}")
    assert not live.can_subscribe(None, f"/user/{user.pk}")
    assert not live.can_subscribe(user, "/unknown/1")
    assert not live.can_subscribe(user, "/user/1/../2")


test_channel_permissions = pytest.mark.django_db(test_channel_permissions)


def test_cursor_round_trip():
    channels = ["/topic/1", "/latest"]
    cursor = live.encode_cursor(channels, {"/topic/1": "5-0", "/latest": "7-2"})
    assert cursor == "/topic/1=5-0 /latest=7-2"
    assert live.decode_cursor(cursor, channels) == {"/topic/1": "5-0", "/latest": "7-2"}
    assert live.decode_cursor("9-1", ["/topic/1"]) == {"/topic/1": "9-1"}
    assert live.decode_cursor("garbage", ["/topic/1"]) == {"/topic/1": None}


# -------------------------------------------------------- over real HTTP (ASGI)


def _session_cookie(client, user) -> dict:
    client.force_login(user)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def test_an_event_published_by_another_client_arrives_on_the_stream(
    live_backend, live_test_channel, asgi_server
):
    with SSEClient(asgi_server, f"/live/stream?channel={live_test_channel}") as stream:
        assert stream.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        # "Another client": a thread of its own publishing, as a post's on_commit does.
        sent = {}
        publisher = threading.Thread(
            target=lambda: sent.update(id=live.publish(live_test_channel, "post_created", {"post_id": 42}))
        )
        publisher.start()
        event = stream.next_event()
        publisher.join()
        assert event["event"] == "post_created"
        assert event["data"] == {"channel": live_test_channel, "post_id": 42}
        assert event["id"] == sent["id"]
        assert stream.retry == 3000


def test_a_reconnect_with_last_event_id_gets_exactly_the_missed_events(
    live_backend, live_test_channel, asgi_server
):
    with SSEClient(asgi_server, f"/live/stream?channel={live_test_channel}") as stream:
        live.publish(live_test_channel, "post_created", {"n": 1})
        last_seen = stream.next_event()["id"]
    missed = [live.publish(live_test_channel, "post_created", {"n": n}) for n in (2, 3, 4)]

    headers = {"Last-Event-ID": last_seen}
    with SSEClient(asgi_server, f"/live/stream?channel={live_test_channel}", headers=headers) as stream:
        replayed = [stream.next_event() for _ in missed]
        assert [e["id"] for e in replayed] == missed
        assert [e["data"]["n"] for e in replayed] == [2, 3, 4]
        after = live.publish(live_test_channel, "post_created", {"n": 5})
        assert stream.next_event()["id"] == after  # Not n=4 again: no duplicate, no gap.

    # The first connection of a page can pass the id it was rendered at.
    with SSEClient(
        asgi_server, f"/live/stream?channel={live_test_channel}&last_event_id={missed[1]}"
    ) as stream:
        assert [stream.next_event()["id"] for _ in range(2)] == [missed[2], after]


def test_idle_streams_get_heartbeats(live_backend, live_test_channel, asgi_server, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    with SSEClient(asgi_server, f"/live/stream?channel={live_test_channel}") as stream:
        comments_before = stream.comments
        live.publish(live_test_channel, "late", {})
        assert stream.next_event()["event"] == "late"
        assert stream.comments > comments_before


def test_forbidden_and_unknown_channels_are_refused(live_backend, asgi_server, client):
    me, other = make_user("verified"), make_user("verified")
    cookie = _session_cookie(client, me)
    for path, headers in [
        (f"/live/stream?channel=/user/{other.pk}", cookie),
        (f"/live/stream?channel=/user/{me.pk}", {}),  # Anonymous.
        ("/live/stream?channel=/secret/1", cookie),
        (f"/live/stream?channel=/user/{me.pk}&channel=/user/{other.pk}", cookie),
    ]:
        with SSEClient(asgi_server, path, headers=headers) as stream:
            assert stream.status == 403, path
    with SSEClient(asgi_server, "/live/stream", headers=cookie) as stream:
        assert stream.status == 400


def test_my_own_user_channel_streams_to_me(live_backend, asgi_server, client):
    me = make_user("verified")
    with SSEClient(
        asgi_server, f"/live/stream?channel=/user/{me.pk}", headers=_session_cookie(client, me)
    ) as stream:
        assert stream.status == 200
        live.publish(f"/user/{me.pk}", "notification", {"unread": 3})
        assert stream.next_event()["data"]["unread"] == 3


def test_a_disconnected_client_is_forgotten(live_backend, live_test_channel, asgi_server):
    with SSEClient(asgi_server, f"/live/stream?channel={live_test_channel}") as stream:
        live.publish(live_test_channel, "hello", {})
        stream.next_event()
        assert live.get_broker().subscriber_count() >= 1
    # The server notices the closed socket at its next write (a heartbeat or an event).
    for _ in range(200):
        live.publish(live_test_channel, "anyone_there", {})
        if live_test_channel not in live.get_broker().active_channels():
            break
        threading.Event().wait(0.05)
    assert live_test_channel not in live.get_broker().active_channels()


# ----------------------------------------------------------------- polling


@pytest.mark.django_db
def test_polling_returns_the_events_after_a_cursor(live_backend, live_test_channel, client):
    start = client.get("/live/poll", {"channel": live_test_channel}).json()
    assert start["events"] == []
    ids = [live.publish(live_test_channel, "post_created", {"n": n}) for n in range(3)]
    body = client.get("/live/poll", {"channel": live_test_channel, "after": start["last_event_id"]}).json()
    assert [e["id"] for e in body["events"]] == ids
    assert body["events"][0] == {
        "id": ids[0],
        "channel": live_test_channel,
        "event": "post_created",
        "data": {"n": 0},
    }
    assert body["last_event_id"] == ids[-1]
    again = client.get("/live/poll", {"channel": live_test_channel, "after": body["last_event_id"]}).json()
    assert again["events"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", ["anonymous", "member", "verified", "moderator", "staff", "silenced", "suspended"]
)
def test_permission_matrix_for_the_live_endpoints(role, client_as, live_backend):
    client = client_as(role)
    someone_else = make_user("member")
    own = f"/user/{client.user.pk}" if client.user else f"/user/{someone_else.pk}"
    expected_own = 403 if role == "anonymous" else 200
    assert client.get("/live/poll", {"channel": own}).status_code == expected_own
    assert client.get("/live/poll", {"channel": f"/user/{someone_else.pk}"}).status_code == 403
    assert client.get("/live/stream", {"channel": f"/user/{someone_else.pk}"}).status_code == 403
    assert client.get("/live/poll", {"channel": "/no-such-thing"}).status_code == 403
    body = json.loads(client.get("/live/poll").content)
    assert "error" in body
