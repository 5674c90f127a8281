"""What an event does to the rest of the site: its linked topics and categories in the forum,
notifications in the site, and live pages. Called from events/services.py inside its
transactions; every forum write goes through forum/services.py (and forum/launch.py).
"""

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import page_cache
from core.live import publish_on_commit
from forum import launch as forum_launch
from forum import permissions as forum_permissions
from forum import polls as forum_polls
from forum import services as forum_services
from forum import watching as forum_watching
from forum.models import PinScope, Post, PostState, StartAccess, Topic, TopicStatus, WatchLevel, WatchReason

from . import presence
from .models import Event, EventStatus, RegistrationStatus

LIVE_POSTS_SHOWN = 30


def invited_officials(event: Event) -> list:
    """Speakers with an account, and invitees: they may post in the linked topics before the start."""
    from accounts.models import User

    return list(User.objects.filter(Q(speaking_at__event=event) | Q(event_invitations=event)).distinct())


def sync_topics(event: Event, *, moved: bool) -> None:
    """Before the event goes live: linked topics still waiting open at its start, its officials
    are invited to post in them, and a launch holds its categories read-only until then."""
    if event.went_live_at is not None or event.status in (EventStatus.ENDED, EventStatus.CANCELLED):
        return
    officials = invited_officials(event)
    for topic in event.linked_topics.all():
        if topic.status == TopicStatus.SCHEDULED and topic.opens_at != event.starts_at:
            forum_services.schedule_topic(topic, event.starts_at)
        if officials:
            forum_services.invite_posters(topic, officials)
    if event.is_launch and event.starts_at > timezone.now():
        held = dict(Event.objects.values_list("held_start_access", flat=True).get(pk=event.pk))
        for category in event.launch_categories.all():
            before = forum_launch.hold_category(category, event.starts_at, invited=officials)
            # A second hold (the event moved) must not record the held state as the original one.
            held.setdefault(str(category.pk), before)
        Event.objects.filter(pk=event.pk).update(held_start_access=held)


def watch_topics(event: Event, user_ids=None) -> None:
    """Registered people watch the event's linked topics (every registrant when ``user_ids`` is None).
    A level a person chose for a topic is kept."""
    if user_ids is None:
        user_ids = event.registrations.filter(status=RegistrationStatus.REGISTERED).values_list(
            "user_id", flat=True
        )
    forum_watching.watch_automatically(
        user_ids, event.linked_topics.all(), WatchLevel.WATCHING, WatchReason.EVENT
    )


def unwatch_topics(event: Event, user_ids) -> None:
    """A cancelled registration: the watches the event made go (levels the person chose stay)."""
    forum_watching.unwatch_automatic(user_ids, event.linked_topics.all(), WatchReason.EVENT)


def release_categories(event: Event, categories) -> None:
    """Categories no longer opening with the launch go back to how they were, open now."""
    held = dict(Event.objects.values_list("held_start_access", flat=True).get(pk=event.pk))
    for category in categories:
        before = held.pop(str(category.pk), None)
        if before is not None:
            forum_launch.open_category(category, start_access=before)
    Event.objects.filter(pk=event.pk).update(held_start_access=held)
    event.held_start_access = held


def open_topics(event: Event, actor) -> None:
    """The event went live: open its linked topics (and a launch's categories), pin them everywhere."""
    for category in event.launch_categories.all() if event.is_launch else ():
        forum_launch.open_category(
            category, start_access=event.held_start_access.get(str(category.pk), StartAccess.VERIFIED)
        )
    for topic in event.linked_topics.exclude(status=TopicStatus.ARCHIVED):
        if topic.status == TopicStatus.SCHEDULED:
            forum_services.open_topic(topic)
        forum_services.pin_topic(topic, PinScope.GLOBAL)
    _publish(event, "live", {"status": EventStatus.LIVE})


def release_topics(event: Event, actor) -> list[dict]:
    """The event ended: global pins return to category pins; topics stay open.
    Returns the topics (title, url) for the follow-up email."""
    topics = []
    for topic in event.linked_topics.all():
        if topic.pin_scope == PinScope.GLOBAL:
            forum_services.pin_topic(topic, PinScope.CATEGORY)
        topics.append({"title": topic.title, "url": topic.get_absolute_url()})
    _publish(event, "ended", {"status": EventStatus.ENDED})
    return topics


def close_topics(event: Event) -> None:
    """Some days after the end (as the event asks): its open questions close for replies."""
    for topic in event.linked_topics.filter(status=TopicStatus.OPEN):
        forum_services.close_topic(topic)


