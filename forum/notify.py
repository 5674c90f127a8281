"""Who hears about a post: replies, mentions, quotes, likes and watched topics and categories.

forum/services.py and forum/moderation.py call one function per spot, inside their
transaction; it writes a NotificationJob (so a post saved while Redis or the worker is down
still owes its notifications). After commit a Celery task runs the job and deletes it; the
periodic drain runs the jobs whose task was lost. Running a job twice notifies nobody twice:
each notification's dedupe key names the post and the recipient (and the liker for likes).

Rules: a person gets at most one notification per post, the most personal one (mention >
reply > quote > watched); never about their own post; nothing about a topic they cannot
read or muted (a topic's own level wins over its category's); nothing about a held post
until a moderator approves it.
"""

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.markdown import QUOTE_RE, mentioned_usernames
from notifications.models import NotificationKind
from notifications.services import Notice, in_language_of, language_of, notify, notify_many

from . import permissions
from .models import (
    CategoryWatch,
    Like,
    MessageParticipant,
    NotificationJob,
    NotificationJobKind,
    Post,
    PostState,
    TopicReadState,
    TopicWatch,
    WatchLevel,
)

logger = logging.getLogger(__name__)

MAX_MENTIONS = 10  # people notified for the @names of one post
MAX_QUOTES = 10
MAX_GROUP_MENTION_MEMBERS = 500  # people notified for one @group
# The drain leaves younger jobs to the task queued at their commit.
DRAIN_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 20
PRECEDENCE = [
    NotificationKind.PRIVATE_MESSAGE,
    NotificationKind.MENTION,
    NotificationKind.REPLY,
    NotificationKind.QUOTE,
    NotificationKind.WATCHED_POST,
]


# --- Called from the services, inside their transaction -------------------------------------


def post_created(post: Post) -> None:
    """A new topic (its first post) or a reply. A post its author's first-post rule will hold is
    announced by :func:`post_approved` instead."""
    from .moderation import needs_approval

    if post.state != PostState.VISIBLE or (not post.topic.is_private_message and needs_approval(post.author)):
        return
    _enqueue(NotificationJobKind.POST, post)


def post_approved(post: Post) -> None:
    """A moderator approved a held post: announce it as if it had just been written."""
    _enqueue(NotificationJobKind.POST, post)


def post_edited(post: Post, new_raw: str) -> None:
    """Before an edit is saved: @names it adds are notified (and nobody else)."""
    added = mentioned_usernames(new_raw) - mentioned_usernames(post.raw)
    if added and post.state == PostState.VISIBLE:
        _enqueue(NotificationJobKind.MENTIONS, post, data={"usernames": sorted(added)[:MAX_MENTIONS]})


def post_liked(post: Post, user) -> None:
    """Someone liked a post: its author hears, grouped with the other likes of the post."""
    _enqueue(NotificationJobKind.LIKE, post, actor=user)


def _enqueue(kind: str, post: Post, *, actor=None, data: dict | None = None) -> None:
    job = NotificationJob.objects.create(kind=kind, post=post, actor=actor, data=data or {})
    transaction.on_commit(lambda: _queue(job.pk), robust=True)


def _queue(job_id: int) -> None:
    """After commit. A broker that refuses is logged by ``delay()``; the job row stays for the drain."""
    from .tasks import fan_out

    fan_out.delay(job_id)


# --- Running a job (the task and the drain) -------------------------------------------------


def run_job(job_id: int) -> int | None:
    """Turn one job into notifications and delete it; returns how many people it addressed
    (None when the job is already done or another worker holds it).

    The job row is locked while it runs, so two workers never run it at once; a job already
    done (or being done) is a no-op.
    """
    with transaction.atomic():
        job = (
            NotificationJob.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("post__topic__category", "post__topic__author", "post__author", "actor")
            .filter(pk=job_id)
            .first()
        )
        if job is None:
            return None
        if job.kind == NotificationJobKind.LIKE:
            count = _announce_like(job.post, job.actor)
        elif job.kind == NotificationJobKind.MENTIONS:
            count = _announce_post(job.post, only_usernames=job.data.get("usernames", []))
        else:
            count = _announce_post(job.post)
        job.delete()
    return count


