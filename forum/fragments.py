"""The parts of posts and topic lists that read the same for every reader, rendered once and shared.

A post's head (author badge, link and time) and body (the post it answers, its text) do not
depend on who reads them; rendering them was a third of a signed-in topic page's CPU time, and
at a webinar the same new reply is fetched by every open page. ``attach`` gives each post
``head_html`` and ``body_html`` from the cache, rendering and storing only the missing ones
(forum/_post.html prints them; the action bar stays per reader).

A key names everything the piece shows: the language, the site's version (people's names,
badges and avatars move it on: core.page_cache.changed(site=True)), the post, its state and a
checksum of its text in that language, the same of the post it answers, and the topic's slug
(the post link). Pieces expire after ``page_cache.MAX_AGE`` seconds, as anonymous pages do,
since the time reads "5 minutes ago". The body of a hidden or withdrawn post depends on the
reader (its author and moderators see the text) and is rendered each time. Any cache error
means "render": the page never fails because of the cache.
"""

import logging
import zlib
from datetime import timedelta

from django.core.cache import cache
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, ngettext

from core import page_cache

from .models import Post, PostState, Topic

logger = logging.getLogger(__name__)

KEY_PREFIX = "postpart"


def _checksum(text: str) -> int:
    return zlib.crc32(text.encode())


def _key(stamp: str, language: str, topic: Topic, post: Post) -> str:
    parent = post.reply_to if post.reply_to_id else None
    answers = f"{parent.pk}.{parent.state}.{_checksum(parent.cooked)}" if parent else "-"
    slug = _checksum(topic.slug or "")
    return f"{KEY_PREFIX}:{language}:{stamp}:{post.pk}.{post.state}.{_checksum(post.html)}:{answers}:{slug}"


def _shared_body(post: Post) -> bool:
    return post.state == PostState.VISIBLE


def attach(topic: Topic, posts: list[Post], post_ui: dict) -> None:
    """Set ``head_html`` and ``body_html`` on each post (after reading.decorate_posts)."""
    if not posts:
        return
    head, body = get_template("forum/_post_head.html"), get_template("forum/_post_body.html")
    keys: dict[int, str] = {}
    stored: dict = {}
    try:
        stamp = page_cache.stamp([])
        if stamp is not None:
            language = get_language()
            keys = {post.pk: _key(stamp, language, topic, post) for post in posts}
            stored = cache.get_many(list(keys.values()))
    except Exception:  # noqa: BLE001 - no cache: render every piece
        logger.warning("post fragments: cache unavailable", exc_info=True)
        keys, stored = {}, {}
    missing = {}
    for post in posts:
        key = keys.get(post.pk)
        pieces = stored.get(key) if key else None
        if pieces is None:
            context = {"post": post, "topic": topic, "post_ui": post_ui}
            pieces = (head.render(context), body.render(context) if _shared_body(post) else None)
            if key:
                missing[key] = pieces
        post.head_html = mark_safe(pieces[0])
        if pieces[1] is not None:
            post.body_html = mark_safe(pieces[1])
        else:
            post.body_html = mark_safe(body.render({"post": post, "topic": topic, "post_ui": post_ui}))
    if missing:
        try:
            cache.set_many(missing, timeout=page_cache.MAX_AGE)
        except Exception:  # noqa: BLE001
            logger.warning("post fragments: could not store %d pieces", len(missing), exc_info=True)


# --- Topic list rows ------------------------------------------------------------------------

UNREAD_SLOT = "<!--unread-->"


def _row_key(versions: str, language: str, topic: Topic) -> str:
    return (
        f"{KEY_PREFIX}:row:{language}:{versions}:{topic.pk}.{int(bool(getattr(topic, 'pinned_now', False)))}"
    )


def _row_changes_soon(topic: Topic, now) -> bool:
    """A row that changes by itself within the cache's lifetime (a topic opens, a pin ends)."""
    soon = now + timedelta(seconds=page_cache.MAX_AGE)
    return any(moment and now < moment <= soon for moment in (topic.opens_at, topic.pinned_until))


def _unread_badge(topic: Topic) -> str:
    if getattr(topic, "is_new", False):
        return format_html('<span class="badge badge-new">{}</span>', gettext("New"))
    if getattr(topic, "unread", 0):
        label = ngettext("%(counter)s unread post", "%(counter)s unread posts", topic.unread) % {
            "counter": topic.unread
        }
        url = reverse("forum:topic_post", args=[topic.slug, topic.pk, topic.first_unread_number])
        return format_html('<a class="badge badge-unread" href="{}">{}</a>', url, label)
    return ""


def topic_rows(topics: list[Topic]) -> None:
    """Set ``row_html`` on each topic of a list page (after reading.annotate_unread).

    A row reads the same for every reader of a language but for the "New" or "N unread" badge,
    which is put in per reader. Rows are filed under the versions of the site and of the lists
    (any topic created, bumped, retagged, renamed, pinned or hidden moves them on). The list
    holds a few columns of each topic (reading.for_rows); only the rows missing are read whole
    with their tags and faces (three queries) and rendered.
    """
    from . import reading

    keys: dict[int, str] = {}
    stored: dict = {}
    try:
        versions = page_cache.stamp([page_cache.LISTS]) if topics else None
        if versions is not None:
            language = get_language()
            keys = {topic.pk: _row_key(versions, language, topic) for topic in topics}
            stored = cache.get_many(list(keys.values()))
    except Exception:  # noqa: BLE001 - no cache: render every row
        logger.warning("topic rows: cache unavailable", exc_info=True)
        keys, stored = {}, {}
    rows = {topic.pk: stored[keys[topic.pk]] for topic in topics if keys.get(topic.pk) in stored}
    missing = [topic for topic in topics if topic.pk not in rows]
    if missing:
        # The list read a few columns of each topic (reading.for_rows): read these ones whole.
        whole = Topic.objects.select_related(*reading.LIST_RELATED).in_bulk([topic.pk for topic in missing])
        for topic in missing:
            if topic.pk in whole:
                whole[topic.pk].pinned_now = getattr(topic, "pinned_now", 0)
            else:
                rows[topic.pk] = ""  # deleted since the list was read
        missing = [topic for topic in missing if topic.pk in whole]
        reading.attach_tags([whole[topic.pk] for topic in missing])
        reading.attach_posters([whole[topic.pk] for topic in missing])
        template = get_template("forum/_topic_row.html")
        now = timezone.now()
        for topic in missing:
            rows[topic.pk] = template.render({"topic": whole[topic.pk]})
        fresh = {
            keys[topic.pk]: rows[topic.pk]
            for topic in missing
            if topic.pk in keys and not _row_changes_soon(topic, now)
        }
        if fresh:
            try:
                cache.set_many(fresh, timeout=page_cache.MAX_AGE)
            except Exception:  # noqa: BLE001
                logger.warning("topic rows: could not store %d rows", len(fresh), exc_info=True)
    for topic in topics:
        topic.row_html = mark_safe(rows[topic.pk].replace(UNREAD_SLOT, _unread_badge(topic), 1))
