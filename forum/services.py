"""Every write to the forum's tables.

Views, commands and other apps (events opens and pins topics) call these
functions; nothing else saves a Topic or a Post. Permission checks run here for
the person passed in (`by=None` on moderator actions means the system itself,
e.g. the events scheduler opening a question at the webinar's start).

Live updates go out after commit through forum/live.py (one call per write), so a
rolled-back write sends nothing. New posts are announced by `after_posting`
(forum/moderation.py), which knows whether a post is held for approval.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from taggit.models import Tag

from accounts import permissions as accounts_permissions
from core import clean, page_cache
from core.markdown import render

from . import live as forum_live
from . import messages, notify, permissions, polls, search, tag_labels, uploads, view_counts, watching
from .models import (
    MAX_TAGS,
    PATH_DIGITS,
    RAW_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    TITLE_MIN_LENGTH,
    Archetype,
    Bookmark,
    Category,
    Draft,
    HiddenBy,
    Like,
    ModerationAction,
    PinScope,
    Post,
    PostRevision,
    PostState,
    ReadAccess,
    ReadMarker,
    StartAccess,
    Topic,
    TopicReadState,
    TopicStatus,
    WatchLevel,
    WatchReason,
)
from .moderation import log_action

REVISION_FOLD_WINDOW = timedelta(minutes=5)
# A new "visit" (for the last-visit marker) starts after this long away from the topic.
VISIT_GAP = timedelta(minutes=30)


# --- Input ----------------------------------------------------------------------------------


def normalise_title(title: str) -> str:
    """Collapse runs of whitespace; check the length a reader needs (15-255 characters).

    The cleaning rule of core/clean.py applies: no control character, no bidi override, and
    something visible (zero-width characters are dropped before the length is counted).
    """
    title = clean.clean_line(title, "title")
    if len(title) < TITLE_MIN_LENGTH:
        raise ValidationError(
            {"title": _("Write a title of at least %(min)d characters.") % {"min": TITLE_MIN_LENGTH}}
        )
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError(
            {
                "title": _("Keep the title under %(max)d characters (it has %(count)d).")
                % {"max": TITLE_MAX_LENGTH, "count": len(title)}
            }
        )
    return title


def clean_raw(raw: str) -> str:
    """A post body: control characters pasted with the text are dropped (core/clean.py)."""
    raw = clean.strip_controls(raw)
    if not raw.strip():
        raise ValidationError({"raw": _("Write something before posting.")})
    if len(raw) > RAW_MAX_LENGTH:
        raise ValidationError(
            {
                "raw": _("Posts are limited to %(max)d characters; this one has %(count)d.")
                % {"max": RAW_MAX_LENGTH, "count": len(raw)}
            }
        )
    return raw


def clean_tags(user, names: Iterable[str]) -> list[str]:
    """At most five tags; only moderators may create a tag that does not exist yet."""
    cleaned: list[str] = []
    for name in names:
        slug = slugify(name.strip())[:100]
        if slug and slug not in cleaned:
            cleaned.append(slug)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("Use at most %(max)d tags.") % {"max": MAX_TAGS}})
    if cleaned and not permissions.can_create_tags(user):
        existing = set(Tag.objects.filter(name__in=cleaned).values_list("name", flat=True))
        unknown = [name for name in cleaned if name not in existing]
        if unknown:
            raise ValidationError(
                {"tags": _("Only moderators can create new tags: %(tags)s.") % {"tags": ", ".join(unknown)}}
            )
    return cleaned


def existing_usernames(names: set[str]) -> list[str]:
    """The mention resolver: which @names are real, active people (one query)."""
    return list(
        get_user_model()
        .objects.filter(username__in=list(names)[:50], is_active=True)
        .values_list("username", flat=True)
    )


def cook(raw: str, author_id: int | None = None) -> str:
    """Markdown source -> the sanitised HTML stored on the post (upload:// references resolved,
    the author's own uploads first)."""
    return render(raw, mention_resolver=existing_usernames, upload_resolver=uploads.resolver(author_id))


def recook_posts(posts: Iterable[Post]) -> None:
    """Render posts' stored HTML again (a file they show was removed) and drop their cached pages."""
    topic_ids = set()
    post_ids = []
    for post in posts:
        Post.objects.filter(pk=post.pk).update(cooked=cook(post.raw, post.author_id))
        topic_ids.add(post.topic_id)
        post_ids.append(post.pk)
    if topic_ids:
        search.index_posts(post_ids=post_ids)
        page_cache.changed(topic_ids=sorted(topic_ids))


def _pad(number: int) -> str:
    return str(number).zfill(PATH_DIGITS)


def _tree_position(number: int, reply_to: Post | None) -> tuple[int, int, str]:
    """(depth, root_number, path) for a new post; answers to the topic or its first post are roots."""
    if reply_to is None or reply_to.number == 1:
        return 0, number, _pad(number)
    return reply_to.depth + 1, reply_to.root_number, f"{reply_to.path}.{_pad(number)}"


def _as_uuid(key) -> uuid.UUID | None:
    if not key:
        return None
    try:
        return uuid.UUID(str(key))
    except ValueError:
        return None


# --- Categories -----------------------------------------------------------------------------


def create_category(
    by,
    name: str,
    *,
    slug: str = "",
    colour: str = "#0b5cad",
    description: str = "",
    parent: Category | None = None,
    read_access: str = ReadAccess.EVERYONE,
    start_access: str = StartAccess.VERIFIED,
) -> Category:
    """Add a category (or a sub-category under a top-level one). Callers: staff only.

    The slug comes from the name unless given, and must be free. Sends nothing.
    """
    if not accounts_permissions.is_staff(by):
        raise PermissionDenied(_("Only staff can create categories."))
    name = clean.clean_line(name, "name")[:100]
    if not name:
        raise ValidationError({"name": _("Give the category a name.")})
    slug = slugify(slug or name)[:100]
    if not slug:
        raise ValidationError({"slug": _("Give the category a name with letters or digits.")})
    if Category.objects.filter(slug=slug).exists():
        raise ValidationError(
            {"slug": _("A category with this slug exists already: %(slug)s.") % {"slug": slug}}
        )
    if read_access not in ReadAccess.values or start_access not in StartAccess.values:
        raise ValidationError({"read_access": _("Choose who may read and who may start topics.")})
    category = Category(
        name=name,
        slug=slug,
        colour=colour or "#0b5cad",
        description=description or "",
        parent=parent,
        read_access=read_access,
        start_access=start_access,
        position=(Category.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1,
    )
    category.full_clean()
    category.save()
    page_cache.changed(site=True)
    return category


def restrict_category(by, category: Category, groups: dict) -> None:
    """Restrict a category to groups, {group: "read" | "post"}; an empty dict opens it again.

    Callers: staff. Lists, search, feeds and live channels follow at once (they test membership in
    their own queries), and the anonymous pages are dropped.
    """
    from .models import CategoryGroup, GroupPermission

    if not accounts_permissions.is_staff(by):
        raise PermissionDenied(_("Only staff can restrict categories."))
    if any(permission not in GroupPermission.values for permission in groups.values()):
        raise ValidationError({"groups": _("Choose read or post for each group.")})
    with transaction.atomic():
        CategoryGroup.objects.filter(category=category).delete()
        CategoryGroup.objects.bulk_create(
            [CategoryGroup(category=category, group=group, permission=perm) for group, perm in groups.items()]
        )
        Category.objects.filter(pk=category.pk).update(group_restricted=bool(groups))
        page_cache.changed(site=True)
    category.group_restricted = bool(groups)


# --- Topics and posts -----------------------------------------------------------------------


def create_topic(
    author,
    category: Category,
    title: str,
    raw: str,
    *,
    tags: Iterable[str] = (),
    language: str = "en",
    idempotency_key=None,
    opens_at: datetime | None = None,
    slug: str | None = None,
) -> Topic:
    """Start a topic with its first post. Callers: anyone `can_start_topic` allows.

    With `opens_at` in the future the topic is scheduled (moderators only). The same
    idempotency key from the same author returns the topic already made, so a double
    submit makes one topic. The new-topic draft is discarded. Sends nothing after commit yet.
    """
    permissions.check_start_topic(author, category)
    title = normalise_title(title)
    raw = clean_raw(raw)
    poll_specs = polls.check_markup(raw)
    tag_names = clean_tags(author, tags)
    key = _as_uuid(idempotency_key)
    if key and (existing := _post_for_key(author, key)):
        return existing.topic
    now = timezone.now()
    status = TopicStatus.OPEN
    if opens_at and opens_at > now:
        permissions.check_moderator(author)
        status = TopicStatus.SCHEDULED
    try:
        topic = _insert_topic(
            author,
            category,
            title,
            raw,
            tag_names=tag_names,
            language=language,
            key=key,
            now=now,
            status=status,
            opens_at=opens_at,
            slug=slug,
            poll_specs=poll_specs,
        )
    except IntegrityError:
        # A concurrent double submit with the same key won the race: return its topic.
        if key and (existing := _post_for_key(author, key)):
            return existing.topic
        raise
    return topic


def _insert_topic(
    author,
    category: Category,
    title: str,
    raw: str,
    *,
    tag_names: list[str],
    language: str,
    key: uuid.UUID | None,
    now: datetime,
    status: str = TopicStatus.OPEN,
    opens_at: datetime | None = None,
    slug: str | None = None,
    archetype: str = Archetype.REGULAR,
    draft_key: str = Draft.NEW_TOPIC,
    poll_specs=(),
) -> Topic:
    """The rows of a new topic and its first post, checked by the caller (create_topic, and
    forum/messages.py's create_message, which adds the participants in the same transaction)."""
    with transaction.atomic():
        topic = Topic.objects.create(
            category=category,
            title=title,
            slug=slugify(slug or title)[:100] or "topic",
            author=author,
            status=status,
            opens_at=opens_at,
            language=language,
            created_at=now,
            bumped_at=now,
            last_posted_at=now,
            last_poster=author,
            highest_post_number=1,
            posts_count=1,
            participants_count=1,
            archetype=archetype,
        )
        first_post = Post.objects.create(
            topic=topic,
            number=1,
            author=author,
            depth=0,
            root_number=1,
            path=_pad(1),
            raw=raw,
            cooked=cook(raw, author.pk),
            idempotency_key=key,
            created_at=now,
        )
        uploads.link_post(first_post)
        search.index_posts(post_ids=[first_post.pk])
        polls.store(first_post, list(poll_specs))
        if tag_names:
            topic.tags.set(tag_names)
        TopicReadState.objects.create(user=author, topic=topic, last_read_number=1, last_visit_number=1)
        watching.watch_automatically([author.pk], [topic], WatchLevel.WATCHING, WatchReason.CREATED)
        notify.post_created(first_post)
        Draft.objects.filter(user=author, key=draft_key).delete()
        page_cache.changed(topic_ids=[topic.pk])
    return topic


def _post_for_key(author, key: uuid.UUID) -> Post | None:
    return Post.objects.select_related("topic").filter(author=author, idempotency_key=key).first()


def create_reply(
    author,
    topic: Topic,
    raw: str,
    *,
    reply_to: Post | None = None,
    idempotency_key=None,
) -> Post:
    """Add a post to a topic, optionally answering one of its posts. Callers: `can_reply` allows.

    The number is the topic's next one, handed out while the topic row is locked, so
    concurrent replies get 1..n with no gap or duplicate and exact counters. A repeated
    idempotency key returns the post already made. The author's draft for the topic is
    discarded and their reading position moves to the new post. Sends nothing after commit yet.
    """
    raw = clean_raw(raw)
    poll_specs = polls.check_markup(raw)
    if reply_to is not None and reply_to.topic_id != topic.pk:
        raise ValidationError({"reply_to": _("You can only answer a post of the same topic.")})
    key = _as_uuid(idempotency_key)
    permissions.check_reply(author, topic)
    cooked = cook(raw, author.pk)  # rendered before taking the lock, to hold it briefly
    with transaction.atomic():
        locked = Topic.objects.select_for_update().get(pk=topic.pk)
        # The topic may have closed while this person typed.
        permissions.check_reply(author, locked)
        if key and (existing := _post_for_key(author, key)):
            return existing
        if reply_to is not None:
            reply_to = Post.objects.get(pk=reply_to.pk)
        now = timezone.now()
        number = locked.highest_post_number + 1
        depth, root_number, path = _tree_position(number, reply_to)
        new_participant = not Post.objects.filter(topic=locked, author=author).exists()
        post = Post.objects.create(
            topic=locked,
            number=number,
            author=author,
            reply_to=reply_to,
            depth=depth,
            root_number=root_number,
            path=path,
            raw=raw,
            cooked=cooked,
            idempotency_key=key,
            created_at=now,
        )
        uploads.link_post(post)
        search.index_posts(post_ids=[post.pk])
        polls.store(post, poll_specs)
        Topic.objects.filter(pk=locked.pk).update(
            highest_post_number=number,
            posts_count=F("posts_count") + 1,
            replies_count=F("replies_count") + 1,
            participants_count=F("participants_count") + (1 if new_participant else 0),
            recent_poster_ids=locked.with_recent_poster(author.pk),
            bumped_at=now,
            last_posted_at=now,
            last_poster=author,
        )
        if reply_to is not None:
            Post.objects.filter(pk=reply_to.pk).update(reply_count=F("reply_count") + 1)
        _advance_read_state(author, locked, number, now)
        if locked.is_private_message:
            messages.message_posted(locked, author.pk)  # back in archived inboxes; unread counts
        watching.watch_automatically([author.pk], [locked], WatchLevel.TRACKING, WatchReason.REPLIED)
        notify.post_created(post)
        Draft.objects.filter(user=author, key=Draft.key_for_topic(topic.pk)).delete()
        page_cache.changed(topic_ids=[topic.pk])
    topic.refresh_from_db()
    return post


def edit_post(editor, post: Post, raw: str, *, title: str | None = None) -> Post:
    """Change a post's text (and, for a first post, its topic's title). Callers: `can_edit_post`.

    Each edit is kept as a revision (before/after). Edits by the same person within 5
    minutes of a revision fold into it, so fixing typos does not flood the history.
    """
    permissions.check_edit_post(editor, post)
    raw = clean_raw(raw)
    poll_specs = polls.check_markup(raw)
    new_title = normalise_title(title) if title is not None and post.number == 1 else None
    old_title = post.topic.title
    if raw == post.raw and (new_title is None or new_title == old_title):
        return post
    now = timezone.now()
    with transaction.atomic():
        last = post.revisions.order_by("-number").first()
        if last and last.editor_id == editor.pk and now - last.created_at < REVISION_FOLD_WINDOW:
            last.raw_after = raw
            last.title_after = new_title or ""
            last.updated_at = now
            last.save(update_fields=["raw_after", "title_after", "updated_at"])
        else:
            PostRevision.objects.create(
                post=post,
                number=(last.number + 1) if last else 1,
                editor=editor,
                raw_before=post.raw,
                raw_after=raw,
                title_before=old_title if new_title else "",
                title_after=new_title or "",
                created_at=now,
                updated_at=now,
            )
            post.version = F("version") + 1
        notify.post_edited(post, raw)
        post.raw = raw
        post.cooked = cook(raw, post.author_id)
        post.edited_at = now
        post.save(update_fields=["raw", "cooked", "edited_at", "version"])
        uploads.link_post(post)
        polls.store(post, poll_specs, editor=editor)
        if new_title and new_title != old_title:
            Topic.objects.filter(pk=post.topic_id).update(title=new_title, slug=slugify(new_title)[:100])
            search.index_posts(topic_ids=[post.topic_id])  # the title is in every post's vector
        else:
            search.index_posts(post_ids=[post.pk])
        if editor.pk != post.author_id:
            _log(editor, ModerationAction.EDIT, post=post)
        forum_live.post_edited(post)
    post.refresh_from_db()
    return post


def withdraw_post(user, post: Post) -> Post:
    """The author takes a post back; a placeholder stays so the thread still reads."""
    permissions.check_withdraw_post(user, post)
    Post.objects.filter(pk=post.pk).update(state=PostState.WITHDRAWN)
    if user.pk != post.author_id:
        _log(user, ModerationAction.WITHDRAW, post=post)
    forum_live.post_withdrawn(post)
    post.refresh_from_db()
    return post


def hide_post(moderator, post: Post, reason: str = "") -> Post:
    """A moderator hides a post; a placeholder stays. Moderators only."""
    permissions.check_moderator(moderator)
    reason = clean.strip_controls(reason)
    Post.objects.filter(pk=post.pk).update(
        state=PostState.HIDDEN, hidden_reason=reason[:500], hidden_by=HiddenBy.MODERATOR
    )
    _log(moderator, ModerationAction.HIDE, post=post, reason=reason)
    forum_live.post_hidden(post)
    post.refresh_from_db()
    return post


def unhide_post(moderator, post: Post) -> Post:
    """Show a hidden (or withdrawn) post again. Moderators only."""
    permissions.check_moderator(moderator)
    Post.objects.filter(pk=post.pk).update(state=PostState.VISIBLE, hidden_reason="", hidden_by="")
    _log(moderator, ModerationAction.UNHIDE, post=post)
    forum_live.post_shown(post)
    post.refresh_from_db()
    return post


# --- Likes, bookmarks, drafts, reading ------------------------------------------------------


def toggle_like(user, post: Post) -> bool:
    """Like a post, or take the like back. Returns whether it is liked now. Not one's own post."""
    permissions.check_like(user, post)
    try:
        with transaction.atomic():
            deleted, _detail = Like.objects.filter(user=user, post=post).delete()
            change = -1 if deleted else 1
            if not deleted:
                Like.objects.create(user=user, post=post)
                notify.post_liked(post, user)
            Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + change)
            Topic.objects.filter(pk=post.topic_id).update(likes_count=F("likes_count") + change)
    except IntegrityError:
        # A double click raced this one and liked first; its counters stand, ours rolled back.
        return True
    forum_live.post_liked(post)
    return not deleted


def toggle_bookmark(user, post: Post) -> bool:
    """Bookmark a post or remove the bookmark; returns whether it is bookmarked now."""
    permissions.check_bookmark(user, post)
    deleted, _detail = Bookmark.objects.filter(user=user, post=post).delete()
    if not deleted:
        Bookmark.objects.get_or_create(user=user, post=post)
    return not deleted


def save_draft(
    user,
    key: str,
    *,
    raw: str = "",
    title: str = "",
    reply_to_number: int | None = None,
    category: Category | None = None,
) -> Draft | None:
    """Keep the composer's text on the server (any device restores it). Empty text discards it."""
    if not user.is_authenticated:
        return None
    key = clean.strip_controls(key)
    if reply_to_number is not None and not 0 < reply_to_number <= clean.MAX_INT:
        reply_to_number = None  # no post has that number (and the column would overflow)
    raw = clean.strip_controls(raw)[: RAW_MAX_LENGTH + 1000]
    title = clean.strip_controls(title)[:TITLE_MAX_LENGTH]
    if not raw.strip() and not title.strip():
        discard_draft(user, key)
        return None
    defaults = {
        "raw": raw,
        "title": title,
        "reply_to_number": reply_to_number,
        "category": category,
        "updated_at": timezone.now(),
    }
    try:
        draft, _created = Draft.objects.update_or_create(user=user, key=key[:64], defaults=defaults)
    except IntegrityError:
        # Two autosaves created the draft at once; the other one exists now, so update it.
        Draft.objects.filter(user=user, key=key[:64]).update(**defaults)
        draft = Draft.objects.get(user=user, key=key[:64])
    return draft


def discard_draft(user, key: str) -> None:
    """Forget a composer's draft."""
    Draft.objects.filter(user=user, key=key).delete()


def _visit_key(user, topic: Topic) -> str:
    return f"forum:visit:{user.pk}:{topic.pk}"


def _last_seen(user, topic: Topic, state: TopicReadState) -> datetime:
    """When this person last had the topic open: the cache's fresher word, else the database's."""
    try:
        cached = cache.get(_visit_key(user, topic))
    except Exception:  # noqa: BLE001 - a cache that is down is a miss
        cached = None
    return max(cached, state.last_visit_at) if cached else state.last_visit_at


def _remember_visit(user, topic: Topic, now: datetime) -> bool:
    """Keep the time of this visit in the cache (long enough to tell a gap); False if it is down."""
    try:
        cache.set(_visit_key(user, topic), now, timeout=int(VISIT_GAP.total_seconds()) * 2)
    except Exception:  # noqa: BLE001 - then the database keeps it, as before
        return False
    return True


def _advance_read_state(user, topic: Topic, number: int, now: datetime) -> TopicReadState:
    """Writes only when something the reader sees changes: the position advances or a visit starts.

    The time of each visit goes to the cache; rereading a page within a visit writes nothing.
    """
    state, created = TopicReadState.objects.get_or_create(
        user=user, topic=topic, defaults={"last_read_number": number, "last_visit_at": now}
    )
    if created:
        _remember_visit(user, topic, now)
        page_cache.changed(readers=[user.pk], lists=False)  # their new and unread counts
        state.advanced = True
        return state
    fields = []
    if now - _last_seen(user, topic, state) > VISIT_GAP:
        state.last_visit_number = state.last_read_number
        fields.append("last_visit_number")
    state.advanced = number > state.last_read_number
    if state.advanced:
        state.last_read_number = number
        fields.append("last_read_number")
        page_cache.changed(readers=[user.pk], lists=False)
    state.last_visit_at = now
    if not _remember_visit(user, topic, now) or fields:
        fields.append("last_visit_at")
    if fields:
        state.save(update_fields=fields)
    return state


def mark_read(user, topic: Topic, up_to_number: int) -> TopicReadState | None:
    """Record that this person has seen the topic up to this post (never moves backwards).

    After 30 minutes away, the previous position becomes the "last visit" marker. Rereading
    what was read already writes nothing to the database (the visit's time is in the cache).
    """
    if not user.is_authenticated:
        return None
    state = _advance_read_state(user, topic, min(up_to_number, topic.highest_post_number), timezone.now())
    if topic.is_private_message and state.advanced:
        messages.read_position_changed(user, topic)  # the header's count of unread messages
    return state


def note_visit(user, topic: Topic) -> None:
    """This person has the topic open again and has read nothing new: only the visit's time moves."""
    _remember_visit(user, topic, timezone.now())


def mark_all_read(user) -> None:
    """Everything posted until now counts as read for this person."""
    ReadMarker.objects.update_or_create(user=user, defaults={"all_read_at": timezone.now()})
    page_cache.changed(readers=[user.pk], lists=False)


def count_view(topic: Topic) -> None:
    """One more view of the topic: buffered (Redis or this process), no database write here."""
    view_counts.add(topic.pk)


def flush_view_counts() -> int:
    """Add the buffered views to ``Topic.views_count`` (the periodic task calls it); returns views added."""
    counts = view_counts.take()
    by_views: dict[int, list[int]] = {}
    for topic_id, views in counts.items():
        by_views.setdefault(views, []).append(topic_id)
    with transaction.atomic():
        for views, topic_ids in by_views.items():
            Topic.objects.filter(pk__in=topic_ids).update(views_count=F("views_count") + views)
    view_counts.done()
    return sum(counts.values())


# --- Moderator topic actions ----------------------------------------------------------------
# `by` is the moderator acting, or None when the system acts (the events app at a webinar's start).


def _log(by, action: str, **target) -> None:
    """Write the moderation log entry of a moderator's action (the system's own are not logged)."""
    if by is not None:
        log_action(by, action, **target)


def _check_actor(by) -> None:
    if by is not None:
        permissions.check_moderator(by)


def pin_topic(topic: Topic, scope: str = PinScope.GLOBAL, *, until: datetime | None = None, by=None) -> Topic:
    """Pin in its category or everywhere, optionally until a time. Moderators or the system."""
    _check_actor(by)
    if scope not in PinScope.values or scope == PinScope.NONE:
        raise ValidationError({"scope": _("Choose where to pin the topic.")})
    Topic.objects.filter(pk=topic.pk).update(pin_scope=scope, pinned_until=until, pinned_at=timezone.now())
    _log(by, ModerationAction.PIN, topic=topic)
    page_cache.changed(topic_ids=[topic.pk])
    topic.refresh_from_db()
    return topic


def unpin_topic(topic: Topic, *, by=None) -> Topic:
    """Stop pinning the topic. Moderators or the system."""
    _check_actor(by)
    Topic.objects.filter(pk=topic.pk).update(pin_scope=PinScope.NONE, pinned_until=None, pinned_at=None)
    _log(by, ModerationAction.UNPIN, topic=topic)
    page_cache.changed(topic_ids=[topic.pk])
    topic.refresh_from_db()
    return topic


def close_topic(topic: Topic, *, by=None) -> Topic:
    """No more replies (moderators can still add a closing note). Moderators or the system."""
    _check_actor(by)
    Topic.objects.filter(pk=topic.pk).update(status=TopicStatus.CLOSED)
    _log(by, ModerationAction.CLOSE, topic=topic)
    topic.refresh_from_db()
    forum_live.topic_state(topic)
    return topic


def open_topic(topic: Topic, *, by=None) -> Topic:
    """Open (or reopen) for replies now, ending any schedule. Moderators or the system."""
    _check_actor(by)
    now = timezone.now()
    updates = {"status": TopicStatus.OPEN}
    if topic.opens_at is None or topic.opens_at > now:
        updates["opens_at"] = now
    Topic.objects.filter(pk=topic.pk).update(**updates)
    _log(by, ModerationAction.OPEN, topic=topic)
    topic.refresh_from_db()
    forum_live.topic_state(topic)
    return topic


def schedule_topic(topic: Topic, opens_at: datetime, *, by=None) -> Topic:
    """Keep the topic readable but closed to replies until `opens_at` (invited posters excepted).

    Replies are accepted the moment it passes: the check compares times at request.
    """
    _check_actor(by)
    Topic.objects.filter(pk=topic.pk).update(status=TopicStatus.SCHEDULED, opens_at=opens_at)
    _log(by, ModerationAction.SCHEDULE, topic=topic)
    topic.refresh_from_db()
    forum_live.topic_state(topic)
    return topic


def move_topic(topic: Topic, category: Category, *, by=None) -> Topic:
    """Move the topic to another category. Moderators or the system; never a personal message, nor
    into the messages' own category (either would show a message to others)."""
    _check_actor(by)
    if topic.is_private_message or category.read_access == ReadAccess.PARTICIPANTS:
        raise ValidationError({"category": _("Personal messages stay between their participants.")})
    Topic.objects.filter(pk=topic.pk).update(category=category)
    _log(by, ModerationAction.MOVE, topic=topic)
    topic.refresh_from_db()
    forum_live.topic_changed(topic.pk)
    return topic


def rename_topic(topic: Topic, title: str, *, by=None) -> Topic:
    """Give the topic a new title (the slug follows). Moderators or the system."""
    _check_actor(by)
    title = normalise_title(title)
    Topic.objects.filter(pk=topic.pk).update(title=title, slug=slugify(title)[:100] or "topic")
    search.index_posts(topic_ids=[topic.pk])
    _log(by, ModerationAction.RENAME, topic=topic)
    topic.refresh_from_db()
    forum_live.topic_changed(topic.pk)
    return topic


def retag_topic(topic: Topic, tags: Iterable[str], *, by=None) -> Topic:
    """Replace the topic's tags (at most five; new tags need a moderator). Moderators or the system."""
    _check_actor(by)
    names = clean_tags(by, tags) if by is not None else [slugify(t)[:100] for t in tags if slugify(t)]
    topic.tags.set(names[:5])
    _log(by, ModerationAction.RETAG, topic=topic, details={"tags": list(names[:5])})
    page_cache.changed(topic_ids=[topic.pk])
    return topic


def set_tag_names(tag: Tag, names: dict[str, str], *, by=None):
    """Name a tag in each language ({"en": ..., "es": ..., "fr": ...}; blank: shown as its slug).

    The tag's own name (its slug, in every URL) is unchanged. Moderators or the system.
    """
    from .models import FORUM_LANGUAGES, TagLabel

    _check_actor(by)
    values = {f"name_{language}": (names.get(language) or "").strip()[:100] for language in FORUM_LANGUAGES}
    label, _created = TagLabel.objects.update_or_create(
        tag=tag, defaults={**values, "updated_by": by, "updated_at": timezone.now()}
    )
    if by is not None:
        log_action(
            by, ModerationAction.TAG_NAMES, label=f"#{tag.name}", details={"tag": tag.name, "names": values}
        )
    transaction.on_commit(tag_labels.changed)
    tag_labels.changed()
    page_cache.changed(site=True)  # every list and topic page showing the tag
    return label


def archive_topic(topic: Topic, *, by=None) -> Topic:
    """Keep the topic for reading only, unpinned. Moderators or the system."""
    _check_actor(by)
    Topic.objects.filter(pk=topic.pk).update(status=TopicStatus.ARCHIVED, pin_scope=PinScope.NONE)
    _log(by, ModerationAction.ARCHIVE, topic=topic)
    topic.refresh_from_db()
    forum_live.topic_state(topic)
    return topic


def unlist_topic(topic: Topic, *, by=None) -> Topic:
    """Leave the topic out of lists, feeds and search (moderators still see it); its link still opens."""
    _check_actor(by)
    Topic.objects.filter(pk=topic.pk).update(unlisted=True)
    _log(by, ModerationAction.UNLIST, topic=topic)
    page_cache.changed(topic_ids=[topic.pk])
    topic.refresh_from_db()
    return topic


def relist_topic(topic: Topic, *, by=None) -> Topic:
    """Show an unlisted topic in lists, feeds and search again. Moderators or the system."""
    _check_actor(by)
    Topic.objects.filter(pk=topic.pk).update(unlisted=False)
    _log(by, ModerationAction.RELIST, topic=topic)
    page_cache.changed(topic_ids=[topic.pk])
    topic.refresh_from_db()
    return topic


def invite_posters(topic: Topic, users: Iterable, *, by=None) -> None:
    """Allow these people to reply before the topic opens (the events app adds its speakers)."""
    _check_actor(by)
    topic.invited_posters.add(*users)
    page_cache.changed(topic_ids=[topic.pk], lists=False)


def translate_topic(topic: Topic, *, titles: dict[str, str], bodies: dict[str, str], by=None) -> Topic:
    """Give a topic's title and first post in other languages ({"es": ..., "fr": ...}).

    Readers see the version in their language, English otherwise. Moderators or the system.
    """
    _check_actor(by)
    Topic.objects.filter(pk=topic.pk).update(
        title_translations={k: normalise_title(v) for k, v in titles.items()}
    )
    Post.objects.filter(topic=topic, number=1).update(
        cooked_translations={language: cook(raw, topic.author_id) for language, raw in bodies.items()}
    )
    search.index_posts(topic_ids=[topic.pk])
    page_cache.changed(topic_ids=[topic.pk])
    topic.refresh_from_db()
    return topic


def set_topic_announcement(topic: Topic, texts: dict[str, str], *, url: str = "", by=None) -> Topic:
    """Show a banner above the topic ({"en": ..., "es": ..., "fr": ...}, English as fallback) with an
    optional link (a path on this site or an https address); empty texts remove it.
    Moderators or the system (the events app announces the webinar a question belongs to)."""
    _check_actor(by)
    if url and not (url.startswith("/") and not url.startswith("//")) and not url.startswith("https://"):
        raise ValidationError({"url": _("Use a link on this site or an https address.")})
    texts = {
        language: clean.clean_line(text, "announcement")[:300]
        for language, text in texts.items()
        if text.strip()
    }
    Topic.objects.filter(pk=topic.pk).update(announcement=texts, announcement_url=url if texts else "")
    page_cache.changed(topic_ids=[topic.pk])
    topic.refresh_from_db()
    return topic


# --- Moderation (implemented in forum/moderation.py; re-exported so callers have one entry point)
from .moderation import (  # noqa: E402
    after_posting,
    check_posting,
    claim_review,
    flag_post,
    highlight_post,
    merge_topics,
    move_posts,
    release_review,
    resolve_review,
    silence_user,
    split_topic,
    suspend_user,
    unhighlight_post,
    unsilence_user,
    unsuspend_user,
    write_summary,
)
from .polls import set_poll_status, vote, withdraw_vote  # noqa: E402 - polls in posts (forum/polls.py)

__all__ = [  # the moderation names above are part of this module's interface
    "after_posting",
    "check_posting",
    "claim_review",
    "flag_post",
    "highlight_post",
    "merge_topics",
    "move_posts",
    "release_review",
    "resolve_review",
    "silence_user",
    "split_topic",
    "suspend_user",
    "unhighlight_post",
    "unsilence_user",
    "unsuspend_user",
    "write_summary",
    "set_poll_status",
    "vote",
    "withdraw_vote",
]
