"""Personal messages: private topics between their participants (see docs/messages.md).

A message is a Topic with ``archetype=private_message`` in the messages' own category, whose read
access (PARTICIPANTS) no reader level includes: every list, feed, search, digest, insight and live
channel built on ``permissions.readable_topics`` / ``visible_topics`` leaves it out, and
``permissions.can_read`` lets in its participants only (MessageParticipant rows). Replies, likes,
drafts, quotes, read tracking and live updates are those of topics (forum/services.py).

Every write to messages' participants and preferences is here; each says who may call it.
"""

import contextlib
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core import live, page_cache
from groups.models import Group
from groups.permissions import can_see, members_of

from . import permissions
from .models import (
    MESSAGES_CATEGORY_SLUG,
    Archetype,
    Category,
    Draft,
    MessageGroup,
    MessageParticipant,
    MessagePreference,
    ModerationAction,
    ReadAccess,
    ReviewItem,
    ReviewKind,
    StartAccess,
    Topic,
    TopicReadState,
)
from .moderation import log_action

CATEGORY_SLUG = MESSAGES_CATEGORY_SLUG
MAX_RECIPIENTS = 20
UNREAD_TTL = 300
BOXES = ("inbox", "sent", "archive")


def messages_category() -> Category:
    """The category that holds every message (made on first use); nobody reads it as a category."""
    category = Category.objects.filter(slug=CATEGORY_SLUG).first()
    if category is None:
        category, _created = Category.objects.get_or_create(
            slug=CATEGORY_SLUG,
            defaults={
                "name": "Personal messages",
                "name_es": "Mensajes personales",
                "name_fr": "Messages personnels",
                "read_access": ReadAccess.PARTICIPANTS,
                "start_access": StartAccess.MODERATORS,
                "position": 10_000,
            },
        )
    return category


# --- Who --------------------------------------------------------------------------------------


def refuses_messages(user) -> bool:
    return MessagePreference.objects.filter(user=user, refuse_messages=True).exists()


def recipients_from_names(names: str | Iterable[str], sender=None) -> list:
    """People by username ("ana, @bo" or a list), in the order given, and (with a `sender`) groups
    by name that the sender may see and write to (Group objects); unknown names are an error."""
    if isinstance(names, str):
        names = names.split(",")
    wanted: list[str] = []
    for name in names:
        name = (name or "").strip().lstrip("@")
        if name and name.lower() not in [n.lower() for n in wanted]:
            wanted.append(name)
    if len(wanted) > MAX_RECIPIENTS:
        raise ValidationError(
            {"recipients": _("Write to at most %(max)d people at once.") % {"max": MAX_RECIPIENTS}}
        )
    matching = Q(pk__in=[])
    for name in wanted:
        matching |= Q(username__iexact=name)
    people = {
        person.username.lower(): person
        for person in get_user_model().objects.filter(matching, is_active=True)
    }
    groups = {}
    if sender is not None and len(people) < len(wanted):
        for group in Group.objects.filter(name__in=[n.lower() for n in wanted if n.lower() not in people]):
            if group.messageable and can_see(sender, group):
                groups[group.name] = group
    unknown = [name for name in wanted if name.lower() not in people and name.lower() not in groups]
    if unknown:
        raise ValidationError(
            {"recipients": _("Nobody is called %(names)s here.") % {"names": ", ".join(unknown)}}
        )
    return [people.get(name.lower()) or groups[name.lower()] for name in wanted]


def split_targets(targets: list) -> tuple[list, list]:
    """(people, groups) of what recipients_from_names returned."""
    return [t for t in targets if not isinstance(t, Group)], [t for t in targets if isinstance(t, Group)]


def _group_members(author, groups: list) -> list:
    """The members a message to these groups reaches (one query per group): active, not suspended,
    not the author, and (unless a moderator writes) not refusing messages."""
    people = {}
    for group in groups:
        members = members_of(group).exclude(pk=author.pk).exclude(suspended_until__gt=timezone.now())
        if not permissions.is_moderator(author):
            members = members.exclude(
                pk__in=MessagePreference.objects.filter(refuse_messages=True).values("user_id")
            )
        for person in members:
            people.setdefault(person.pk, person)
    return list(people.values())


