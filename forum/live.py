"""The forum's live channels and what it publishes on them (see docs/live.md).

Channels, registered in ForumConfig.ready():

- ``/topic/<id>``: whoever may read the topic. Events ``post_created``, ``post_edited``,
  ``post_liked``, ``post_hidden``, ``post_shown``, ``post_withdrawn``, ``topic_state``,
  ``topic_changed``, ``poll_voted``, ``poll_status``.
- ``/category/<id>``: whoever may read the category. Event ``topic_created`` (listed topics).
- ``/latest``: everyone. Event ``topic_created`` for listed topics of categories open to everyone.
- ``/latest/signed_in``, ``/latest/verified``: ``topic_created`` for listed topics of categories
  open to signed-in members, or to verified officials; read by those who may read them.
- ``/latest/moderators``: ``topic_created`` for unlisted topics; moderators only.

Each new topic goes to the one audience channel that matches who may see it in the lists, so a
subscriber never learns that a topic it may not see exists, or when it appeared: the pages
subscribe to :func:`latest_channels` of their reader.

Payloads carry ids, numbers and counts, never text: a reader of ``/latest`` learns that some
topic was created, and asks a permission-checked view (forum/live_views.py) what it may see.
Every function here publishes after the current transaction commits (at once outside one), so
a rolled-back write sends nothing. The service functions call them, one line each.

What open pages learn live, anonymous readers must see on their next view too: every
publication here also drops the cached anonymous pages of its topic and the lists
(core/page_cache.py). Writes that publish nothing call page_cache.changed themselves.
"""

from core import live, page_cache
from core.live import publish_many_on_commit, publish_on_commit, register_channel

from . import permissions
from .models import Category, Post, ReadAccess, Topic


def topic_channel(topic_id: int) -> str:
    return f"/topic/{topic_id}"


def category_channel(category_id: int) -> str:
    return f"/category/{category_id}"


LATEST = "/latest"
SIGNED_IN_LATEST = "/latest/signed_in"
VERIFIED_LATEST = "/latest/verified"
MODERATORS_LATEST = "/latest/moderators"
# Who may see a listed topic in the lists, by its category's read access -> where it is announced.
AUDIENCE_CHANNELS = {
    ReadAccess.EVERYONE: LATEST,
    ReadAccess.SIGNED_IN: SIGNED_IN_LATEST,
    ReadAccess.VERIFIED: VERIFIED_LATEST,
}


def _object_id(channel: str) -> int | None:
    tail = channel.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() and channel.count("/") == 2 else None


def may_read_topic_channel(user, channel: str) -> bool:
    topic_id = _object_id(channel)
    if topic_id is None:
        return False
    topic = Topic.objects.select_related("category").filter(pk=topic_id).first()
    return topic is not None and permissions.can_read(user, topic)


def may_read_category_channel(user, channel: str) -> bool:
    category_id = _object_id(channel)
    if category_id is None:
        return False
    category = Category.objects.filter(pk=category_id).first()
    return category is not None and permissions.can_read_category(user, category)


def latest_channels(user) -> list[str]:
    """The new-topic channels this person may follow: one per audience they belong to."""
    channels = [AUDIENCE_CHANNELS[level] for level in permissions.readable_access_levels(user)]
    if permissions.is_moderator(user):
        channels.append(MODERATORS_LATEST)
    return channels


def list_channels(user, category: Category | None = None) -> list[str]:
    """What a topic list page follows for its "N new topics" bar (templates/forum/latest.html)."""
    if category is None:
        return latest_channels(user)
    channels = [category_channel(category.pk)]
    if permissions.is_moderator(user):
        channels.append(MODERATORS_LATEST)  # unlisted topics; the count view keeps this category's
    return channels


def may_read_latest(user, channel: str) -> bool:
    if channel == LATEST:
        return True
    return channel in latest_channels(user)


def announcement_channels(topic: Topic) -> list[str]:
    """Where a new topic is announced: the channels of exactly those who may see it listed."""
    if topic.is_private_message:
        return []  # never listed: its participants hear of it on their own channels (forum/messages.py)
    if topic.unlisted:
        return [MODERATORS_LATEST]
    category = topic.category
    if category.group_restricted:
        return [category_channel(category.pk)]  # its groups' members only (may_read_category_channel)
    channels = [AUDIENCE_CHANNELS.get(category.read_access, MODERATORS_LATEST), category_channel(category.pk)]
    # A sub-category may be narrower than its parent: its readers only hear of it there.
    if category.parent_id and _breadth(category.read_access) >= _breadth(category.parent.read_access):
        channels.append(category_channel(category.parent_id))
    return channels