def _publish(event: Event, name: str, data: dict) -> None:
    publish_on_commit(event_channel(event), name, {"event": event.pk, **data})


def event_channel(event: Event) -> str:
    return f"/event/{event.pk}"


def live_channels(event: Event, topic_ids: list[int]) -> list[str]:
    """What the live page follows: the event's channel (going live, ending, replies posted from
    the page) and its questions' channels (replies posted anywhere, published by the forum)."""
    from core.live_views import MAX_CHANNELS

    # A stream takes at most MAX_CHANNELS; beyond that, replies posted on this page still arrive.
    return [event_channel(event)] + [f"/topic/{pk}" for pk in topic_ids][: MAX_CHANNELS - 1]


def reply_posted(event: Event, post: Post) -> None:
    """A reply posted from the live page: open live pages refetch the newest replies."""
    _publish(event, "post_created", {"topic_id": post.topic_id, "post_id": post.pk})


def notify_live(event: Event, user_ids: list[int]) -> None:
    """Tell registered people that the event is live, in the site and (by their preferences) by email,
    at once. Owed in the caller's transaction; one notification per person per going-live."""
    _notify_on_commit("event_live", event, user_ids, {"went_live_at": event.went_live_at.isoformat()})


def notify_reminded(event: Event, user_ids: list[int], offset_minutes: int) -> None:
    """Remind registered people, in the site and (by their preferences) by email, at once."""
    _notify_on_commit(
        "event_reminder",
        event,
        user_ids,
        {"offset_minutes": offset_minutes, "starts_at": event.starts_at.isoformat()},
    )


def _notify_on_commit(kind: str, event: Event, user_ids: list[int], extra: dict) -> None:
    """One outbox job in the caller's transaction (2,000 registrants: one row, not 2,000 renders in
    the request); the worker writes the notifications, whose emails are due at once."""
    from notifications import services as notifications

    notifications.queue_job(
        "events.notify", {"kind": kind, "event": event.pk, "extra": extra}, user_ids, urgent=True
    )


def notify_job(payload: dict, user_ids: list[int], dedupe_prefix: str) -> list[int]:
    """Outbox job handler: the notifications of one batch (their dedupe keys name the occasion and
    the person, so a rerun notifies nobody twice). Their emails go through notify()'s outbox."""
    from accounts.models import User

    event = Event.objects.filter(pk=payload["event"]).first()
    if event is not None:
        users = User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk")
        notify_people(payload["kind"], event, users, payload["extra"])
    return []


def notify_people(kind: str, event: Event, users, extra: dict) -> int:
    """Write the notifications (the task's body), all of a batch at once. The dedupe key names the
    occasion, so a retried task, or a second run, notifies nobody twice."""
    from notifications import services as notifications

    notices = []
    for user in users:
        with notifications.in_language_of(user):
            if kind == "event_live":
                title = _("Live now: %(title)s") % {"title": event.localized_title}
                key = f"event-live:{event.pk}:{extra['went_live_at']}:{user.pk}"
            else:
                title = _("Reminder: %(title)s starts in %(when)s") % {
                    "title": event.localized_title,
                    "when": offset_words(extra["offset_minutes"]),
                }
                key = f"event-reminder:{event.pk}:{extra['offset_minutes']}:{extra['starts_at']}:{user.pk}"
        notices.append(
            notifications.Notice(
                user,
                kind,
                title=title,
                url=event.get_absolute_url(),
                data={"event": event.pk},
                dedupe_key=key,
            )
        )
    return len(notifications.notify_many(notices))


def offset_words(minutes: int) -> str:
    from django.utils.translation import ngettext

    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


# ----------------------------------------------------------------------------- reading


def topics_for_page(request, event: Event) -> list[Topic]:
    """The linked topics this viewer may read, for the event page (one query)."""
    return list(
        forum_permissions.visible_topics(request.user)
        .filter(events=event)
        .select_related("category")
        .order_by("pk")
    )


def _newest_replies(event: Event, topic_ids: list[int]) -> dict:
    """The newest replies across these linked topics, and how many came since the event began."""
    posts = list(
        Post.objects.filter(topic_id__in=topic_ids, state=PostState.VISIBLE, number__gt=1)
        .select_related("author__organisation", "topic")
        .order_by("-created_at", "-pk")[:LIVE_POSTS_SHOWN]
    )
    since = event.went_live_at or event.starts_at
    replies_since_start = Post.objects.filter(
        topic_id__in=topic_ids, state=PostState.VISIBLE, number__gt=1, created_at__gte=since
    ).count()
    return {"posts": posts, "replies_since_start": replies_since_start}


