"""Topic views counted without a database write on the page's GET.

Each view adds one to a Redis hash (``HINCRBY``), or, with no Redis (the embedded default, one
process), to a dict in this process; ``forum.services.flush_view_counts`` (a periodic task)
takes the counts and adds them to ``Topic.views_count`` in one batch. A broker that is down
loses the views counted meanwhile, never the page.
"""

import logging
import threading
from collections import Counter

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

HASH = "forum:topic-views"
_local: Counter[int] = Counter()
_local_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis | None:
    url = settings.REDIS_URL
    if not url:
        return None
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return _clients[url]


def add(topic_id: int) -> None:
    """One more view of this topic, to be written later (never raises)."""
    client = _redis()
    if client is None:
        with _local_lock:
            _local[topic_id] += 1
        return
    try:
        client.hincrby(HASH, str(topic_id), 1)
    except (redis.RedisError, OSError) as error:
        logger.warning("Topic view not counted (Redis unavailable): %s", error)


def take() -> dict[int, int]:
    """The counts added since the last call, removed from the buffer (topic id -> views)."""
    client = _redis()
    if client is None:
        with _local_lock:
            counts = dict(_local)
            _local.clear()
        return counts
    # Rename first, so views counted while this batch is written go to a fresh hash.
    batch = f"{HASH}:batch"
    if not client.exists(batch):
        try:
            client.rename(HASH, batch)
        except redis.ResponseError:  # no views since the last batch
            return {}
    counts = {int(key): int(value) for key, value in client.hgetall(batch).items()}
    return counts


def done() -> None:
    """The batch that ``take`` returned is in the database: forget it."""
    client = _redis()
    if client is not None:
        client.delete(f"{HASH}:batch")


def pending(topic_id: int) -> int:
    """Views of this topic not in the database yet (for tests and the API's fresh numbers)."""
    client = _redis()
    if client is None:
        with _local_lock:
            return _local[topic_id]
    try:
        values = [client.hget(name, str(topic_id)) for name in (HASH, f"{HASH}:batch")]
    except (redis.RedisError, OSError):
        return 0
    return sum(int(value) for value in values if value)
