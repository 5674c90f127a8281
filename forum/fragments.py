"""The parts of a post that read the same for every reader, rendered once and shared.

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

from django.core.cache import cache
from django.template.loader import get_template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

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