def _check_recipients(sender, recipients: list) -> None:
    for person in recipients:
        reason = permissions.message_block_reason(sender, person)
        if reason:
            raise ValidationError({"recipients": reason})


# --- Writes -----------------------------------------------------------------------------------


def create_message(
    author,
    recipients: list,
    title: str,
    raw: str,
    *,
    idempotency_key=None,
    language: str = "en",
    groups: Iterable = (),
) -> Topic:
    """Start a personal message with `recipients` (and the members of `groups`, which keep it in their
    group inbox). Callers: verified officials and moderators
    (`permissions.can_start_message`); nobody who refuses messages unless the author is a moderator.

    The same idempotency key returns the message already made. After commit: the recipients are
    notified (their email goes at once) and their open pages get the new unread count.
    """
    from . import services

    if not permissions.can_start_message(author):
        raise PermissionDenied(
            permissions.posting_block_reason(author) or _("You cannot send personal messages.")
        )
    groups = list(groups)
    recipients = [person for person in recipients if person.pk != author.pk] or recipients
    _check_recipients(author, recipients)
    named = {person.pk for person in recipients}
    recipients += [person for person in _group_members(author, groups) if person.pk not in named]
    if not recipients:
        raise ValidationError({"recipients": _("Add at least one person to write to.")})
    if len(recipients) > MAX_RECIPIENTS and not groups:
        raise ValidationError(
            {"recipients": _("Write to at most %(max)d people at once.") % {"max": MAX_RECIPIENTS}}
        )
    title = services.normalise_title(title)
    raw = services.clean_raw(raw)
    key = services._as_uuid(idempotency_key)
    if key and (existing := services._post_for_key(author, key)):
        return existing.topic
    category = messages_category()
    try:
        with transaction.atomic():
            topic = services._insert_topic(
                author,
                category,
                title,
                raw,
                tag_names=[],
                language=language,
                key=key,
                now=timezone.now(),
                archetype=Archetype.PRIVATE_MESSAGE,
                draft_key=Draft.NEW_MESSAGE,
            )
            MessageParticipant.objects.bulk_create(
                [MessageParticipant(topic=topic, user=author, added_by=author)]
                + [MessageParticipant(topic=topic, user=person, added_by=author) for person in recipients]
            )
            MessageGroup.objects.bulk_create([MessageGroup(topic=topic, group=group) for group in groups])
            counts_changed([author.pk] + [person.pk for person in recipients])
    except IntegrityError:
        if key and (existing := services._post_for_key(author, key)):
            return existing.topic
        raise
    return topic


def add_participants(by, topic: Topic, people: list) -> list:
    """Add people to a message. Callers: participants who may answer it; the same who-may-message
    rules as starting one. Returns the people added (those already in are left as they are).
    After commit each hears of it (a notification, email at once)."""
    _check_message(topic)
    reason = permissions.message_reply_block_reason(by, topic)
    if reason:
        raise PermissionDenied(reason)
    present = set(MessageParticipant.objects.filter(topic=topic).values_list("user_id", flat=True))
    new = [person for person in people if person.pk not in present]
    if not new:
        raise ValidationError({"recipients": _("Everyone named is in this message already.")})
    if len(present) + len(new) > MAX_RECIPIENTS + 1:
        raise ValidationError(
            {"recipients": _("A message holds at most %(max)d people.") % {"max": MAX_RECIPIENTS + 1}}
        )
    _check_recipients(by, new)
    with transaction.atomic():
        MessageParticipant.objects.bulk_create(
            [MessageParticipant(topic=topic, user=person, added_by=by) for person in new],
            ignore_conflicts=True,
        )
        _notify_added(by, topic, new)
        counts_changed([person.pk for person in new])
        page_cache.changed(topic_ids=[topic.pk], lists=False)  # everyone's list of participants
    _forget_checks(topic)
    return new