def _breadth(read_access: str) -> int:
    return {ReadAccess.EVERYONE: 2, ReadAccess.SIGNED_IN: 1}.get(read_access, 0)


def register_channels() -> None:
    register_channel("/topic", may_read_topic_channel)
    register_channel("/category", may_read_category_channel)
    register_channel(LATEST, may_read_latest)


def since(topic: Topic) -> str:
    """The topic page's live cursor at render time (``data-live-since``), "" if the broker is away.

    In the ``channel=id`` form, so the page's other channels (the bell's) start from now.
    """
    channel = topic_channel(topic.pk)
    try:
        return f"{channel}={live.last_id(channel)}"
    except Exception:  # noqa: BLE001 - the page renders without replay; its stream starts from now
        return ""


# --- Publishing -----------------------------------------------------------------------------


def _post_data(post: Post) -> dict:
    data = {"post_id": post.pk, "number": post.number}
    if 'data-poll-name="' in (post.cooked or ""):
        data["polls"] = True  # pages that list polls apart (the event's live page) fetch them
    return data


def post_created(post: Post) -> None:
    """A post others may see was added (an opening post also announces its topic in the lists).

    Held posts are announced when a moderator approves them, not before.
    """
    if post.number == 1:
        topic_created(post.topic)
    page_cache.changed(topic_ids=[post.topic_id])
    publish_on_commit(topic_channel(post.topic_id), "post_created", _post_data(post))


def topic_created(topic: Topic) -> None:
    data = {"topic_id": topic.pk}
    page_cache.changed(topic_ids=[topic.pk])
    publish_many_on_commit((channel, "topic_created", data) for channel in announcement_channels(topic))


def post_edited(post: Post) -> None:
    page_cache.changed(topic_ids=[post.topic_id])
    publish_on_commit(topic_channel(post.topic_id), "post_edited", _post_data(post))


def post_liked(post: Post) -> None:
    """A like given or taken back; the count is read as it stands now (one query)."""
    page_cache.changed(topic_ids=[post.topic_id], search=False)  # search hits show no likes
    like_count = Post.objects.filter(pk=post.pk).values_list("like_count", flat=True).first() or 0
    publish_on_commit(
        topic_channel(post.topic_id), "post_liked", {**_post_data(post), "like_count": like_count}
    )


def post_hidden(post: Post) -> None:
    page_cache.changed(topic_ids=[post.topic_id])
    publish_on_commit(topic_channel(post.topic_id), "post_hidden", _post_data(post))


def post_shown(post: Post) -> None:
    page_cache.changed(topic_ids=[post.topic_id])
    publish_on_commit(topic_channel(post.topic_id), "post_shown", _post_data(post))


def post_withdrawn(post: Post) -> None:
    page_cache.changed(topic_ids=[post.topic_id])
    publish_on_commit(topic_channel(post.topic_id), "post_withdrawn", _post_data(post))


def topic_state(topic: Topic) -> None:
    """Opened, closed, archived or scheduled: pages re-fetch their composer."""
    page_cache.changed(topic_ids=[topic.pk])
    publish_on_commit(topic_channel(topic.pk), "topic_state", {"topic_id": topic.pk, "status": topic.status})


def topic_changed(*topic_ids: int) -> None:
    """Posts moved in or out (merge, split, move), or the topic renamed or moved to another category:
    open pages are stale; they offer a reload."""
    page_cache.changed(topic_ids=topic_ids)
    publish_many_on_commit(
        (topic_channel(topic_id), "topic_changed", {"topic_id": topic_id}) for topic_id in topic_ids
    )


def _poll_data(poll) -> dict:
    # No counts: a poll's results may be hidden from some readers of the channel (results=on_close).
    return {"post_id": poll.post_id, "number": poll.post.number, "poll_name": poll.name}


def poll_voted(poll) -> None:
    """A vote cast, changed or withdrawn: open pages refetch the poll's results (forum/polls.py)."""
    page_cache.changed(topic_ids=[poll.post.topic_id], lists=False, search=False)
    publish_on_commit(topic_channel(poll.post.topic_id), "poll_voted", _poll_data(poll))


def poll_status(poll) -> None:
    """A poll closed or reopened by a moderator: open pages refetch the whole poll."""
    page_cache.changed(topic_ids=[poll.post.topic_id], lists=False, search=False)
    publish_on_commit(topic_channel(poll.post.topic_id), "poll_status", _poll_data(poll))