def live_posts_html(event: Event, topics: list[Topic]) -> str:
    """The live page's newest replies and counter (events/_live_posts.html), as every open live
    page refetches them after each reply.

    They read the same for everyone who may read the same linked topics in one language (no
    form, no person's own state), so they are rendered once per change and kept until one of
    those topics changes (a reply, an edit, a hidden post: ``page_cache.changed``) or the site
    does (names, badges): hundreds of refetches after a reply cost one rendering.
    """
    topic_ids = [topic.pk for topic in topics]
    since = event.went_live_at or event.starts_at
    name = "event-live-posts:{}:{}:{}:{}".format(
        event.pk, since.timestamp(), get_language(), ",".join(str(pk) for pk in topic_ids)
    )
    return page_cache.kept(
        name,
        [page_cache.topic_scope(pk) for pk in topic_ids],
        lambda: render_to_string(
            "events/_live_posts.html", {"event": event, "live": _newest_replies(event, topic_ids)}
        ),
        timeout=page_cache.MAX_AGE,
    )


def live_context(request, event: Event, topics: list[Topic] | None = None) -> dict:
    """Beside the stream: the newest replies across the linked topics, the topics the viewer may
    reply to (with the reason when none), and the counters."""
    topics = topics if topics is not None else topics_for_page(request, event)
    topic_ids = [topic.pk for topic in topics]
    newest = _newest_replies(event, topic_ids)
    can_reply_to = [topic for topic in topics if forum_permissions.can_reply(request.user, topic)]
    block_reason = None
    if topics and not can_reply_to:
        block_reason = forum_permissions.posting_block_reason(request.user) or _(
            "The questions are not open for replies yet."
        )
    return {
        **newest,
        "polls": poll_blocks(request, topics),
        "topics": topics,
        "reply_topics": can_reply_to,
        "reply_block_reason": block_reason,
        "present": presence.people_here(event.pk),
        "channels": live_channels(event, topic_ids),
    }


def _stream_item(event: Event) -> tuple[str, bool, str]:
    from . import stream_check

    if not event.stream_url:
        return (_("Stream reachable"), not event.is_online, _("No stream link yet."))
    result = stream_check.last_result(event)
    if result is None:
        return (_("Stream reachable"), False, _('Not checked yet: press "Check the stream".'))
    return (_("Stream reachable"), result["ok"], result["detail"])


def checklist(event: Event, counts: dict) -> list[tuple[str, bool, str]]:
    """The control room's checklist: (label, done, detail)."""
    registered = counts.get(RegistrationStatus.REGISTERED, 0)
    topics = list(event.linked_topics.all())
    opening = [t for t in topics if t.status in (TopicStatus.SCHEDULED, TopicStatus.OPEN)]
    items = [
        (_("Published"), event.status != EventStatus.DRAFT, event.get_status_display()),
        (
            _("Question topics linked"),
            bool(topics),
            ", ".join(t.title for t in topics) if topics else _("No topics linked yet."),
        ),
        (
            _("Topics ready to open"),
            bool(topics) and len(opening) == len(topics),
            _("%(ready)d of %(total)d") % {"ready": len(opening), "total": len(topics)},
        ),
        (
            _("Stream link on the allowlist"),
            bool(event.stream_url) or not event.is_online,
            event.stream_url or _("No stream link yet."),
        ),
        _stream_item(event),
        (
            _("Join link for registered people"),
            bool(event.join_url) or not event.is_online,
            event.join_url or _("No join link yet."),
        ),
        (_("Registrations"), registered > 0, str(registered)),
    ]
    return items


# ----------------------------------------------------------------------------- polls


def poll_blocks(request, topics: list[Topic]) -> list[str]:
    """The polls of the questions, each as this person sees it (forum/polls.py), newest first."""
    return forum_polls.blocks_for_topics(request, topics)


def event_polls(event: Event) -> list:
    """The polls in the event's linked questions, for the control room (two queries), each with
    its presenter link."""
    topics = list(event.linked_topics.all())
    found = forum_polls.polls_of_topics([topic.pk for topic in topics])
    by_id = {topic.pk: topic for topic in topics}
    for poll in found:
        topic = by_id[poll.post.topic_id]
        poll.urls = forum_polls.poll_urls(poll, poll.post, topic)
        poll.closed = poll.is_closed()
    return found


def set_poll_status(poll, status: str, actor) -> None:
    forum_services.set_poll_status(poll, status, by=actor)
