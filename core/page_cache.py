"""The page cache: whole pages, for anonymous readers (per language) and for each signed-in reader.

Discourse's anonymous cache is the model. An anonymous reader of one language sees the same
page as every other, so the rendered HTML is kept in the cache and served without running the
view. Each cached page is filed under the current *versions* of what it shows:

- ``site``: everything (categories, people's names and badges, the event banner);
- ``lists``: the topic lists (any topic created, bumped, renamed, pinned, hidden...);
- ``topic:<id>``: one topic page (its posts, likes, state, summary, highlights);
- ``search``: every search's answer (moves on with any topic or list: ``changed``);
- ``reader:<id>``: what one signed-in person sees of their own (read state, notifications,
  messages, drafts, votes, preferences, groups, verification).

The services that write those things call ``changed(...)``, which moves the versions on (at
once and again after commit), so the next view renders afresh: a change shows on the very next
view, with no expiry to wait for. Pages also expire after ``MAX_AGE`` seconds (relative times
such as "5 minutes ago" age) or sooner when a view says so (a scheduled topic opens, a pin ends).

A signed-in reader's pages are their own: filed under their id and their ``reader`` version as
well, which moves on with anything they do themselves (every POST, PUT, PATCH or DELETE they
make: ``RequestVersionsMiddleware``), with what others do to them (a notification, a message, a
group, a verification, a change to their account: see ``changed(readers=...)`` callers,
accounts/signals.py and groups/signals.py), and with whatever the page's own view changes
(reading a topic moves the read position: that page is not stored).
``PAGE_CACHE_SIGNED_IN = False`` turns this half off.

Never cached: htmx partials, query strings other than ``?page=N``, responses other than 200,
responses that set a cookie, pages with a message waiting to be shown, anonymous readers with
a session; for anonymous readers also pages marked ``Cache-Control: private``. The page's CSRF
tokens (forms, the language switcher, htmx headers) are taken out before storing and each
request gets its own on the way out. Every cache error means "no cache": the page renders as
if the cache were empty, and a write never fails because of it.
"""

import functools
import hashlib
import logging
import re
import time
import zlib
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import timezone
from django.utils.translation import get_language

from core.cache import bump_each
from core.middleware import BothModesMiddleware

logger = logging.getLogger(__name__)

MAX_AGE = 60
KEY_PREFIX = "anonpage"
SITE = "site"
LISTS = "lists"
SEARCH = "search"
CSRF_PLACEHOLDER = b"\x00csrf-token\x00"
# A CSRF token as templates print it: a hidden form field or the htmx header in <body>.
_CSRF_TOKEN_RE = re.compile(
    rb'(?:name="csrfmiddlewaretoken" value="|&quot;X-CSRFToken&quot;: &quot;|"X-CSRFToken": ")'
    rb"([A-Za-z0-9]{64})"
)
_ANY_TOKEN_RE = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


def topic_scope(topic_id: int) -> str:
    return f"topic:{topic_id}"


def reader_scope(user_id: int) -> str:
    """What one signed-in person has read (their new and unread counts are kept under it)."""
    return f"reader:{user_id}"


# --- Invalidation ---------------------------------------------------------------------------


def _version_key(scope: str) -> str:
    return f"{KEY_PREFIX}:v:{scope}"


def _bump(scopes: Iterable[str]) -> None:
    keys = sorted({_version_key(scope) for scope in scopes})
    memo = _request_versions.get()
    if memo is not None:
        for key in keys:
            memo.values.pop(key, None)  # this request's next read sees the new version
    # A version that is missing (or evicted) starts past any earlier value: no old page matches.
    start = time.time_ns()
    try:
        bump_many = getattr(cache, "bump_many", None)  # Redis: all of them in one round trip
        if bump_many is not None:
            bump_many(keys, start)
        else:
            bump_each(cache, keys, start)
    except Exception:  # noqa: BLE001 - a cache that is down holds no pages to drop
        logger.warning("page cache: could not move %s on", ", ".join(keys[:5]), exc_info=True)


def changed(
    *,
    topic_ids: Iterable[int] = (),
    lists: bool = True,
    site: bool = False,
    readers: Iterable[int] = (),
    search: bool | None = None,
) -> None:
    """What anonymous readers see changed: drop the pages that show it, once the write commits.

    `topic_ids`: those topic pages; `lists`: every topic list; `site`: every cached page;
    `readers`: what these people have read (values kept under ``reader_scope``); `search`:
    every search's answer, by default whenever topic pages or lists change (a like or a vote,
    which no search shows, passes False). Never raises.
    """
    scopes = [topic_scope(int(topic_id)) for topic_id in topic_ids if topic_id]
    if search or (search is None and (lists or scopes)):
        scopes.append(SEARCH)
    scopes += [reader_scope(int(user_id)) for user_id in readers]
    if lists:
        scopes.append(LISTS)
    if site:
        scopes.append(SITE)
    if scopes:
        # Now, so this connection's next read (a test's own request) misses; and again after
        # commit, since a page rendered meanwhile by another request still saw the old rows.
        _bump(scopes)
        transaction.on_commit(functools.partial(_bump, scopes))


