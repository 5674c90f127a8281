"""Notifications and watching levels in Discourse's shapes, through the notifications app's
services and forum.watching, as the bell, /notifications and the topic's watching menu.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from forum import permissions, watching
from forum.models import Topic, WatchLevel
from notifications import services as notification_services
from notifications.models import Notification, NotificationKind

from . import serializers
from .http import ApiError, Params, api_view, bad_parameter, error_response, json_response

# Discourse's Notification.types for ours; the kinds it has no type for are `custom` (14).
NOTIFICATION_TYPES = {
    NotificationKind.MENTION: 1,
    NotificationKind.REPLY: 2,
    NotificationKind.QUOTE: 3,
    NotificationKind.LIKE: 5,
    NotificationKind.WATCHED_POST: 9,  # posted
    NotificationKind.VERIFICATION: 14,  # custom
    NotificationKind.EVENT_REMINDER: 18,  # topic_reminder
    NotificationKind.EVENT_LIVE: 14,  # custom
}
DEFAULT_LIMIT = 60
MAX_LIMIT = 60
# Discourse's topic notification_level, 0..3, and ours.
WATCH_LEVELS = {0: WatchLevel.MUTED, 1: WatchLevel.NORMAL, 2: WatchLevel.TRACKING, 3: WatchLevel.WATCHING}
WATCH_LEVEL_NAMES = {"muted": 0, "regular": 1, "normal": 1, "tracking": 2, "watching": 3}


def _notification(notification: Notification, topics: dict[int, Topic]) -> dict:
    data = notification.data or {}
    topic = topics.get(data.get("topic_id"))
    actor = notification.actor
    return {
        "id": notification.pk,
        "user_id": notification.recipient_id,
        "notification_type": NOTIFICATION_TYPES.get(notification.kind, 14),
        "read": notification.read_at is not None,
        "high_priority": notification.kind == NotificationKind.EVENT_LIVE,
        "created_at": notification.created_at,
        "post_number": data.get("post_number") if topic else None,
        "topic_id": topic.pk if topic else None,
        "fancy_title": serializers.escape(topic.localized_title) if topic else None,
        "slug": topic.slug if topic else None,
        "acting_user_avatar_template": serializers.avatar_template(actor) if actor else None,
        "acting_user_name": actor.name if actor else None,
        "data": {
            "topic_title": topic.localized_title if topic else notification.title,
            "display_username": actor.username if actor else None,
            "original_post_id": data.get("post_id"),
            "original_username": actor.username if actor else None,
            "excerpt": data.get("excerpt", ""),
            "count": notification.count,
            # Ours: the line the bell shows, in the recipient's language, and where it leads.
            "message": notification.title,
            "url": notification.url,
            "kind": notification.kind,
        },
    }


@api_view(login_required=True)
def notifications(request):
    """GET /notifications.json: the person's notifications, newest first, 60 at a time.

    `offset` pages; `filter=read|unread` narrows. Notifications about topics the person can no
    longer read keep their line but lose the topic's id, title and slug.
    """
    params = Params(request)
    offset = max(0, params.get_int("offset") or 0)
    limit = min(MAX_LIMIT, max(1, params.get_int("limit") or DEFAULT_LIMIT))
    queryset = Notification.objects.filter(recipient=request.user)
    wanted = params.get_text("filter", default="all")
    if wanted == "read":
        queryset = queryset.filter(read_at__isnull=False)
    elif wanted == "unread":
        queryset = queryset.filter(read_at__isnull=True)
    elif wanted not in ("all", ""):
        raise bad_parameter(_("filter must be one of: all, read, unread."))
    total = queryset.count()
    rows = list(queryset.select_related("actor")[offset : offset + limit])
    topic_ids = {row.data.get("topic_id") for row in rows if isinstance(row.data, dict)} - {None}
    topics = {}
    if topic_ids:
        readable = permissions.readable_topics(request.user).filter(pk__in=topic_ids)
        topics = {topic.pk: topic for topic in readable.only("pk", "slug", "title", "title_translations")}
    data = {
        "notifications": [_notification(row, topics) for row in rows],
        "total_rows_notifications": total,
        "seen_notification_id": max((row.pk for row in rows if row.read_at), default=0),
    }
    if offset + limit < total:
        data["load_more_notifications"] = (
            f"/notifications?offset={offset + limit}&username={request.user.username}"
        )
    return json_response(data)


@api_view(("PUT", "POST"))
def mark_read(request):
    """PUT /notifications/mark-read.json: `id` marks one read; without it, all of them."""
    notification_id = Params(request).get_int("id")
    notification_services.mark_read(request.user, [notification_id] if notification_id else None)
    return json_response({"success": "OK"})


@api_view(("POST", "PUT"))
def topic_notification_level(request, topic_id: int):
    """POST /t/<id>/notifications.json: notification_level 0 muted, 1 normal, 2 tracking, 3 watching."""
    topic = get_object_or_404(Topic, pk=topic_id)
    if not permissions.can_read(request.user, topic):
        raise ApiError(error_response([_("This topic is only open to some members.")], "invalid_access", 403))
    value = Params(request).get_text("notification_level", default="").strip().lower()
    number = WATCH_LEVEL_NAMES.get(value, int(value) if value.isdigit() else None)
    if number not in WATCH_LEVELS:
        raise bad_parameter(
            _("notification_level must be 0 (muted), 1 (normal), 2 (tracking) or 3 (watching).")
        )
    watching.set_topic_level(request.user, topic, WATCH_LEVELS[number])
    return json_response({"success": "OK"})


def topic_notification_level_number(level: str | None) -> int:
    """Ours -> Discourse's notification_level (normal when unset)."""
    return {value: number for number, value in WATCH_LEVELS.items()}.get(level or WatchLevel.NORMAL, 1)
