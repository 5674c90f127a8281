"""Live updates: events published to channels, read back with replay.

A *channel* is a path such as ``/topic/12``, ``/latest`` or ``/user/7``. Each
channel is one Redis stream (``XADD ... MAXLEN ~ cap``) when ``REDIS_URL`` is
set, otherwise an in-process broker with the same behaviour: every event gets a
monotonically increasing id of the Redis form ``<ms>-<seq>``, the last
``LIVE_STREAM_MAXLEN`` events of a channel are kept for replay, and a
subscriber that says which id it saw last receives exactly what it missed.

Writers call :func:`publish_on_commit` (or ``transaction.on_commit(lambda:
publish(...))``) from their service functions, so a rolled-back write sends
nothing. Publishing never raises: a live event is a courtesy to open pages; the
durable record is always the database row.

Readers (the SSE view) call :func:`subscribe`. Each process holds one Redis
reader per event loop (:class:`RedisHub`), a task doing a blocking ``XREAD`` on
every channel that has at least one subscriber in this process, and fans the
events out to the subscribers' own queues, so a thousand open pages on one topic
cost one Redis connection, not a thousand.

Who may read a channel is decided by the app that owns it, through
:func:`register_channel`; this module imports no app.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction

logger = logging.getLogger(__name__)

CHANNEL_RE = re.compile(r"^/[a-z][a-z0-9_-]{0,39}(/[A-Za-z0-9_-]{1,64}){0,3}$")
STREAM_ID_RE = re.compile(r"^\d{1,20}-\d{1,20}$")
ZERO_ID = "0-0"


def _setting(name: str, default):
    return getattr(settings, name, default)


def stream_maxlen() -> int:
    """How many events each channel keeps for replay (Redis trims approximately)."""
    return int(_setting("LIVE_STREAM_MAXLEN", 1000))


def key_prefix() -> str:
    return str(_setting("LIVE_KEY_PREFIX", "live:"))


# --------------------------------------------------------------------------- ids


def parse_id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


def is_after(candidate: str, cursor: str) -> bool:
    return parse_id(candidate) > parse_id(cursor)


# Redis stream ids are two unsigned 64-bit numbers; a millisecond part more than a day ahead of
# the clock is no id this server gave out (a client would wait for it forever).
MAX_ID_PART = 2**64 - 1
MAX_ID_AHEAD_MS = 24 * 3600 * 1000


def valid_id(value: str) -> bool:
    """An id Redis accepts and this server could have sent; anything else starts fresh."""
    if not STREAM_ID_RE.match(value):
        return False
    ms, seq = parse_id(value)
    return ms <= time.time() * 1000 + MAX_ID_AHEAD_MS and seq <= MAX_ID_PART


def encode_cursor(channels: list[str], cursors: dict[str, str]) -> str:
    """The SSE ``id:`` of a connection: the stream id alone for one channel, else one per channel.

    Ids of different streams cannot be compared (each stream numbers its own
    events), so a connection on several channels remembers one id per channel:
    ``/topic/12=1700000000000-0 /latest=1700000000001-3``.
    """
    if len(channels) == 1:
        return cursors[channels[0]]
    return " ".join(f"{channel}={cursors[channel]}" for channel in channels)


def decode_cursor(value: str | None, channels: list[str]) -> dict[str, str | None]:
    """Parse a Last-Event-ID (or ``after=``) value into a per-channel id; unknown parts are ignored."""
    cursors: dict[str, str | None] = dict.fromkeys(channels)
    value = (value or "").strip()
    if not value:
        return cursors
    if "=" not in value:
        if valid_id(value):
            for channel in channels:
                cursors[channel] = value
        return cursors
    for part in value.split():
        channel, _, stream_id = part.partition("=")
        if channel in cursors and valid_id(stream_id):
            cursors[channel] = stream_id
    return cursors


# ---------------------------------------------------------------- permissions

Authorise = Callable[[Any, str], bool]
_channel_registry: dict[str, Authorise] = {}


def register_channel(prefix: str, authorise: Authorise) -> None:
    """Say who may read the channels under ``prefix`` (``/topic`` covers ``/topic/12``).

    ``authorise(user, channel) -> bool`` is called synchronously (it may query
    the database) with the requesting user, possibly anonymous. The longest
    matching prefix decides; a channel no prefix covers is refused.
    Call it from the owning app's ``AppConfig.ready()``.
    """
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"Channel prefixes look like '/topic', not {prefix!r}.")
    _channel_registry[prefix] = authorise


def unregister_channel(prefix: str) -> None:
    _channel_registry.pop(prefix, None)


def valid_channel(channel: str) -> bool:
    return bool(CHANNEL_RE.match(channel or ""))


def can_subscribe(user, channel: str) -> bool:
    """May ``user`` read ``channel``? False for malformed or unregistered channels."""
    if not valid_channel(channel):
        return False
    best = None
    for prefix in _channel_registry:
        if (channel == prefix or channel.startswith(prefix + "/")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    if best is None:
        return False
    try:
        return bool(_channel_registry[best](user, channel))
    except (OperationalError, InterfaceError):
        raise  # the database is down or busy: a 503 with Retry-After (core.unavailable), not a refusal
    except Exception:  # noqa: BLE001 - a failing check must refuse, never open the channel
        logger.exception("Channel check for %s failed", channel)
        return False


def user_channel(user_id: int) -> str:
    return f"/user/{user_id}"


def _only_yourself(user, channel: str) -> bool:
    return bool(user is not None and user.is_authenticated and channel == user_channel(user.pk))


register_channel("/user", _only_yourself)


# --------------------------------------------------------------------- events


@dataclass(frozen=True)
class LiveEvent:
    id: str
    channel: str
    event: str
    data: dict

    def as_json(self) -> dict:
        return {"id": self.id, "channel": self.channel, "event": self.event, "data": self.data}

    @functools.cached_property
    def sse(self) -> bytes:
        """The event on the wire, serialised once however many subscribers receive it.

        Unnamed SSE events, so one EventSource "message" listener receives every kind; the
        payload has the shape of an event in /live/poll's answer, minus the id (sent as ``id:``).
        """
        body = json.dumps(
            {"event": self.event, "channel": self.channel, "data": self.data}, separators=(",", ":")
        )
        return f"id: {self.id}\ndata: {body}\n\n".encode()


class Reset:
    """Replay cannot be exact: events the client missed were trimmed. Pages should reload."""

    sse = b'data: {"event":"reset","channel":null,"data":{}}\n\n'


RESET = Reset()


class Overflow:
    """A subscriber fell too far behind; its stream ends and the client reconnects and replays."""


OVERFLOW = Overflow()


class Heartbeat:
    """Time to tell the client (and the proxies between) that the connection is alive."""

    sse = b": heartbeat\n\n"


HEARTBEAT = Heartbeat()


class Subscription:
    """One connection's view of its channels: replayed events first, then live ones, never twice."""

    def __init__(self, channels: list[str], queue_size: int):
        self.channels = channels
        self.cursors: dict[str, str] = {}
        self.replay: deque = deque()
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
        self.loop = asyncio.get_running_loop()
        self.closed = False
        self.on_close: Callable[[Subscription], None] | None = None
        _heartbeats.add(self)

    def deliver(self, event) -> None:
        """Called on the subscriber's loop by the hub, the broker or the heartbeat."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # The client cannot keep up: end its stream; it reconnects and replays from its last id.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(OVERFLOW)

    @property
    def last_event_id(self) -> str:
        return encode_cursor(self.channels, self.cursors)

    def _take(self, item):
        if isinstance(item, LiveEvent):
            if not is_after(item.id, self.cursors[item.channel]):
                return None  # Already replayed (or older than where this client started).
            self.cursors[item.channel] = item.id
        return item

    def next_nowait(self):
        """The next item if one is waiting, else None (lets the stream send a burst as one write)."""
        while self.replay:
            item = self._take(self.replay.popleft())
            if item is not None:
                return item
        while not self.queue.empty():
            item = self._take(self.queue.get_nowait())
            if item is not None:
                return item
        return None

    async def next(self, timeout: float | None = None):
        """The next LiveEvent, RESET, OVERFLOW or HEARTBEAT; None if ``timeout`` (tests) passes first.

        No timer per subscriber: the process's heartbeat task puts HEARTBEAT in every queue.
        """
        item = self.next_nowait()
        if item is not None:
            return item
        while True:
            if timeout is None:
                item = await self.queue.get()
            else:
                try:
                    # Not asyncio.wait_for: on Python 3.11 it can swallow the cancellation that
                    # tells a streaming view its client has gone, leaving the stream running forever.
                    async with asyncio.timeout(timeout):
                        item = await self.queue.get()
                except TimeoutError:
                    return None
            item = self._take(item)
            if item is not None:
                return item

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            _heartbeats.discard(self)
            if self.on_close:
                self.on_close(self)


class _Heartbeats:
    """One task per event loop sends HEARTBEAT to every open subscription on it."""

    def __init__(self) -> None:
        self._subscriptions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def add(self, subscription: Subscription) -> None:
        loop = subscription.loop
        subscriptions = self._subscriptions.get(loop)
        if subscriptions is None:
            subscriptions = self._subscriptions[loop] = set()
        subscriptions.add(subscription)
        if len(subscriptions) == 1:
            loop.create_task(self._beat(loop, subscriptions), name="live-heartbeat")

    def discard(self, subscription: Subscription) -> None:
        subscriptions = self._subscriptions.get(subscription.loop)
        if subscriptions is not None:
            subscriptions.discard(subscription)

    async def _beat(self, loop, subscriptions: set) -> None:
        while subscriptions:
            await asyncio.sleep(float(_setting("LIVE_HEARTBEAT_SECONDS", 15)))
            for subscription in list(subscriptions):
                subscription.deliver(HEARTBEAT)


_heartbeats = _Heartbeats()


# ------------------------------------------------------------ in-process broker


class MemoryBroker:
    """The broker for a single process without Redis (``make run``): same ids, cap and replay."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[str, deque[LiveEvent]] = {}
        self._max_deleted: dict[str, str] = {}
        self._subscribers: dict[str, set[Subscription]] = {}
        self._last_ms = 0
        self._seq = 0

    def _next_id(self) -> str:
        now = int(time.time() * 1000)
        if now > self._last_ms:
            self._last_ms, self._seq = now, 0
        else:
            self._seq += 1
        return f"{self._last_ms}-{self._seq}"

    def publish(self, channel: str, event: str, data: dict) -> str:
        with self._lock:
            item = LiveEvent(self._next_id(), channel, event, data)
            stream = self._streams.setdefault(channel, deque())
            stream.append(item)
            while len(stream) > stream_maxlen():
                self._max_deleted[channel] = stream.popleft().id
            subscribers = list(self._subscribers.get(channel, ()))
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.deliver, item)
            except RuntimeError:  # Its event loop has closed: the connection is gone.
                subscriber.close()
        return item.id

    def _tail(self, channel: str) -> str:
        stream = self._streams.get(channel)
        return stream[-1].id if stream else self._max_deleted.get(channel, ZERO_ID)

    def last_id(self, channel: str) -> str:
        with self._lock:
            return self._tail(channel)

    def read_after(self, channel: str, after: str, limit: int) -> tuple[list[LiveEvent], bool]:
        """Events after ``after`` (at most ``limit``) and whether some were trimmed before them."""
        with self._lock:
            gap = is_after(self._max_deleted.get(channel, ZERO_ID), after)
            events = [item for item in self._streams.get(channel, ()) if is_after(item.id, after)]
        return events[:limit], gap

    async def subscribe(self, channels: list[str], cursors: dict[str, str | None]) -> Subscription:
        subscription = Subscription(channels, _setting("LIVE_SUBSCRIBER_QUEUE", 1000))
        with self._lock:
            # Registered and replayed under one lock: nothing falls between the two.
            for channel in channels:
                self._subscribers.setdefault(channel, set()).add(subscription)
                cursor = cursors.get(channel) or self._tail(channel)
                subscription.cursors[channel] = cursor
                if is_after(self._max_deleted.get(channel, ZERO_ID), cursor):
                    subscription.replay.append(RESET)
                subscription.replay.extend(
                    item for item in self._streams.get(channel, ()) if is_after(item.id, cursor)
                )
        subscription.on_close = self._unsubscribe
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            for channel in subscription.channels:
                subscribers = self._subscribers.get(channel)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[channel]

    def subscriber_count(self) -> int:
        with self._lock:
            return len({id(s) for subs in self._subscribers.values() for s in subs})

    def active_channels(self) -> set[str]:
        with self._lock:
            return set(self._subscribers)