def remove_participant(by, topic: Topic, person) -> None:
    """Take someone out of a message. Callers: the person themselves (leaving) or the message's
    author. The message stays for the others; the person no longer opens it."""
    _check_message(topic)
    if by.pk != person.pk and by.pk != topic.author_id:
        raise PermissionDenied(_("Only the person who started this message can remove people from it."))
    with transaction.atomic():
        deleted, _rows = MessageParticipant.objects.filter(topic=topic, user=person).delete()
        if not deleted:
            raise ValidationError({"form": _("%(name)s is not in this message.") % {"name": person.username}})
        counts_changed([person.pk])
        page_cache.changed(topic_ids=[topic.pk], lists=False)
    _forget_checks(topic)


def leave_message(user, topic: Topic) -> None:
    """Leave a message (`remove_participant` of oneself)."""
    remove_participant(user, topic, user)


def set_archived(user, topic: Topic, archived: bool) -> None:
    """Move a message to the person's archive, or back to their inbox; a new post brings it back."""
    _check_message(topic)
    updated = MessageParticipant.objects.filter(topic=topic, user=user).update(archived=archived)
    if not updated:
        raise PermissionDenied(_("This message is only open to its participants."))
    counts_changed([user.pk])


def set_refuse_messages(user, refuse: bool) -> None:
    """A person's choice: refuse personal messages from anyone but moderators."""
    if not user.is_authenticated:
        raise PermissionDenied(_("Sign in to choose."))
    MessagePreference.objects.update_or_create(user=user, defaults={"refuse_messages": bool(refuse)})


def message_posted(topic: Topic, author_id: int) -> None:
    """A reply in a message (forum/services.py calls it in the reply's transaction): the message
    comes back to every inbox that archived it, and the participants' unread counts change."""
    participants = MessageParticipant.objects.filter(topic=topic)
    participants.exclude(user_id=author_id).filter(archived=True).update(archived=False)
    counts_changed(list(participants.values_list("user_id", flat=True)))


def read_flagged_message(moderator, item: ReviewItem):
    """A moderator opens one flagged post of a message: allowed only for a flag (never a whole
    message), and each read is written to the moderation log. Returns the post."""
    permissions.check_moderator(moderator)
    post = item.post
    if item.kind != ReviewKind.FLAGGED_POST or not post.topic.is_private_message:
        raise PermissionDenied(_("Only a flagged personal message can be opened from the review queue."))
    log_action(moderator, ModerationAction.READ_MESSAGE, topic=post.topic, post=post)
    return post


def _check_message(topic: Topic) -> None:
    if not topic.is_private_message:
        raise ValidationError({"form": _("This is not a personal message.")})


def _forget_checks(topic: Topic) -> None:
    topic.__dict__.pop("_participants_checked", None)


def _notify_added(by, topic: Topic, people: list) -> None:
    from notifications.models import NotificationKind
    from notifications.services import Notice, in_language_of, notify_many

    notices = []
    for person in people:
        with in_language_of(person):
            title = _("%(name)s added you to the message “%(topic)s”") % {
                "name": by.name,
                "topic": topic.title,
            }
        notices.append(
            Notice(
                person,
                NotificationKind.PRIVATE_MESSAGE,
                actor=by,
                title=title,
                url=topic.get_absolute_url(),
                data={"topic_id": topic.pk},
                dedupe_key=f"forum:message:{topic.pk}:added:{person.pk}:{timezone.now().timestamp()}",
            )
        )
    notify_many(notices)


# --- Reads ------------------------------------------------------------------------------------


def _unread_key(user_id: int) -> str:
    return f"messages:unread:{user_id}"


def unread_filter(user) -> Q:
    """Messages with a post this person has not read (no read state: nothing read)."""
    read = TopicReadState.objects.filter(
        user=user, topic=OuterRef("pk"), last_read_number__gte=OuterRef("highest_post_number")
    )
    return ~Q(Exists(read))