def valid_until(request, moment: datetime | None) -> None:
    """The page being rendered changes by itself at `moment` (a topic opens, a pin ends)."""
    if moment is None:
        return
    current = getattr(request, "_page_cache_until", None)
    if current is None or moment < current:
        request._page_cache_until = moment


# --- Serving --------------------------------------------------------------------------------


ANONYMOUS = "anonymous"
READER = "reader"


def _cache_mode(request) -> str | None:
    """Whose page this request may get from the cache: ANONYMOUS, READER (signed in) or None."""
    if request.method != "GET" or getattr(request, "htmx", False):
        return None
    cookies = request.COOKIES
    if "messages" in cookies:
        return None
    if request.GET and (list(request.GET) != ["page"] or not request.GET["page"].isdigit()):
        return None
    if not request.user.is_authenticated:
        return None if settings.SESSION_COOKIE_NAME in cookies else ANONYMOUS
    if not getattr(settings, "PAGE_CACHE_SIGNED_IN", True):
        return None
    return READER


def _message_waiting(request) -> bool:
    """A message to show (stored by an earlier request, or added by this one's middleware)."""
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


class _RequestVersions:
    """The versions one request has read: each is read once per request (see ``stamp``)."""

    def __init__(self, request) -> None:
        self.request = request
        self.values: dict[str, object] = {}

    def likely(self) -> list[str]:
        """The versions most pages read, fetched along with the first ones a page asks for."""
        keys = [_version_key(SITE), _version_key(LISTS)]
        user = getattr(self.request, "_cached_user", None)  # only a user already read: no query
        if user is not None and user.is_authenticated:
            keys.append(_version_key(reader_scope(user.pk)))
        return keys


_request_versions: ContextVar[_RequestVersions | None] = ContextVar("page_cache_versions", default=None)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _after_write(request) -> None:
    """A signed-in person's own write (any unsafe method) moves their ``reader`` version on.

    Whatever they did (a like, a draft, a vote, a bookmark, a preference, watching a topic)
    shows on their next page without each service having to say so.
    """
    if request.method in SAFE_METHODS:
        return
    user = getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        changed(readers=[user.pk], lists=False)


class RequestVersionsMiddleware(BothModesMiddleware):
    """Read the page cache's versions once per request: one Redis round trip instead of one per use.

    A signed-in list asks for the versions of the site, the lists and the reader five times (pins,
    count, counts, category bar, rows); the first ``stamp`` reads all of them with one ``get_many``
    and the rest of the request reuses them. A version this request moves on (``changed``) is read
    afresh. Outside a request (tasks, the shell) every ``stamp`` reads Redis as before.

    After the response, a signed-in person's write moves their ``reader`` version on
    (``_after_write``): their cached pages are not served again.
    """

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        token = _request_versions.set(_RequestVersions(request))
        try:
            response = self.get_response(request)
        finally:
            _request_versions.reset(token)
        _after_write(request)
        return response

    async def __acall__(self, request):
        token = _request_versions.set(_RequestVersions(request))
        try:
            response = await self.get_response(request)
        finally:
            _request_versions.reset(token)
        if request.method not in SAFE_METHODS:
            await sync_to_async(_after_write)(request)
        return response


def _read_versions(keys: list[str], also: list[str] = ()) -> dict | None:
    """The versions under `keys` (each started if missing) and those of `also` that exist."""
    versions = cache.get_many([*keys, *also])
    missing = [key for key in keys if key not in versions]
    for key in missing:
        cache.add(key, time.time_ns(), timeout=None)
    if missing:
        versions.update(cache.get_many(missing))
        if any(key not in versions for key in keys):
            return None
    return versions


def stamp(scopes: list[str]) -> str | None:
    """The current versions of the site and these scopes, as one string (None: cache away)."""
    keys = [_version_key(scope) for scope in [SITE, *scopes]]
    memo = _request_versions.get()
    if memo is None:
        versions = _read_versions(keys)
    else:
        wanted = [key for key in keys if key not in memo.values]
        if wanted:
            also = [key for key in memo.likely() if key not in memo.values and key not in wanted]
            found = _read_versions(wanted, also)
            if found is None:
                return None
            memo.values.update(found)
        versions = memo.values
    if versions is None:
        return None
    return ".".join(str(versions[key]) for key in keys)


def _page_key(request, scopes: list[str], mode: str) -> str | None:
    if mode == READER:
        user = request.user
        user_id = user.pk
        for moment in (getattr(user, "silenced_until", None), getattr(user, "suspended_until", None)):
            if moment and moment > timezone.now():
                valid_until(request, moment)  # their composer and lists change when it ends
        versions = stamp([*scopes, reader_scope(user_id)])
        whose = f"r{user_id}"
    else:
        versions = stamp(scopes)
        whose = "a"
    if versions is None:
        return None
    return f"{KEY_PREFIX}:pz:{whose}:{get_language()}:{versions}:{request.get_full_path()}"