# ----------------------------------------------------------------------- Redis


def _decode(key_prefix_: str, key: str, entry_id: str, fields: dict) -> LiveEvent:
    return LiveEvent(entry_id, key[len(key_prefix_) :], fields.get("event", ""), json.loads(fields["data"]))


class BrokerUnavailable(ConnectionError):
    """Redis did not answer a moment ago; calls fail at once until ``LIVE_BREAKER_SECONDS`` pass."""


class RedisBroker:
    """Redis Streams: one stream per channel, capped, with an expiry so idle channels vanish."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.prefix = key_prefix()
        timeout = float(_setting("LIVE_REDIS_TIMEOUT", 2))
        self.client = redis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        self._hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._down_until = 0.0

    def key(self, channel: str) -> str:
        return self.prefix + channel

    def _guarded(self, call: Callable[[], Any]):
        """Run a call on Redis; after a connection failure, fail at once for a few seconds.

        A Redis that does not answer would otherwise cost every publish (after each post, like,
        read) and every poll its connection time-out.
        """
        import redis

        if time.monotonic() < self._down_until:
            raise BrokerUnavailable("Redis was unreachable a moment ago")
        try:
            return call()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            self._down_until = time.monotonic() + float(_setting("LIVE_BREAKER_SECONDS", 5))
            raise

    def publish(self, channel: str, event: str, data: dict) -> str:
        return self._guarded(lambda: self._publish(channel, event, data))

    def _publish(self, channel: str, event: str, data: dict) -> str:
        pipe = self.client.pipeline(transaction=False)
        pipe.xadd(
            self.key(channel),
            {"event": event, "data": json.dumps(data)},
            maxlen=stream_maxlen(),
            approximate=True,
        )
        pipe.expire(self.key(channel), int(_setting("LIVE_STREAM_TTL", 7 * 24 * 3600)))
        entry_id, _ = pipe.execute()
        return entry_id

    def last_id(self, channel: str) -> str:
        entries = self._guarded(lambda: self.client.xrevrange(self.key(channel), count=1))
        return entries[0][0] if entries else ZERO_ID

    def read_after(self, channel: str, after: str, limit: int) -> tuple[list[LiveEvent], bool]:
        return self._guarded(lambda: self._read_after(channel, after, limit))

    def _read_after(self, channel: str, after: str, limit: int) -> tuple[list[LiveEvent], bool]:
        key = self.key(channel)
        entries = self.client.xrange(key, min=f"({after}", count=limit)
        gap = after != ZERO_ID and _trimmed_after(self.client.xinfo_stream(key), after) if entries else False
        return [_decode(self.prefix, key, entry_id, fields) for entry_id, fields in entries], gap

    def hub(self) -> RedisHub:
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = self._hubs[loop] = RedisHub(self.url, self.prefix)
        return hub

    async def subscribe(self, channels: list[str], cursors: dict[str, str | None]) -> Subscription:
        import redis

        if time.monotonic() < self._down_until:
            raise BrokerUnavailable("Redis was unreachable a moment ago")
        try:
            return await self.hub().subscribe(channels, cursors)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            self._down_until = time.monotonic() + float(_setting("LIVE_BREAKER_SECONDS", 5))
            raise

    def subscriber_count(self) -> int:
        return sum(hub.subscriber_count() for hub in list(self._hubs.values()))

    def active_channels(self) -> set[str]:
        return set().union(*(set(hub.positions) for hub in list(self._hubs.values())))


def _trimmed_after(info: dict, cursor: str) -> bool:
    """Might trimming have deleted entries newer than ``cursor``?

    Redis does not report trimmed ids, only how many entries were ever added.
    When the oldest kept entry is newer than the cursor and some were trimmed,
    the client may have missed some (rarely a false alarm: when the cursor was
    exactly the newest trimmed entry). Pages answer by reloading.
    """
    first = info.get("recorded-first-entry-id") or (info.get("first-entry") or [None])[0]
    if not first or first == ZERO_ID or not is_after(first, cursor):
        return False
    return int(info.get("entries-added") or 0) > int(info.get("length") or 0)


class RedisHub:
    """One per event loop (so one per uvicorn worker): the single reader that fans events out."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self.prefix = prefix
        pool_size = int(_setting("LIVE_REDIS_POOL_SIZE", 10))
        timeout = float(_setting("LIVE_REDIS_TIMEOUT", 2))
        # Short commands (replay, tails) share a small pool: connect storms wait their turn.
        self.redis = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=pool_size,
                timeout=30,
                decode_responses=True,
                socket_connect_timeout=timeout,
                socket_timeout=timeout * 5,
            )
        )
        # The blocking XREAD holds its own connection; its reads may last the whole block time.
        block_seconds = int(_setting("LIVE_READER_BLOCK_MS", 5000)) / 1000
        self.reader = aioredis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=timeout, socket_timeout=block_seconds + 30
        )
        self.subscribers: dict[str, set[Subscription]] = {}
        self.positions: dict[str, str] = {}
        self._ready: dict[str, asyncio.Future] = {}
        self.wake_key = f"{prefix}wake:{uuid.uuid4().hex}"
        self._wake_position = ZERO_ID
        self._task: asyncio.Task | None = None

    def subscriber_count(self) -> int:
        return len({id(s) for subs in self.subscribers.values() for s in subs})

    async def subscribe(self, channels: list[str], cursors: dict[str, str | None]) -> Subscription:
        subscription = Subscription(channels, _setting("LIVE_SUBSCRIBER_QUEUE", 1000))
        subscription.on_close = self._unsubscribe
        try:
            new_channels = []
            for channel in channels:
                self.subscribers.setdefault(channel, set()).add(subscription)
                if channel not in self._ready:
                    self._ready[channel] = asyncio.get_running_loop().create_future()
                    new_channels.append(channel)
            if new_channels:
                await self._start_reading(new_channels)
            # The hub's position for each channel is known before this client's replay is read, so
            # replay and live delivery overlap rather than leave a gap; the cursor removes the overlap.
            await asyncio.gather(*(self._ready[channel] for channel in channels))
            for channel in channels:
                await self._replay_into(subscription, channel, cursors.get(channel))
        except BaseException:
            subscription.close()
            raise
        return subscription

    async def _start_reading(self, channels: list[str]) -> None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            for channel in channels:
                pipe.xrevrange(self.prefix + channel, count=1)
            tails = await pipe.execute()
            for channel, entries in zip(channels, tails, strict=True):
                self.positions.setdefault(channel, entries[0][0] if entries else ZERO_ID)
                self._ready[channel].set_result(True)
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._run(), name="live-hub")
            else:
                await self._wake()
        except BaseException as error:
            for channel in channels:
                future = self._ready.pop(channel, None)
                if future is not None and not future.done():
                    future.set_exception(error if isinstance(error, Exception) else RuntimeError("cancelled"))
                    future.exception()  # Retrieved here, so asyncio does not warn about it.
            raise

    async def _wake(self) -> None:
        """Interrupt the blocking XREAD so it picks up the new set of channels."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.xadd(self.wake_key, {"w": "1"}, maxlen=10, approximate=False)
        pipe.expire(self.wake_key, 3600)
        await pipe.execute()

    async def _replay_into(self, subscription: Subscription, channel: str, cursor: str | None) -> None:
        key = self.prefix + channel
        if cursor is None:
            entries = await self.redis.xrevrange(key, count=1)
            subscription.cursors[channel] = entries[0][0] if entries else ZERO_ID
            return
        subscription.cursors[channel] = cursor
        start = cursor
        while True:
            entries = await self.redis.xrange(key, min=f"({start}", count=500)
            first_page = start == cursor and entries and cursor != ZERO_ID
            if first_page and _trimmed_after(await self.redis.xinfo_stream(key), cursor):
                subscription.replay.append(RESET)
            subscription.replay.extend(_decode(self.prefix, key, i, f) for i, f in entries)
            if len(entries) < 500:
                return
            start = entries[-1][0]

    def _unsubscribe(self, subscription: Subscription) -> None:
        for channel in subscription.channels:
            subscribers = self.subscribers.get(channel)
            if subscribers is None:
                continue
            subscribers.discard(subscription)
            if not subscribers:
                # The reader drops the channel at its next turn.
                del self.subscribers[channel]
                self.positions.pop(channel, None)
                future = self._ready.pop(channel, None)
                if future is not None and not future.done():
                    future.cancel()

    async def _run(self) -> None:
        import redis

        block_ms = int(_setting("LIVE_READER_BLOCK_MS", 5000))
        failures = 0
        while self.positions:
            streams = {self.wake_key: self._wake_position}
            streams.update({self.prefix + channel: pos for channel, pos in self.positions.items()})
            try:
                result = await self.reader.xread(streams, block=block_ms, count=500)
                failures = 0
            except Exception as error:  # noqa: BLE001 - the reader must outlive any one bad answer
                failures += 1
                delay = min(0.25 * 2**failures, 5.0)
                log = logger.warning if isinstance(error, redis.RedisError | OSError) else logger.exception
                log("Live reader lost Redis (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                continue
            for key, entries in result or ():
                if key == self.wake_key:
                    self._wake_position = entries[-1][0]
                    continue
                channel = key[len(self.prefix) :]
                for entry_id, fields in entries:
                    position = self.positions.get(channel)
                    if position is None or not is_after(entry_id, position):
                        continue
                    self.positions[channel] = entry_id
                    try:
                        event = _decode(self.prefix, key, entry_id, fields)
                    except (KeyError, ValueError):
                        logger.warning("Skipping malformed live event %s on %s", entry_id, channel)
                        continue
                    for subscription in list(self.subscribers.get(channel, ())):
                        subscription.deliver(event)
        self._task = None


# ------------------------------------------------------------------ front door

_brokers: dict[str, MemoryBroker | RedisBroker] = {}
_brokers_lock = threading.Lock()


def get_broker() -> MemoryBroker | RedisBroker:
    """The broker for the current settings (Redis when REDIS_URL is set)."""
    url = settings.REDIS_URL or ""
    cache_key = f"{url}|{key_prefix()}"
    broker = _brokers.get(cache_key)
    if broker is None:
        with _brokers_lock:
            broker = _brokers.get(cache_key)
            if broker is None:
                broker = _brokers[cache_key] = RedisBroker(url) if url else MemoryBroker()
    return broker


def publish(channel: str, event: str, data: dict) -> str | None:
    """Send ``event`` with JSON-serialisable ``data`` to everyone reading ``channel``.

    Returns the event id, or None when the broker is unreachable (logged, never
    raised: the write that caused the event has already succeeded). Call it
    after commit; :func:`publish_on_commit` does that for you.
    """
    if not valid_channel(channel):
        raise ValueError(f"Not a channel name: {channel!r}")
    payload = json.loads(json.dumps(data, default=str))
    try:
        return get_broker().publish(channel, event, payload)
    except BrokerUnavailable:
        logger.info("Not publishing %s to %s: Redis is unreachable", event, channel)
        return None
    except Exception:  # noqa: BLE001 - Redis down must not turn a saved post into an error page
        logger.warning("Could not publish %s to %s", event, channel, exc_info=True)
        return None


def publish_on_commit(channel: str, event: str, data: dict, *, using: str | None = None) -> None:
    """Publish once the current transaction commits (at once outside a transaction); nothing on rollback."""
    transaction.on_commit(lambda: publish(channel, event, data), using=using, robust=True)


def publish_many_on_commit(messages: Iterable[tuple[str, str, dict]], *, using: str | None = None) -> None:
    messages = list(messages)
    transaction.on_commit(
        lambda: [publish(channel, event, data) for channel, event, data in messages], using=using, robust=True
    )


async def subscribe(channels: list[str], cursors: dict[str, str | None]) -> Subscription:
    """Start reading ``channels`` from ``cursors`` (None: from now). Close the subscription when done."""
    return await get_broker().subscribe(channels, cursors)


def read_after(channel: str, after: str, limit: int = 100) -> tuple[list[LiveEvent], bool]:
    return get_broker().read_after(channel, after, limit)


def last_id(channel: str) -> str:
    return get_broker().last_id(channel)
