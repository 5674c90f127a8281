"""Watching levels: how closely a person follows a topic or a category.

- watching: a notification for every new post (in a category: every new topic and post);
- tracking: unread counts in the topic lists, and notifications only for replies to the
  person, quotes and mentions (the same notifications as normal);
- normal: replies to the person, quotes and mentions (what everyone gets by default);
- muted: nothing at all about that topic or category, not even mentions.

A topic's own level wins over its category's. Automatic watches (the author of a topic,
a person who replied, the registrants of an event) never override a level the person chose,
and never lower one. Every write to TopicWatch and CategoryWatch is in this module.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import page_cache

from . import permissions
from .models import Category, CategoryWatch, Topic, TopicWatch, WatchLevel, WatchReason

# How much each level hears; automatic watches only ever raise a level along this order.
RANK = {WatchLevel.MUTED: 0, WatchLevel.NORMAL: 1, WatchLevel.TRACKING: 2, WatchLevel.WATCHING: 3}

TOPIC_HELP = {
    WatchLevel.WATCHING: gettext_lazy("You are notified of every new post in this topic."),
    WatchLevel.TRACKING: gettext_lazy(
        "Unread counts in the topic lists; you are notified only when someone replies to you, "
        "quotes you or mentions you."
    ),
    WatchLevel.NORMAL: gettext_lazy(
        "You are notified when someone replies to you, quotes you or mentions you."
    ),
    WatchLevel.MUTED: gettext_lazy("You are never notified about this topic, not even of mentions."),
}
CATEGORY_HELP = {
    WatchLevel.WATCHING: gettext_lazy(
        "You are notified of every new topic and every new post in this category."
    ),
    WatchLevel.TRACKING: gettext_lazy(
        "Unread counts in the topic lists; you are notified only when someone replies to you, "
        "quotes you or mentions you."
    ),
    WatchLevel.NORMAL: gettext_lazy(
        "You are notified when someone replies to you, quotes you or mentions you."
    ),
    WatchLevel.MUTED: gettext_lazy(
        "You are never notified about topics in this category, unless you chose a level for the topic itself."
    ),
}


def _check_level(level: str) -> None:
    if level not in WatchLevel.values:
        raise ValidationError({"level": _("Choose watching, tracking, normal or muted.")})


# --- Reading --------------------------------------------------------------------------------


def topic_levels(user, topic: Topic) -> tuple[str | None, str | None]:
    """(the topic's own level, its category's level) for this person, None where unset; one query."""
    if not user.is_authenticated:
        return None, None
    row = (
        Topic.objects.filter(pk=topic.pk)
        .annotate(
            own=Subquery(TopicWatch.objects.filter(topic=OuterRef("pk"), user=user).values("level")[:1]),
            inherited=Subquery(
                CategoryWatch.objects.filter(category=OuterRef("category_id"), user=user).values("level")[:1]
            ),
        )
        .values_list("own", "inherited")
        .first()
    )
    return row or (None, None)


def category_level(user, category: Category) -> str | None:
    if not user.is_authenticated:
        return None
    return CategoryWatch.objects.filter(user=user, category=category).values_list("level", flat=True).first()


def control(user, target, *, own: str | None, inherited: str | None = None) -> dict | None:
    """What the watching form shows: the current level, the choices with help, where it posts."""
    if not user.is_authenticated:
        return None
    is_topic = isinstance(target, Topic)
    helps = TOPIC_HELP if is_topic else CATEGORY_HELP
    current = own or inherited or WatchLevel.NORMAL
    return {
        "target": target,
        "is_topic": is_topic,
        "current": current,
        "current_label": WatchLevel(current).label,
        "inherited": inherited if is_topic and not own else None,
        "choices": [(level.value, level.label, helps[level]) for level in WatchLevel],
    }


def topic_control(user, topic: Topic) -> dict | None:
    """The topic page's watching form (None for anonymous visitors); one query."""
    if not user.is_authenticated:
        return None
    own, inherited = topic_levels(user, topic)
    return control(user, topic, own=own, inherited=inherited)