def drain(limit: int = 200) -> dict:
    """Run the jobs a lost task left behind (older than DRAIN_AFTER); a failing one is retried
    on the next run, and dropped with an error in the log after MAX_ATTEMPTS."""
    results = {"done": 0, "failed": 0}
    due = NotificationJob.objects.filter(created_at__lte=timezone.now() - DRAIN_AFTER).order_by("pk")
    for job_id in due.values_list("pk", flat=True)[:limit]:
        try:
            run_job(job_id)
            results["done"] += 1
        except Exception:  # noqa: BLE001 - one broken job must not stop the others
            logger.exception("Notification job %s failed", job_id)
            results["failed"] += 1
            NotificationJob.objects.filter(pk=job_id).update(attempts=F("attempts") + 1)
            NotificationJob.objects.filter(pk=job_id, attempts__gte=MAX_ATTEMPTS).delete()
    return results


# --- Who hears about a post -----------------------------------------------------------------


def _quoted_authors(post: Post) -> set[int]:
    """Authors of the posts this one quotes (by post reference, else by the quoted name)."""
    references, names = set(), set()
    for match in list(QUOTE_RE.finditer(post.raw or ""))[:MAX_QUOTES]:
        if match.group("post") and match.group("topic"):
            references.add((int(match.group("topic")), int(match.group("post"))))
        else:
            names.add(match.group("username").strip())
    authors: set[int] = set()
    if references:
        by_reference = Q()
        for topic_id, number in references:
            by_reference |= Q(topic_id=topic_id, number=number)
        authors |= set(Post.objects.filter(by_reference).values_list("author_id", flat=True))
    if names:
        authors |= set(get_user_model().objects.filter(username__in=names).values_list("pk", flat=True))
    return authors


def _candidates(post: Post, only_usernames: list[str] | None) -> dict[int, str]:
    """Each person who may hear about the post, with the most personal reason."""
    topic = post.topic
    offers: list[tuple[int, str]] = []
    usernames = only_usernames if only_usernames is not None else sorted(mentioned_usernames(post.raw))
    users = get_user_model().objects
    found = dict(users.filter(username__in=usernames[:MAX_MENTIONS]).values_list("username", "pk"))
    offers += [(pk, NotificationKind.MENTION) for pk in found.values()]
    offers += [
        (pk, NotificationKind.MENTION) for pk in _group_mentions([n for n in usernames if n not in found])
    ]
    if only_usernames is None and topic.is_private_message:
        # Every participant hears of each message, before any other reason.
        participants = MessageParticipant.objects.filter(topic=topic).values_list("user_id", flat=True)
        offers += [(pk, NotificationKind.PRIVATE_MESSAGE) for pk in participants]
    if only_usernames is None:
        if post.reply_to_id:
            replied = Post.objects.filter(pk=post.reply_to_id).values_list("author_id", flat=True).first()
            offers.append((replied, NotificationKind.REPLY))
        elif post.number > 1:
            offers.append((topic.author_id, NotificationKind.REPLY))
        offers += [(pk, NotificationKind.QUOTE) for pk in _quoted_authors(post)]
        watching_topic = TopicWatch.objects.filter(topic=topic, level=WatchLevel.WATCHING)
        offers += [
            (pk, NotificationKind.WATCHED_POST) for pk in watching_topic.values_list("user_id", flat=True)
        ]
        # A category's watchers hear of its topics, unless they set a level on the topic itself.
        watching_category = CategoryWatch.objects.filter(
            category_id=topic.category_id, level=WatchLevel.WATCHING
        )
        watching_category = watching_category.exclude(
            Exists(TopicWatch.objects.filter(topic=topic, user_id=OuterRef("user_id")))
        )
        offers += [
            (pk, NotificationKind.WATCHED_POST) for pk in watching_category.values_list("user_id", flat=True)
        ]
    wanted: dict[int, str] = {}
    for pk, kind in offers:
        if not pk or pk == post.author_id:
            continue
        if pk not in wanted or PRECEDENCE.index(kind) < PRECEDENCE.index(wanted[pk]):
            wanted[pk] = kind
    return wanted


def _group_mentions(names: list[str]) -> list[int]:
    """@group names (groups/): the members of each group that allows mentions, at most
    MAX_GROUP_MENTION_MEMBERS each; who may read the topic is checked later, as for everyone."""
    from groups.models import Group
    from groups.permissions import members_of

    people: list[int] = []
    for group in Group.objects.filter(name__in=[n.lower() for n in names][:MAX_MENTIONS], mentionable=True):
        people += list(members_of(group).values_list("pk", flat=True)[:MAX_GROUP_MENTION_MEMBERS])
    return people


