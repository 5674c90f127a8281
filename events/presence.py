"""Roughly how many people have an event's live page open.

Each open page says "I am here" once a minute; a counter per event per minute
in the shared cache (Redis in production) adds them up. The last complete
minute is the count: no table, no per-person state, the same on every process.
"""

import time

from django.core.cache import cache

BUCKET_SECONDS = 60


def _key(event_id: int, bucket: int) -> str:
    return f"events:here:{event_id}:{bucket}"


def mark_here(event_id: int, now: float | None = None) -> None:
    bucket = int((now or time.time()) // BUCKET_SECONDS)
    key = _key(event_id, bucket)
    cache.add(key, 0, timeout=BUCKET_SECONDS * 3)
    try:
        cache.incr(key)
    except ValueError:  # Expired between add and incr.
        cache.set(key, 1, timeout=BUCKET_SECONDS * 3)


def people_here(event_id: int, now: float | None = None) -> int:
    bucket = int((now or time.time()) // BUCKET_SECONDS)
    counts = cache.get_many([_key(event_id, bucket - 1), _key(event_id, bucket)])
    return max(counts.values(), default=0)
