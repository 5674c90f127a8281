"""Django's Redis cache, made to fail soft: Redis away is a slower site, never an error page.

Every page reads the cache (the event banner, the bell's count, sessions, rate-limit counters), so
``django.core.cache.backends.redis.RedisCache`` raising ``ConnectionError`` turned a Redis outage
into a 500 on every page. :class:`FailSoftRedisCache` is that backend with three additions:

- **A circuit breaker.** The first connection error or time-out opens it for ``BREAKER_SECONDS``
  (default 5): until then no call tries Redis at all, so a dead Redis costs one short time-out per
  process every few seconds, not one per request. The first call after that tries again.
- **A per-process stand-in while the breaker is open.** Calls go to a ``LocMemCache`` private to
  the process: a value cached before the outage is a miss (the page reads the database), and
  counters keep counting, so every rate limiter (the API's, search, posting intervals, allauth's)
  becomes a per-process limit instead of failing open or erroring. Entries live at most
  ``FALLBACK_MAX_TIMEOUT`` seconds (default 60), so a value that another process changed is not
  served stale for long. Keys under ``FALLBACK_EXCLUDE_PREFIXES`` (sessions) are never kept
  there: a session read is a miss and falls through to the database, which stays the truth.
- **Forgetting on recovery.** Each key written or deleted while Redis was away is remembered
  (up to ``PENDING_MAX_KEYS``) and deleted from Redis when it answers again, so a session ended
  or a count changed during the outage is not resurrected from Redis's older copy.

Why not django-redis with ``DJANGO_REDIS_IGNORE_EXCEPTIONS``: it turns errors into misses, but
pays the socket time-out on every call (no breaker), returns None from ``incr`` (limiters then
count nothing), and would change the key format and client that the rest of the code and the
other Redis users share. This subclass keeps Django's own client and adds ~150 lines.

Options (``CACHES["default"]["OPTIONS"]``): ``BREAKER_SECONDS``, ``FALLBACK_MAX_TIMEOUT``,
``FALLBACK_EXCLUDE_PREFIXES``, ``PENDING_MAX_KEYS``; everything else goes to redis-py's
connection pool as Django's backend does (``socket_connect_timeout``, ``socket_timeout``).
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

# Errors that mean "Redis is not there": they open the breaker. Other Redis errors (a command
# refused: out of memory, a read-only replica) are a miss or a no-op for that one call.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, OSError)

_OWN_OPTIONS = {
    "BREAKER_SECONDS": 5.0,
    "FALLBACK_MAX_TIMEOUT": 60,
    "FALLBACK_EXCLUDE_PREFIXES": ("django.contrib.sessions.",),
    "PENDING_MAX_KEYS": 10_000,
}


class _Breaker:
    """What every thread of a process knows about one Redis location (caches are per thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_until = 0.0
        self.pending: set[str] = set()  # made keys to delete once Redis answers again
        self.overflowed = False

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()


def _breaker_for(location: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(location, _Breaker())


def reset_breakers() -> None:
    """Forget every breaker and what it remembered (tests start each case from a clean state)."""
    with _breakers_lock:
        _breakers.clear()


class _ReusedClient(RedisCacheClient):
    """Django's client, with one ``redis.Redis`` per connection pool instead of one per call.

    Django builds a new ``redis.Redis`` around the pool for every cache call, which was half the
    CPU time of a cache read (a signed-in page makes about ten). redis-py clients are safe to
    share between threads: each command takes a connection from the pool.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


def bump_each(cache, keys, start: int, version=None) -> None:
    """Move each counter on by one, starting any that is missing at ``start`` (any cache backend)."""
    for key in keys:
        try:
            cache.incr(key, version=version)
        except ValueError:
            cache.set(key, start, timeout=None, version=version)


class _BumpingRedisCache(RedisCache):
    def bump_many(self, keys, start: int, version=None) -> None:
        """:func:`bump_each` in one round trip: SET NX then INCR per key, pipelined (no transaction).

        The page cache moves many people's versions on at once (a reply notifies 2,000 watchers):
        one INCR each, with Django's EXISTS before it, was 4,000 round trips per reply.
        """
        pipe = self._cache.get_client(write=True).pipeline(transaction=False)
        for key in keys:
            made = self.make_and_validate_key(key, version=version)
            pipe.set(made, start, nx=True)  # an int is stored as is (RedisSerializer)
            pipe.incr(made)
        pipe.execute()


class FailSoftRedisCache(_BumpingRedisCache):
    """``RedisCache`` whose calls never raise because Redis is unreachable (see the module doc)."""

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        own = {name: options.pop(name, default) for name, default in _OWN_OPTIONS.items()}
        # Short time-outs by default: a Redis that does not answer costs a page at most this.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = _ReusedClient
        self.breaker_seconds = float(own["BREAKER_SECONDS"])
        self.fallback_max_timeout = int(own["FALLBACK_MAX_TIMEOUT"])
        self.exclude_prefixes = tuple(own["FALLBACK_EXCLUDE_PREFIXES"])
        self.pending_max_keys = int(own["PENDING_MAX_KEYS"])
        location = ",".join(self._servers)
        self._breaker = _breaker_for(location)
        self._fallback = LocMemCache(
            f"failsoft:{location}",
            {
                "TIMEOUT": min(self.default_timeout or self.fallback_max_timeout, self.fallback_max_timeout),
                "KEY_PREFIX": self.key_prefix,
                "VERSION": self.version,
                "KEY_FUNCTION": self.key_func,
                "OPTIONS": {"MAX_ENTRIES": 10_000},
            },
        )

    # -------------------------------------------------------------- the guard

    def _call(self, name: str, keys, args, kwargs, *, miss):
        """Run ``RedisCache.<name>`` unless Redis is known to be away; else the per-process stand-in.

        ``keys`` are the caller's keys that the call writes (remembered for deletion on recovery),
        or None for a read. ``miss`` is what a read answers when the stand-in may not keep the key.
        """
        breaker = self._breaker
        if not breaker.is_open():
            try:
                if breaker.pending:
                    self._forget_pending()
                return getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as error:
                self._open(error)
            except redis.RedisError:
                logger.warning("Cache %s failed; treated as a miss", name, exc_info=True)
                if keys:
                    self._remember(keys, kwargs.get("version"))
                return miss() if callable(miss) else miss
        if keys:
            self._remember(keys, kwargs.get("version"))
        return self._stand_in(name, keys, args, kwargs, miss)

    def _stand_in(self, name, keys, args, kwargs, miss):
        touched = keys if keys is not None else _keys_of(name, args, kwargs)
        if any(self._excluded(key) for key in touched):
            return miss() if callable(miss) else miss
        if name == "bump_many":
            return bump_each(self._fallback, *args, **kwargs)
        if "timeout" in kwargs or name in {"add", "set", "set_many", "touch"}:
            kwargs = {**kwargs, "timeout": self._short(kwargs.get("timeout", DEFAULT_TIMEOUT))}
        return getattr(self._fallback, name)(*args, **kwargs)

    def _excluded(self, key) -> bool:
        return isinstance(key, str) and key.startswith(self.exclude_prefixes)

    def _short(self, timeout):
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None or timeout > self.fallback_max_timeout:
            return self.fallback_max_timeout
        return timeout

    def _open(self, error: Exception) -> None:
        breaker = self._breaker
        with breaker.lock:
            already = breaker.is_open()
            breaker.open_until = time.monotonic() + self.breaker_seconds
        if not already:
            logger.warning(
                "Cache: Redis unreachable (%s); per-process cache for %.1fs", error, self.breaker_seconds
            )

    def _remember(self, keys, version) -> None:
        breaker = self._breaker
        with breaker.lock:
            for key in keys:
                if len(breaker.pending) >= self.pending_max_keys:
                    breaker.overflowed = True
                    break
                breaker.pending.add(self.make_and_validate_key(key, version=version))

    def _forget_pending(self) -> None:
        """Redis may answer again: delete what changed while it was away, then use it as before."""
        breaker = self._breaker
        with breaker.lock:
            keys, breaker.pending = list(breaker.pending), set()
            overflowed, breaker.overflowed = breaker.overflowed, False
        if not keys and not overflowed:
            return
        try:
            for start in range(0, len(keys), 500):
                self._cache.delete_many(keys[start : start + 500])
        except BaseException:
            with breaker.lock:
                breaker.pending.update(keys)
                breaker.overflowed = breaker.overflowed or overflowed
            raise
        # Its counters and copies are stale from now on: the next outage starts empty.
        self._fallback.clear()
        logger.warning(
            "Cache: Redis answers again; forgot %d key(s) changed meanwhile%s",
            len(keys),
            " (more were changed than remembered)" if overflowed else "",
        )

    # ---------------------------------------------------------------- the API

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", [key], (key, value), {"timeout": timeout, "version": version}, miss=False)

    def get(self, key, default=None, version=None):
        return self._call("get", None, (key, default), {"version": version}, miss=default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", [key], (key, value), {"timeout": timeout, "version": version}, miss=None)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", [key], (key,), {"timeout": timeout, "version": version}, miss=False)

    def delete(self, key, version=None):
        return self._call("delete", [key], (key,), {"version": version}, miss=False)

    def get_many(self, keys, version=None):
        keys = list(keys)
        return self._call("get_many", None, (keys,), {"version": version}, miss=dict)

    def has_key(self, key, version=None):
        return self._call("has_key", None, (key,), {"version": version}, miss=False)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found.")

        return self._call("incr", [key], (key, delta), {"version": version}, miss=missing)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        data = dict(data)
        return self._call(
            "set_many", list(data), (data,), {"timeout": timeout, "version": version}, miss=lambda: list(data)
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._call("delete_many", keys, (keys,), {"version": version}, miss=None)

    def bump_many(self, keys, start: int, version=None) -> None:
        keys = list(keys)
        return self._call("bump_many", keys, (keys, start), {"version": version}, miss=None)

    def clear(self):
        self._fallback.clear()
        return self._call("clear", None, (), {}, miss=False)


def _keys_of(name: str, args, kwargs) -> list:
    """The keys a read call looks at (for the sessions exclusion)."""
    if name == "get_many":
        return list(args[0])
    if name == "clear":
        return []
    return [args[0]]