def _muted(user_ids, topic) -> set[int]:
    """Of these people, who muted the topic, or its category without a level on the topic."""
    own = dict(TopicWatch.objects.filter(topic=topic, user_id__in=user_ids).values_list("user_id", "level"))
    muted = {pk for pk, level in own.items() if level == WatchLevel.MUTED}
    muted |= set(
        CategoryWatch.objects.filter(
            category_id=topic.category_id, user_id__in=user_ids, level=WatchLevel.MUTED
        )
        .exclude(user_id__in=list(own))
        .values_list("user_id", flat=True)
    )
    return muted


def _readers(user_ids, topic) -> list:
    """The active people among these who may read the topic and did not mute it."""
    if not user_ids:
        return []
    muted = _muted(user_ids, topic)
    people = get_user_model().objects.filter(
        pk__in=[pk for pk in user_ids if pk not in muted], is_active=True
    )
    return [person for person in people.order_by("pk") if permissions.can_read(person, topic)]


def _excerpt(post: Post) -> str:
    return Truncator(" ".join(strip_tags(post.cooked).split())).chars(240)


def _title(kind: str, post: Post) -> str:
    """In the active language (the caller sets the recipient's)."""
    topic = post.topic
    names = {"name": post.author.name, "topic": topic.localized_title}
    if kind == NotificationKind.PRIVATE_MESSAGE:
        if post.number == 1:
            return _("%(name)s sent you a message: “%(topic)s”") % names
        return _("%(name)s wrote in your message “%(topic)s”") % names
    if kind == NotificationKind.MENTION:
        return _("%(name)s mentioned you in “%(topic)s”") % names
    if kind == NotificationKind.REPLY:
        return _("%(name)s replied to you in “%(topic)s”") % names
    if kind == NotificationKind.QUOTE:
        return _("%(name)s quoted you in “%(topic)s”") % names
    if post.number == 1:
        return _("%(name)s started “%(topic)s” in %(category)s") % {
            **names,
            "category": topic.category.localized_name,
        }
    return _("%(name)s posted in “%(topic)s”") % names


def _announce_post(post: Post, only_usernames: list[str] | None = None) -> int:
    if post.state != PostState.VISIBLE:
        return 0  # hidden, withdrawn or still held: approval queues a new job
    wanted = _candidates(post, only_usernames)
    data = {
        "topic_id": post.topic_id,
        "post_id": post.pk,
        "post_number": post.number,
        "excerpt": _excerpt(post),
    }
    url = post.get_absolute_url()
    titles: dict[tuple[str, str], str] = {}  # one per kind and language, not per person (2,000 watchers)
    notices = []
    for person in _readers(list(wanted), post.topic):
        kind = wanted[person.pk]
        key = (kind, language_of(person))
        if key not in titles:
            with translation.override(key[1]):
                titles[key] = _title(kind, post)
        notices.append(
            Notice(
                person,
                kind,
                actor=post.author,
                title=titles[key],
                url=url,
                data=data,
                dedupe_key=f"forum:post:{post.pk}:to:{person.pk}",
            )
        )
    return len(notify_many(notices))


def _announce_like(post: Post, liker) -> int:
    if liker is None or post.state != PostState.VISIBLE:
        return 0
    likes = Like.objects.filter(post=post)
    if not likes.filter(user=liker).exists():
        return 0  # taken back before we got here
    if not _readers([post.author_id], post.topic):
        return 0
    others = likes.count() - 1
    author = post.author
    with in_language_of(author):
        names = {"name": liker.name, "topic": post.topic.localized_title, "count": others}
        if others:
            title = (
                ngettext(
                    "%(name)s and %(count)d other liked your post in “%(topic)s”",
                    "%(name)s and %(count)d others liked your post in “%(topic)s”",
                    others,
                )
                % names
            )
        else:
            title = _("%(name)s liked your post in “%(topic)s”") % names
    notification = notify(
        author,
        NotificationKind.LIKE,
        actor=liker,
        title=title,
        url=post.get_absolute_url(),
        data={"topic_id": post.topic_id, "post_id": post.pk, "post_number": post.number},
        dedupe_key=f"forum:like:{post.pk}:by:{liker.pk}",
        group_key=f"forum:like:{post.pk}",
    )
    return int(notification is not None)


# --- Read state, for the email sender (registered in ForumConfig.ready) ---------------------


def already_read(notification) -> bool:
    """A forum notification's post that its recipient has since read in the topic needs no email."""
    data = notification.data or {}
    if notification.kind == NotificationKind.LIKE or not data.get("topic_id") or not data.get("post_number"):
        return False
    return TopicReadState.objects.filter(
        user_id=notification.recipient_id,
        topic_id=data["topic_id"],
        last_read_number__gte=data["post_number"],
    ).exists()