def category_control(user, category: Category) -> dict | None:
    """The category page's watching form (None for anonymous visitors); one query."""
    if not user.is_authenticated:
        return None
    return control(user, category, own=category_level(user, category))


def watched_by(user) -> dict:
    """Every topic and category this person has a level on (newest first), for /my/watching."""
    readable = permissions.readable_access_levels(user)
    topics = list(
        TopicWatch.objects.filter(user=user, topic__category__read_access__in=readable)
        .select_related("topic")
        .order_by("-updated_at", "-pk")[:200]
    )
    categories = list(
        CategoryWatch.objects.filter(user=user, category__read_access__in=readable)
        .exclude(level=WatchLevel.NORMAL)
        .select_related("category")
        .order_by("category__position", "category__pk")
    )
    return {"topics": topics, "categories": categories}


# --- Writing --------------------------------------------------------------------------------


def set_topic_level(user, topic: Topic, level: str) -> TopicWatch:
    """The person chooses a level for a topic they may read. Automatic watches never undo it."""
    _check_level(level)
    if not user.is_authenticated or not permissions.can_read(user, topic):
        raise PermissionDenied(_("This topic is only open to some members."))
    watch, _created = TopicWatch.objects.update_or_create(
        user=user,
        topic=topic,
        defaults={"level": level, "reason": WatchReason.CHOSEN, "updated_at": timezone.now()},
    )
    return watch


def set_category_level(user, category: Category, level: str) -> CategoryWatch | None:
    """The person chooses a level for a category they may read; normal removes the row."""
    _check_level(level)
    if not user.is_authenticated or not permissions.can_read_category(user, category):
        raise PermissionDenied(_("This category is only open to some members."))
    if level == WatchLevel.NORMAL:
        CategoryWatch.objects.filter(user=user, category=category).delete()
        return None
    watch, _created = CategoryWatch.objects.update_or_create(
        user=user, category=category, defaults={"level": level, "updated_at": timezone.now()}
    )
    return watch


def watch_automatically(user_ids: Iterable[int], topics: Iterable[Topic], level: str, reason: str) -> int:
    """Raise these people's level on these topics (the forum and the events app call it).

    A level the person chose, or a higher automatic one, is kept. Returns how many watches
    were created or raised. Sends nothing.
    """
    user_ids = set(user_ids)
    topic_ids = {topic.pk for topic in topics}
    if not user_ids or not topic_ids:
        return 0
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        existing = {
            (watch.user_id, watch.topic_id): watch
            for watch in TopicWatch.objects.select_for_update().filter(
                user_id__in=user_ids, topic_id__in=topic_ids
            )
        }
        missing = [
            TopicWatch(user_id=u, topic_id=t, level=level, reason=reason, updated_at=now)
            for u in sorted(user_ids)
            for t in sorted(topic_ids)
            if (u, t) not in existing
        ]
        try:
            with transaction.atomic():
                TopicWatch.objects.bulk_create(missing)
            changed += len(missing)
        except IntegrityError:
            # A concurrent choice landed first: keep it, add only what is still missing.
            TopicWatch.objects.bulk_create(missing, ignore_conflicts=True)
        raise_ids = [
            watch.pk
            for watch in existing.values()
            if watch.reason != WatchReason.CHOSEN and RANK[watch.level] < RANK[level]
        ]
        if raise_ids:
            changed += TopicWatch.objects.filter(pk__in=raise_ids).update(
                level=level, reason=reason, updated_at=now
            )
    if changed:
        page_cache.changed(readers=user_ids, lists=False)  # their topic pages show the level
    return changed


def unwatch_automatic(user_ids: Iterable[int], topics: Iterable[Topic], reason: str) -> int:
    """Drop the automatic watches made for ``reason`` (a cancelled registration); choices stay."""
    user_ids = set(user_ids)
    deleted, _detail = TopicWatch.objects.filter(
        user_id__in=user_ids, topic__in=list(topics), reason=reason
    ).delete()
    if deleted:
        page_cache.changed(readers=user_ids, lists=False)
    return deleted
