"""The live endpoints: a Server-Sent Events stream and a JSON polling fallback.

Both take one or more ``channel`` parameters; every channel must be readable by
the requesting person (see :func:`core.live.register_channel`), else 403.
"""

import asyncio
import logging
import threading
import weakref
from collections import Counter

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import live

logger = logging.getLogger(__name__)

MAX_CHANNELS = 10


class _OpenStreams:
    """This process's open streams, in all and per client address, for the caps.

    Counted per process: a cap is about this process's memory and event loop (≈ 77 KB per open
    stream), and a count shared through Redis would be lost with Redis, when the caps matter.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total = 0
        self.by_ip: Counter[str] = Counter()

    def take(self, ip: str) -> str | None:
        """Reserve a stream for ``ip``; None when allowed, else which cap refuses ("ip", "process")."""
        per_ip = int(getattr(settings, "LIVE_MAX_STREAMS_PER_IP", 1000))
        per_process = int(getattr(settings, "LIVE_MAX_STREAMS_PER_PROCESS", 4000))
        with self.lock:
            if self.total >= per_process:
                return "process"
            if self.by_ip[ip] >= per_ip:
                return "ip"
            self.total += 1
            self.by_ip[ip] += 1
        return None

    def give_back(self, ip: str) -> None:
        with self.lock:
            self.total -= 1
            self.by_ip[ip] -= 1
            if self.by_ip[ip] <= 0:
                del self.by_ip[ip]


open_streams = _OpenStreams()


class _Slot:
    """One reserved stream, given back exactly once however the connection ends."""

    def __init__(self, ip: str) -> None:
        self.ip = ip
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            open_streams.give_back(self.ip)


class _LiveStreamResponse(StreamingHttpResponse):
    slot: _Slot | None = None

    def close(self) -> None:
        if self.slot is not None:
            self.slot.release()
        super().close()


def _unavailable(status: int, message: str) -> HttpResponse:
    """A refusal the page answers by polling; Retry-After says when to try streaming again."""
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(int(getattr(settings, "LIVE_STREAM_RETRY_AFTER_SECONDS", 60)))
    return response


def _channels(request) -> list[str]:
    # dict.fromkeys keeps the order and drops repeats: the order shapes the SSE id.
    return list(dict.fromkeys(request.GET.getlist("channel")))[: MAX_CHANNELS + 1]


def _refusal(channels: list[str], user) -> tuple[int, str] | None:
    if not channels:
        return 400, _("Say which channel to follow.")
    if len(channels) > MAX_CHANNELS:
        return 400, _("Too many channels at once.")
    for channel in channels:
        if not live.can_subscribe(user, channel):
            return 403, _("You may not follow this channel.")
    return None


def _release_database_connections() -> None:
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:  # a test's transaction, never a request's
            conn.close()


@never_cache
@require_GET
async def stream(request):
    """``GET /live/stream?channel=/topic/12&channel=/latest``: an endless text/event-stream.

    Every event carries ``id:`` (see :func:`core.live.encode_cursor`); a
    reconnecting browser sends it back as ``Last-Event-ID`` and receives exactly
    what it missed. ``?last_event_id=`` does the same for the first connection
    (a page can pass the id it was rendered at).
    """
    channels = _channels(request)
    user = await request.auser()
    refusal = await sync_to_async(_refusal)(channels, user)
    # The checks above are the stream's only database work: hand the connection back to the
    # pool now, or every open stream would keep one until it ends (minutes) and exhaust the pool.
    await sync_to_async(_release_database_connections)()
    if refusal is not None:
        status, message = refusal
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    if not isinstance(request, ASGIRequest):
        # Under WSGI (runserver, the test live server) an endless response would hold a
        # server thread for good; the page polls instead. Production serves ASGI (uvicorn).
        return _unavailable(503, _("Live updates are unavailable."))
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    refused_by = open_streams.take(ip)
    if refused_by == "ip":
        return _unavailable(429, _("Too many live pages are open from your network; this page will poll."))
    if refused_by == "process":
        return _unavailable(503, _("Live updates are unavailable."))
    slot = _Slot(ip)
    given = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    try:
        subscription = await live.subscribe(channels, live.decode_cursor(given, channels))
    except live.BrokerUnavailable:
        slot.release()
        return _unavailable(503, _("Live updates are unavailable."))
    except Exception:  # noqa: BLE001 - the page falls back to polling on any error status
        slot.release()
        logger.warning("Could not open live stream for %s", channels, exc_info=True)
        return _unavailable(503, _("Live updates are unavailable."))
    except BaseException:  # The client went away while the stream was being opened.
        slot.release()
        raise

    lifetime = float(getattr(settings, "LIVE_MAX_CONNECTION_SECONDS", 1800))
    retry_ms = int(getattr(settings, "LIVE_RETRY_MS", 3000))

    async def events():
        loop = asyncio.get_running_loop()
        # Reconnecting from time to time re-checks permissions and spreads clients over web processes.
        ends_at = loop.time() + lifetime
        try:
            # The padding makes proxies that buffer small responses pass the first bytes on at once.
            yield f"retry: {retry_ms}\n: {' ' * 512}\n\n".encode()
            while loop.time() < ends_at:
                item = await subscription.next()
                chunks = []
                # A burst goes out as one write.
                while item is not None and not isinstance(item, live.Overflow):
                    chunks.append(item.sse)
                    item = subscription.next_nowait() if len(chunks) < 100 else None
                if chunks:
                    yield b"".join(chunks)
                if isinstance(item, live.Overflow):
                    return
        finally:
            subscription.close()
            slot.release()

    response = _LiveStreamResponse(events(), content_type="text/event-stream; charset=utf-8")
    response.slot = slot
    # Should the response be dropped before it is sent or closed, the slot still comes back.
    weakref.finalize(response, slot.release)
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response


@never_cache
@require_GET
def poll(request):
    """``GET /live/poll?channel=...&after=<id>``: the events after ``after`` as JSON.

    Without ``after`` it returns no events and the id to ask from next time.
    ``reset`` is true when events were trimmed before the client could read them.
    """
    channels = _channels(request)
    refusal = _refusal(channels, request.user)
    if refusal is not None:
        status, message = refusal
        return JsonResponse({"error": message}, status=status)
    given = request.GET.get("after")
    cursors = live.decode_cursor(given, channels)
    events: list[dict] = []
    reset = more = False
    limit = 100
    poll_after_ms = int(getattr(settings, "LIVE_POLL_INTERVAL_MS", 10000))
    stream_retry_ms = int(getattr(settings, "LIVE_STREAM_RETRY_AFTER_SECONDS", 60)) * 1000
    try:
        for channel in channels:
            if cursors[channel] is None:
                cursors[channel] = live.last_id(channel)
                continue
            found, gap = live.read_after(channel, cursors[channel], limit)
            reset = reset or gap
            more = more or len(found) == limit
            if found:
                cursors[channel] = found[-1].id
            events.extend({"id": e.id, "channel": e.channel, "event": e.event, "data": e.data} for e in found)
    except Exception as error:  # noqa: BLE001 - Redis away: no news yet, the same cursor next time
        if not isinstance(error, live.BrokerUnavailable):
            logger.warning("Live poll failed for %s", channels, exc_info=True)
        # The page keeps the cursor it sent and gets what it missed once Redis is back.
        return JsonResponse(
            {
                "events": [],
                "last_event_id": given or "",
                "reset": False,
                "more": False,
                "poll_after_ms": poll_after_ms,
                "stream_retry_ms": stream_retry_ms,
                "unavailable": True,
            }
        )
    return JsonResponse(
        {
            "events": events,
            "last_event_id": live.encode_cursor(channels, cursors),
            "reset": reset,
            "more": more,
            "poll_after_ms": poll_after_ms,
            "stream_retry_ms": stream_retry_ms,
        }
    )