def _count_unread(user_id: int) -> int:
    user = get_user_model()(pk=user_id)
    return (
        Topic.objects.filter(
            archetype=Archetype.PRIVATE_MESSAGE,
            message_participants__user_id=user_id,
            message_participants__archived=False,
        )
        .filter(unread_filter(user))
        .count()
    )


def unread_count(user) -> int:
    """The header's number of unread messages: cached, so a page costs no query while nothing
    changes; a cache that is down costs one query."""
    if not getattr(user, "is_authenticated", False):
        return 0
    key = _unread_key(user.pk)
    try:
        count = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that is down is a miss
        count = None
    if count is None:
        count = _count_unread(user.pk)
        with contextlib.suppress(Exception):  # a cache that is down keeps nothing
            cache.set(key, count, UNREAD_TTL)
    return count


def counts_changed(user_ids: Iterable[int]) -> None:
    """Forget these people's cached unread counts (now and after commit) and send each open page
    the new number on ``/user/<id>`` (event ``messages_unread``)."""
    user_ids = sorted(set(user_ids))
    keys = [_unread_key(pk) for pk in user_ids]
    with contextlib.suppress(Exception):  # a cache that is down holds no count to forget
        cache.delete_many(keys)
    page_cache.changed(readers=user_ids, lists=False)  # the pages kept for them show the count

    def send():
        with contextlib.suppress(Exception):
            cache.delete_many(keys)
        for pk in user_ids:
            live.publish(live.user_channel(pk), "messages_unread", {"messages_unread": _count_unread(pk)})

    transaction.on_commit(send, robust=True)


def read_position_changed(user, topic: Topic) -> None:
    """The reader's position in a message moved (services.mark_read): their count may drop."""
    counts_changed([user.pk])


def box(user, name: str) -> QuerySet[Topic]:
    """One of a person's boxes, newest activity first: inbox (not archived), sent (started by
    them), archive. Each topic carries ``is_unread``."""
    mine = MessageParticipant.objects.filter(topic=OuterRef("pk"), user=user)
    if name != "sent":
        mine = mine.filter(archived=(name == "archive"))
    topics = Topic.objects.filter(Exists(mine), archetype=Archetype.PRIVATE_MESSAGE)
    if name == "sent":
        topics = topics.filter(author=user)
    read = TopicReadState.objects.filter(
        user=user, topic=OuterRef("pk"), last_read_number__gte=OuterRef("highest_post_number")
    )
    return (
        topics.annotate(is_read=Exists(read))
        .select_related("author", "last_poster")
        .order_by("-bumped_at", "-pk")
    )


def participants_of(topic: Topic) -> list:
    """The people in a message, in the order they joined, each with ``message_archived`` (one query)."""
    people = []
    for row in (
        MessageParticipant.objects.filter(topic=topic)
        .select_related("user__organisation")
        .order_by("created_at", "pk")
    ):
        row.user.message_archived = row.archived
        people.append(row.user)
    return people


def participant_names(topic_ids: list[int]) -> dict[int, list[str]]:
    """Each message's participants' names for a box (one query for the page)."""
    names: dict[int, list[str]] = {pk: [] for pk in topic_ids}
    rows = (
        MessageParticipant.objects.filter(topic_id__in=topic_ids)
        .annotate(username=F("user__username"))
        .order_by("created_at", "pk")
        .values_list("topic_id", "username")
    )
    for topic_id, username in rows:
        names[topic_id].append(username)
    return names


def draft_for(user):
    return Draft.objects.filter(user=user, key=Draft.NEW_MESSAGE).first()


def group_box(group) -> QuerySet[Topic]:
    """A group's inbox: the messages sent to it, newest activity first (members see it)."""
    return (
        Topic.objects.filter(archetype=Archetype.PRIVATE_MESSAGE, message_groups__group=group)
        .select_related("author", "last_poster")
        .order_by("-bumped_at", "-pk")
    )