def _moved_reader(request) -> bool:
    """Whether this request moved its reader's version on (reading a topic advanced the position):
    the page it rendered shows the reader as they were before, so it is not kept."""
    memo = _request_versions.get()
    return memo is None or _version_key(reader_scope(request.user.pk)) not in memo.values


def _stored(request, response, mode: str) -> tuple[bytes, str] | None:
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    if mode == ANONYMOUS:
        if response.has_header("Cache-Control") and "private" in response["Cache-Control"]:
            return None
    elif _message_waiting(request) or _moved_reader(request):
        return None
    content = _CSRF_TOKEN_RE.sub(lambda match: match.group(0)[:-64] + CSRF_PLACEHOLDER, response.content)
    if _shows_csrf_secret(content, request.META.get("CSRF_COOKIE")):
        return None  # a token printed some other way: this page is this reader's alone
    # Compressed (zlib level 1: a 77 KB topic page keeps as 16 KB in 0.2 ms and comes back in
    # 0.1 ms): hundreds of readers' own copies fit in Redis, and each hit moves less.
    return zlib.compress(content, 1), response["Content-Type"]


def _shows_csrf_secret(content: bytes, secret: str | None) -> bool:
    """Whether any 64-character token left in the page unmasks to this reader's CSRF secret."""
    if not secret:
        return False
    for candidate in _ANY_TOKEN_RE.findall(content):
        if _unmask_cipher_token(candidate.decode()) == secret:
            return True
    return False


def cached_page(scopes: Callable[..., list[str]], *, on_hit: Callable | None = None):
    """Serve this view's page from the cache: anonymous readers share it, a signed-in reader has theirs.

    `scopes(request, *args, **kwargs)` names what the page shows (besides the whole site and,
    signed in, the reader); `on_hit(request, *args, **kwargs)` runs when the page came from the
    cache (a view counter, the reader's visit).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            mode = _cache_mode(request)
            if mode is None or (mode == READER and _message_waiting(request)):
                return view(request, *args, **kwargs)
            try:
                key = _page_key(request, scopes(request, *args, **kwargs), mode)
                hit = cache.get(key) if key else None
            except Exception:  # noqa: BLE001 - no cache: render the page
                logger.warning("page cache unavailable", exc_info=True)
                key = hit = None
            if hit is not None:
                content, content_type = hit
                content = zlib.decompress(content).replace(CSRF_PLACEHOLDER, get_token(request).encode())
                response = HttpResponse(content, content_type=content_type)
                response["X-Page-Cache"] = "hit"
                if on_hit:
                    on_hit(request, *args, **kwargs)
                return response
            response = view(request, *args, **kwargs)
            if key is None:
                return response
            stored = _stored(request, response, mode)
            if stored is not None:
                timeout = MAX_AGE
                until = getattr(request, "_page_cache_until", None)
                if until is not None:
                    timeout = min(timeout, int((until - timezone.now()).total_seconds()))
                if timeout > 0:
                    try:
                        cache.set(key, stored, timeout=timeout)
                    except Exception:  # noqa: BLE001
                        logger.warning("page cache: could not store %s", key, exc_info=True)
            return response

        return wrapper

    return decorator


class DropsPagesAdmin:
    """ModelAdmin mixin: a change made in the admin (a category, a person) drops every cached page."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed(site=True)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changed(site=True)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        changed(site=True)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        changed(site=True)


def kept(name: str, scopes: list[str], compute: Callable[[], object], *, timeout: int = MAX_AGE * 10):
    """``compute()``, kept until the site or one of ``scopes`` changes (or ``timeout`` passes).

    ``name`` says what it is (with whatever it depends on besides the scopes). Without the cache
    it simply computes; a cache error never fails the caller.
    """
    key = None
    try:
        versions = stamp(scopes)
        if versions is not None:
            key = f"{KEY_PREFIX}:kept:{versions}:{name}"
            value = cache.get(key)
            if value is not None:
                return value
    except Exception:  # noqa: BLE001 - no cache: compute
        logger.warning("page cache unavailable for %s", name, exc_info=True)
    value = compute()
    if key is not None:
        try:
            cache.set(key, value, timeout=timeout)
        except Exception:  # noqa: BLE001
            logger.warning("page cache: could not keep %s", name, exc_info=True)
    return value


def _query_name(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return hashlib.sha1(f"{sql}|{params!r}".encode(), usedforsecurity=False).hexdigest()


def cached_count(queryset, *, scope: str = LISTS) -> int:
    """`queryset.count()`, kept until `scope` (by default any topic list) changes.

    A list page's paginator needs the number of topics; counting every visible topic on each
    request is a scan that grows with the forum. The key holds the query itself (so each
    visibility, person or category has its own count). Without the cache it simply counts.
    """
    return kept(f"count:{_query_name(queryset.order_by().values('pk'))}", [scope], queryset.count)


def cached_rows(queryset, *, scope: str = LISTS) -> list:
    """`list(queryset)` (of plain values: ``values_list``), kept until `scope` changes.

    For small answers every request of a list asks again (the topics pinned in a category). The
    key holds the query itself, as for ``cached_count``; the query must not hold the clock.
    """
    return kept(f"rows:{_query_name(queryset)}", [scope], lambda: list(queryset))
