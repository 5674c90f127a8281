"""Moderation and peer-learning writes: flags, the review queue, the moderation log, posting
guards, silence and suspension, topic surgery (merge, split, move posts), highlights, summaries.

forum/services.py re-exports these names, so callers keep one entry point. Every moderator
action here writes a ModerationLogEntry in the same transaction (log_action), so no action is
without a trace. Nothing is sent after commit yet: notifications will hook in with on_commit.
"""

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts import permissions as accounts_permissions
from core import clean, page_cache
from core.rate_limits import RateLimited

from . import live as forum_live
from . import notify, permissions, search
from .models import (
    PATH_DIGITS,
    Category,
    Flag,
    FlagReason,
    HiddenBy,
    Highlight,
    ModerationAction,
    ModerationLogEntry,
    Post,
    PostRedirect,
    PostState,
    ReviewItem,
    ReviewKind,
    ReviewState,
    SummaryRevision,
    Topic,
    TopicRedirect,
    TopicSummary,
    recent_poster_ids,
)

# --- Settings (all optional; the defaults are the product's rules) --------------------------


def _setting(name: str, default):
    return getattr(settings, name, default)


def flag_threshold() -> int:
    """How many verified officials flagging a post hide it at once (FORUM_FLAG_HIDE_THRESHOLD)."""
    return int(_setting("FORUM_FLAG_HIDE_THRESHOLD", 3))


# Seconds between two topics / two posts by one person, and daily caps; the newly verified
# (first NEW_MEMBER_DAYS after verification) get the tighter second value.
TOPIC_INTERVAL = (15, 60)
POST_INTERVAL = (5, 20)
DAILY_TOPICS = (20, 5)
DAILY_POSTS = (200, 30)
NEW_MEMBER_DAYS = 7
NEW_MEMBER_MAX_LINKS = 2
DUPLICATE_WINDOW = timedelta(minutes=5)
LINK_PATTERN = re.compile(r"(https?://|www\.)", re.IGNORECASE)


def log_action(
    actor,
    action: str,
    *,
    topic: Topic | None = None,
    post: Post | None = None,
    target_user=None,
    reason: str = "",
    details: dict | None = None,
    label: str = "",
) -> ModerationLogEntry:
    """Record one moderator, staff or system action (actor None = the system). Any service may call."""
    if post is not None and topic is None:
        topic = post.topic
    if target_user is not None:
        label = target_user.username
    elif post is not None:
        label = f"{topic.title} #{post.number}" if topic else str(post)
    elif topic is not None:
        label = topic.title
    reason = clean.strip_controls(reason)
    return ModerationLogEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        topic=topic,
        post=post,
        target_user=target_user,
        target_label=label[:300],
        reason=(reason or "")[:2000],
        details=details or {},
    )


VERIFICATION_ACTIONS = {
    "verify": ModerationAction.VERIFY,
    "reject": ModerationAction.DECLINE_VERIFICATION,
    "revoke": ModerationAction.REVOKE,
}


def log_verification_decision(sender, instance, created: bool, **kwargs) -> None:
    """A moderator's or staff member's verification decision (accounts' audit trail) is logged here
    too, so the moderation log holds every action; automatic changes (email domain, expiry) are not."""
    action = VERIFICATION_ACTIONS.get(instance.action)
    if not created or action is None or instance.actor_id is None or instance.actor_id == instance.subject_id:
        return
    log_action(
        instance.actor,
        action,
        target_user=instance.subject,
        reason=instance.reason,
        details={"from": instance.from_state, "to": instance.to_state},
    )


INVITATION_ACTIONS = {
    "invite": ModerationAction.INVITE,
    "resend": ModerationAction.RESEND_INVITATION,
    "revoke": ModerationAction.REVOKE_INVITATION,
}


def log_invitations(sender, action: str, actor, invitations, **kwargs) -> None:
    """Who invited, re-invited or uninvited whom (accounts.invitations.invitation_event): one
    log row per address, written together."""
    logged = INVITATION_ACTIONS.get(action)
    if logged is None or actor is None:
        return
    ModerationLogEntry.objects.bulk_create(
        ModerationLogEntry(
            actor=actor,
            action=logged,
            target_label=invitation.email[:300],
            details={
                "organisation": invitation.organisation.name,
                "occasion": invitation.occasion,
                "invitation": invitation.pk,
            },
        )
        for invitation in invitations
    )


# --- Flags and the review queue -------------------------------------------------------------


def can_flag(user, post: Post) -> bool:
    """Verified officials and moderators who can read the post, not on their own visible post."""
    return (
        permissions.posting_block_reason(user) is None
        and post.author_id != user.pk
        and post.state == PostState.VISIBLE
        and permissions.can_read(user, post.topic)
    )


def check_flag(user, post: Post) -> None:
    if not can_flag(user, post):
        raise PermissionDenied(_("You cannot flag this post."))


def flag_post(user, post: Post, reason: str, message: str = "") -> Flag:
    """Flag a post once. Callers: `can_flag` allows (verified officials, moderators).

    The post goes to the review queue. When as many verified officials as the threshold
    (3 by default) have flagged it, it is hidden at once, pending review, and its author
    sees why on the post. A second flag by the same person is refused with a message.
    """
    check_flag(user, post)
    if reason not in FlagReason.values:
        raise ValidationError({"reason": _("Choose why you flag this post.")})
    message = clean.strip_controls(message).strip()[:1000]
    if reason == FlagReason.NOTIFY_MODERATORS and not message:
        raise ValidationError({"message": _("Tell the moderators what is wrong with this post.")})
    try:
        with transaction.atomic():
            locked = Post.objects.select_for_update().select_related("topic").get(pk=post.pk)
            item = ReviewItem.objects.filter(
                post=locked, kind=ReviewKind.FLAGGED_POST, state=ReviewState.PENDING
            ).first()
            if item is None:
                item = ReviewItem.objects.create(post=locked, kind=ReviewKind.FLAGGED_POST)
            flag = Flag.objects.create(
                post=locked, flagger=user, reason=reason, message=message, review_item=item
            )
            verified_flaggers = (
                Flag.objects.filter(review_item=item)
                .filter(Q(flagger__verification_state="verified") | Q(flagger__is_moderator=True))
                .values("flagger")
                .distinct()
                .count()
            )
            if locked.state == PostState.VISIBLE and verified_flaggers >= flag_threshold():
                why = _(
                    "Hidden after flags from %(count)d members (%(reason)s), until a moderator reviews it."
                ) % {
                    "count": verified_flaggers,
                    "reason": FlagReason(reason).label,
                }
                Post.objects.filter(pk=locked.pk).update(
                    state=PostState.HIDDEN, hidden_reason=why[:500], hidden_by=HiddenBy.FLAGS
                )
                ReviewItem.objects.filter(pk=item.pk).update(hidden_by_flags=True)
                log_action(None, ModerationAction.AUTO_HIDE, post=locked, reason=why)
                forum_live.post_hidden(locked)
    except IntegrityError:
        raise ValidationError({"form": _("You have already flagged this post.")}) from None
    post.refresh_from_db()
    return flag


def has_flagged(user, post: Post) -> bool:
    return user.is_authenticated and Flag.objects.filter(post=post, flagger=user).exists()


def pending_reviews():
    return ReviewItem.objects.filter(state=ReviewState.PENDING)


def _check_can_act(moderator, item: ReviewItem) -> None:
    permissions.check_moderator(moderator)
    if item.state != ReviewState.PENDING:
        raise ValidationError({"form": _("Another moderator has already handled this item.")})
    if item.claimed_by_id and item.claimed_by_id != moderator.pk:
        raise ValidationError(
            {
                "form": _("%(name)s has claimed this item; they will handle it.")
                % {"name": item.claimed_by.name}
            }
        )


def claim_review(moderator, item: ReviewItem) -> ReviewItem:
    """Take an item, so other moderators see someone is on it. Moderators only; one claimer at a time."""
    permissions.check_moderator(moderator)
    with transaction.atomic():
        updated = ReviewItem.objects.filter(
            Q(claimed_by__isnull=True) | Q(claimed_by=moderator), pk=item.pk, state=ReviewState.PENDING
        ).update(claimed_by=moderator, claimed_at=timezone.now())
        if not updated:
            raise ValidationError({"form": _("Another moderator has already claimed or handled this item.")})
        log_action(moderator, ModerationAction.CLAIM, post=item.post)
    item.refresh_from_db()
    return item


def release_review(moderator, item: ReviewItem) -> ReviewItem:
    """Give a claimed item back to the queue. The claimer (or any moderator) may do it."""
    permissions.check_moderator(moderator)
    ReviewItem.objects.filter(pk=item.pk).update(claimed_by=None, claimed_at=None)
    item.refresh_from_db()
    return item


def resolve_review(moderator, item: ReviewItem, decision: str, reason: str = "") -> ReviewItem:
    """Agree, disagree or ignore. Moderators only; not on an item another moderator claimed.

    Flagged post: agree keeps it hidden (hides it if the flags had not yet), disagree shows it
    again, ignore closes the item and leaves the post as it is. Held post: agree approves
    (shows it), disagree rejects (it stays hidden, its author sees the reason).
    """
    if decision not in (ReviewState.AGREED, ReviewState.DISAGREED, ReviewState.IGNORED):
        raise ValidationError({"form": _("Choose agree, disagree or ignore.")})
    with transaction.atomic():
        item = (
            ReviewItem.objects.select_for_update(of=("self",))
            .select_related("post__topic", "claimed_by")
            .get(pk=item.pk)
        )
        _check_can_act(moderator, item)
        post = item.post
        reason = clean.strip_controls(reason).strip()
        if item.kind == ReviewKind.FLAGGED_POST:
            if decision == ReviewState.AGREED:
                why = reason or _("A moderator agreed with the flags on this post.")
                Post.objects.filter(pk=post.pk).update(
                    state=PostState.HIDDEN, hidden_reason=why[:500], hidden_by=HiddenBy.MODERATOR
                )
                action = ModerationAction.FLAG_AGREE
            elif decision == ReviewState.DISAGREED:
                if post.state == PostState.HIDDEN:
                    Post.objects.filter(pk=post.pk).update(
                        state=PostState.VISIBLE, hidden_reason="", hidden_by=""
                    )
                action = ModerationAction.FLAG_DISAGREE
            else:
                action = ModerationAction.FLAG_IGNORE
        else:
            if decision == ReviewState.AGREED:
                Post.objects.filter(pk=post.pk).update(
                    state=PostState.VISIBLE, hidden_reason="", hidden_by=""
                )
                notify.post_approved(post)
                action = ModerationAction.APPROVE
            elif decision == ReviewState.DISAGREED:
                why = reason or _("A moderator did not approve this post.")
                Post.objects.filter(pk=post.pk).update(
                    state=PostState.HIDDEN, hidden_reason=why[:500], hidden_by=HiddenBy.MODERATOR
                )
                action = ModerationAction.REJECT
            else:
                action = ModerationAction.FLAG_IGNORE
        ReviewItem.objects.filter(pk=item.pk).update(
            state=decision, resolved_by=moderator, resolved_at=timezone.now()
        )
        log_action(moderator, action, post=post, target_user=None, reason=reason)
        _announce_decision(post, action)
    item.refresh_from_db()
    return item


def _announce_decision(post: Post, action: str) -> None:
    """Open pages learn what a review decided: an approved held post arrives as a new one."""
    was_hidden = post.state == PostState.HIDDEN
    if action == ModerationAction.APPROVE and was_hidden:
        forum_live.post_created(post)
    elif action in (ModerationAction.FLAG_AGREE, ModerationAction.REJECT) and not was_hidden:
        forum_live.post_hidden(post)
    elif action == ModerationAction.FLAG_DISAGREE and was_hidden:
        forum_live.post_shown(post)


# --- Posting guards (rate limits, duplicates, links, first posts held) ----------------------


def is_newly_verified(user) -> bool:
    return bool(
        user.is_authenticated
        and user.verified_at
        and timezone.now() - user.verified_at < timedelta(days=NEW_MEMBER_DAYS)
    )


def _limits(user) -> int:
    return 1 if is_newly_verified(user) else 0


def _rate_keys(user, kind: str) -> tuple[str, str]:
    day = timezone.now().strftime("%Y%m%d")
    return f"mod:last:{kind}:{user.pk}", f"mod:day:{kind}:{user.pk}:{day}"


def check_posting(user, raw: str, *, kind: str = "reply", idempotency_key=None) -> None:
    """Raise ValidationError (a message for the composer) when this post would break a rule;
    RateLimited (a ValidationError with `wait_seconds`) for the interval and the daily caps.

    Rules: one topic per 15 s and one post per 5 s (60 s / 20 s in a person's first week as a
    verified official), daily caps (20 topics and 200 posts; 5 and 30 in the first week), the
    same text twice within 5 minutes, more than 2 links in the first week. Moderators are exempt.
    Views call this before the service and `after_posting` after it; the typed text stays in
    the form. Counters live in Django's cache (Redis in production), shared by every process.
    """
    if not user.is_authenticated or permissions.is_moderator(user):
        return
    if (
        idempotency_key
        and Post.objects.filter(author=user, idempotency_key=_uuid_or_none(idempotency_key)).exists()
    ):
        return  # a repeated submit of the same form: the service returns the post already made
    tier = _limits(user)
    interval = (TOPIC_INTERVAL if kind == "topic" else POST_INTERVAL)[tier]
    cap = (DAILY_TOPICS if kind == "topic" else DAILY_POSTS)[tier]
    last_key, day_key = _rate_keys(user, kind)
    last = cache.get(last_key)
    now = timezone.now().timestamp()
    if last is not None and now - last < interval:
        wait = max(1, int(interval - (now - last) + 0.999))
        if kind == "topic":
            message = _(
                "You can start a new topic every %(interval)d seconds. Try again in %(wait)d seconds."
            )
        else:
            message = _("You can post every %(interval)d seconds. Try again in %(wait)d seconds.")
        raise RateLimited(message % {"interval": interval, "wait": wait}, wait)
    if (cache.get(day_key) or 0) >= cap:
        if kind == "topic":
            message = _("You have started %(cap)d topics today, the most for one day. Try again tomorrow.")
        else:
            message = _("You have posted %(cap)d times today, the most for one day. Try again tomorrow.")
        raise RateLimited(message % {"cap": cap}, _seconds_until_tomorrow())
    raw = clean.strip_controls(raw)  # as the service will store it
    text = raw.strip()
    if (
        text
        and Post.objects.filter(
            author=user, created_at__gte=timezone.now() - DUPLICATE_WINDOW, raw__in=[text, text + "\n", raw]
        ).exists()
    ):
        raise ValidationError(
            {
                "raw": _(
                    "You posted the same text a moment ago. Change it, or wait five minutes to post it again."
                )
            }
        )
    if tier and len(LINK_PATTERN.findall(text)) > NEW_MEMBER_MAX_LINKS:
        raise ValidationError(
            {
                "raw": _(
                    "In your first week as a verified official, a post may hold at most %(max)d links. "
                    "Remove some links and post again."
                )
                % {"max": NEW_MEMBER_MAX_LINKS}
            }
        )


def _seconds_until_tomorrow() -> int:
    # The daily counters are keyed by the server's date (see _rate_keys).
    now = timezone.now()
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((tomorrow - now).total_seconds()) + 1


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def record_posting(user, kind: str = "reply") -> None:
    """Count a successful post against the person's rate limits."""
    last_key, day_key = _rate_keys(user, kind)
    cache.set(last_key, timezone.now().timestamp(), timeout=max(TOPIC_INTERVAL + POST_INTERVAL))
    if cache.add(day_key, 1, timeout=60 * 60 * 24) is False:
        try:
            cache.incr(day_key)
        except ValueError:
            cache.set(day_key, 1, timeout=60 * 60 * 24)


def needs_approval(user) -> bool:
    """Pre-approval of first posts: people with fewer than FORUM_HOLD_FIRST_POSTS visible posts."""
    first_posts = int(_setting("FORUM_HOLD_FIRST_POSTS", 0))
    if not first_posts or permissions.is_moderator(user):
        return False
    return Post.objects.filter(author=user, state=PostState.VISIBLE).count() <= first_posts


def after_posting(user, post: Post | Topic, kind: str = "reply") -> bool:
    """Count the post (or new topic) for rate limits; hold it for approval when needed. True if held.

    A post that is not held is announced on its topic's live channel (and a new topic in the
    lists) after commit; every caller of create_topic/create_reply calls this next.
    """
    record_posting(user, kind)
    if isinstance(post, Topic):
        post = post.posts.select_related("topic__category").get(number=1)
    # Messages are never held: moderators may not read them unless they are flagged.
    if post.topic.is_private_message or not needs_approval(user):
        forum_live.post_created(post)  # held posts are announced when approved
        return False
    hold_post(post)
    return True


def hold_post(post: Post) -> ReviewItem:
    """Hide a new post until a moderator approves it (its author sees why). The system calls it."""
    why = _("Waiting for a moderator's approval: the first posts of each person are checked.")
    with transaction.atomic():
        Post.objects.filter(pk=post.pk).update(
            state=PostState.HIDDEN, hidden_reason=why, hidden_by=HiddenBy.APPROVAL
        )
        item, _created = ReviewItem.objects.get_or_create(
            post=post, kind=ReviewKind.HELD_POST, state=ReviewState.PENDING
        )
        log_action(None, ModerationAction.HOLD, post=post)
        page_cache.changed(topic_ids=[post.topic_id])
    post.refresh_from_db()
    return item


# --- Silence and suspension -----------------------------------------------------------------


def _check_can_restrict(moderator, person) -> None:
    permissions.check_moderator(moderator)
    if person.pk == moderator.pk:
        raise PermissionDenied(_("You cannot restrict your own account."))
    if accounts_permissions.is_staff(person) and not accounts_permissions.is_staff(moderator):
        raise PermissionDenied(_("Only staff can restrict a staff account."))


def silence_user(moderator, person, until: datetime, reason: str):
    """The person cannot post until `until`; they see the reason where they would write. Moderators."""
    _check_can_restrict(moderator, person)
    reason = clean.strip_controls(reason).strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason the person will see.")})
    if until <= timezone.now():
        raise ValidationError({"until": _("Choose a date in the future.")})
    with transaction.atomic():
        get_user_model().objects.filter(pk=person.pk).update(
            silenced_until=until, silenced_reason=reason[:500]
        )
        log_action(
            moderator,
            ModerationAction.SILENCE,
            target_user=person,
            reason=reason,
            details={"until": until.isoformat()},
        )
        page_cache.changed(site=True)
    person.refresh_from_db()
    return person


def unsilence_user(moderator, person):
    """End a silence now. Moderators."""
    permissions.check_moderator(moderator)
    with transaction.atomic():
        get_user_model().objects.filter(pk=person.pk).update(silenced_until=None, silenced_reason="")
        log_action(moderator, ModerationAction.UNSILENCE, target_user=person)
        page_cache.changed(site=True)
    person.refresh_from_db()
    return person


def suspend_user(moderator, person, until: datetime, reason: str):
    """The person cannot sign in until `until` and is told why when they try. Moderators."""
    _check_can_restrict(moderator, person)
    reason = clean.strip_controls(reason).strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason the person will see.")})
    if until <= timezone.now():
        raise ValidationError({"until": _("Choose a date in the future.")})
    with transaction.atomic():
        get_user_model().objects.filter(pk=person.pk).update(
            suspended_until=until, suspended_reason=reason[:500]
        )
        log_action(
            moderator,
            ModerationAction.SUSPEND,
            target_user=person,
            reason=reason,
            details={"until": until.isoformat()},
        )
        page_cache.changed(site=True)
    person.refresh_from_db()
    return person


def unsuspend_user(moderator, person):
    """End a suspension now. Moderators."""
    permissions.check_moderator(moderator)
    with transaction.atomic():
        get_user_model().objects.filter(pk=person.pk).update(suspended_until=None, suspended_reason="")
        log_action(moderator, ModerationAction.UNSUSPEND, target_user=person)
        page_cache.changed(site=True)
    person.refresh_from_db()
    return person


# --- Topic surgery --------------------------------------------------------------------------


def _pad(number: int) -> str:
    return str(number).zfill(PATH_DIGITS)


def _transplant(posts: list[Post], target: Topic, first_number: int) -> dict[int, int]:
    """Move posts (in number order) into `target`, numbered from first_number. Returns old -> new.

    Replies keep their parent when it moves with them; otherwise they answer the topic.
    Old addresses get a PostRedirect. The caller holds the locks and rebuilds the trees.
    """
    moved_ids = {post.pk for post in posts}
    source_ids = {post.topic_id for post in posts}
    numbers: dict[int, int] = {}
    for offset, post in enumerate(posts):
        new_number = first_number + offset
        # Earlier redirects to this post follow it to its new place.
        PostRedirect.objects.update_or_create(
            old_topic_id=post.topic_id, old_number=post.number, defaults={"post": post}
        )
        Post.objects.filter(pk=post.pk).update(
            topic=target,
            number=new_number,
            reply_to=post.reply_to_id if post.reply_to_id in moved_ids else None,
        )
        numbers[post.number] = new_number
    Highlight.objects.filter(post_id__in=moved_ids).update(topic=target)
    # A reply left behind whose parent moved answers the topic now.
    Post.objects.filter(topic_id__in=source_ids, reply_to_id__in=moved_ids).update(reply_to=None)
    return numbers


def _rebuild_tree(topic_id: int) -> None:
    """Recompute depth, root_number and path of every post of a topic from reply_to (one read)."""
    rows = list(
        Post.objects.filter(topic_id=topic_id).order_by("number").values("pk", "number", "reply_to_id")
    )
    placed: dict[int, tuple[int, int, str, int]] = {}  # pk -> (depth, root, path, number)
    changed = []
    for row in rows:
        parent = placed.get(row["reply_to_id"])
        number = row["number"]
        if parent is None or parent[3] == 1:
            position = (0, number, _pad(number), number)
        else:
            position = (parent[0] + 1, parent[1], f"{parent[2]}.{_pad(number)}", number)
        placed[row["pk"]] = position
        changed.append(Post(pk=row["pk"], depth=position[0], root_number=position[1], path=position[2]))
    Post.objects.bulk_update(changed, ["depth", "root_number", "path"], batch_size=500)


def recount_topic(topic_id: int) -> None:
    """Recompute a topic's counters and its posts' reply counts from the rows (exact after surgery)."""
    posts = Post.objects.filter(topic_id=topic_id)
    totals = posts.aggregate(
        count=Count("pk"),
        highest=Coalesce(Max("number"), 0),
        likes=Coalesce(Sum("like_count"), 0),
        last=Max("created_at"),
        people=Count("author", distinct=True),
    )
    last_post = posts.order_by("-created_at", "-number").first()
    _rebuild_tree(topic_id)
    topic = Topic.objects.get(pk=topic_id)
    updates = {
        "posts_count": totals["count"],
        "replies_count": max(0, totals["count"] - 1),
        "likes_count": totals["likes"],
        "participants_count": totals["people"],
        "recent_poster_ids": recent_poster_ids(topic_id, topic.author_id),
        # Numbers are never handed out twice, so moved-away numbers stay used.
        "highest_post_number": max(topic.highest_post_number, totals["highest"]),
    }
    if last_post:
        updates.update(last_posted_at=last_post.created_at, last_poster_id=last_post.author_id)
    Topic.objects.filter(pk=topic_id).update(**updates)
    replies = (
        Post.objects.filter(reply_to=OuterRef("pk"))
        .order_by()
        .values("reply_to")
        .annotate(n=Count("pk"))
        .values("n")
    )
    posts.update(reply_count=Coalesce(Subquery(replies), 0))
    page_cache.changed(topic_ids=[topic_id])


def _selected_posts(topic: Topic, numbers: Iterable[int]) -> list[Post]:
    wanted = sorted({int(n) for n in numbers})
    if not wanted:
        raise ValidationError({"posts": _("Select at least one post.")})
    posts = list(Post.objects.select_for_update().filter(topic=topic, number__in=wanted).order_by("number"))
    if len(posts) != len(wanted):
        raise ValidationError({"posts": _("Some of the selected posts are not in this topic.")})
    return posts


def _lock_topics(*topic_ids: int) -> dict[int, Topic]:
    locked = {
        t.pk: t for t in Topic.objects.select_for_update().filter(pk__in=sorted(topic_ids)).order_by("pk")
    }
    # Merging, splitting or moving posts never takes a personal message's posts anywhere else.
    if any(topic.is_private_message for topic in locked.values()):
        raise ValidationError({"form": _("Personal messages stay between their participants.")})
    return locked


def merge_topics(moderator, source: Topic, target: Topic, reason: str = "") -> Topic:
    """Move every post of `source` to the end of `target`, then delete `source`. Moderators only.

    Numbers continue after the target's highest; counters are recomputed from the rows; old
    addresses of the source and of each post redirect to their new place.
    """
    permissions.check_moderator(moderator)
    if source.pk == target.pk:
        raise ValidationError({"target": _("Choose another topic to merge into.")})
    with transaction.atomic():
        locked = _lock_topics(source.pk, target.pk)
        source, target = locked[source.pk], locked[target.pk]
        posts = list(Post.objects.select_for_update().filter(topic=source).order_by("number"))
        count = len(posts)
        numbers = _transplant(posts, target, target.highest_post_number + 1)
        Topic.objects.filter(pk=target.pk).update(highest_post_number=target.highest_post_number + count)
        TopicRedirect.objects.filter(topic=source).update(topic=target)
        TopicRedirect.objects.update_or_create(old_topic_id=source.pk, defaults={"topic": target})
        log_action(
            moderator,
            ModerationAction.MERGE,
            topic=target,
            reason=reason,
            details={"from_topic": source.pk, "from_title": source.title, "posts": count, "numbers": numbers},
        )
        forum_live.topic_changed(source.pk, target.pk)  # before the delete forgets source.pk
        try:
            with transaction.atomic():
                source.delete()
        except Exception as error:  # e.g. an event still links the source topic (PROTECT)
            raise ValidationError(
                {"target": _("This topic cannot be removed (an event links it). Merge the other way round.")}
            ) from error
        recount_topic(target.pk)
        # The moved posts now carry the target's title in their search vectors.
        search.index_posts(post_ids=[post.pk for post in posts])
    target.refresh_from_db()
    return target


def split_topic(
    moderator,
    topic: Topic,
    numbers: Iterable[int],
    title: str,
    category: Category | None = None,
    reason: str = "",
) -> Topic:
    """Make a new topic of the selected posts (not the opening post). Moderators only.

    The first selected post opens the new topic; numbering starts at 1 and both topics'
    counters are recomputed. Links to the moved posts redirect to their new place.
    """
    from .services import normalise_title

    permissions.check_moderator(moderator)
    title = normalise_title(title)
    with transaction.atomic():
        topic = _lock_topics(topic.pk)[topic.pk]
        posts = _selected_posts(topic, numbers)
        if posts[0].number == 1:
            raise ValidationError({"posts": _("The opening post stays with its topic; select replies only.")})
        now = timezone.now()
        new_topic = Topic.objects.create(
            category=category or topic.category,
            title=title,
            slug=slugify(title)[:100] or "topic",
            author_id=posts[0].author_id,
            language=topic.language,
            created_at=posts[0].created_at,
            bumped_at=now,
            last_posted_at=posts[-1].created_at,
        )
        numbers_map = _transplant(posts, new_topic, 1)
        search.index_posts(topic_ids=[new_topic.pk])
        recount_topic(new_topic.pk)
        recount_topic(topic.pk)
        log_action(
            moderator,
            ModerationAction.SPLIT,
            topic=topic,
            reason=reason,
            details={"to_topic": new_topic.pk, "to_title": new_topic.title, "numbers": numbers_map},
        )
        forum_live.topic_changed(topic.pk)
    new_topic.refresh_from_db()
    return new_topic


def move_posts(moderator, topic: Topic, numbers: Iterable[int], target: Topic, reason: str = "") -> Topic:
    """Move the selected replies to the end of another topic. Moderators only; exact counters."""
    permissions.check_moderator(moderator)
    if topic.pk == target.pk:
        raise ValidationError({"target": _("Choose another topic to move the posts to.")})
    with transaction.atomic():
        locked = _lock_topics(topic.pk, target.pk)
        topic, target = locked[topic.pk], locked[target.pk]
        posts = _selected_posts(topic, numbers)
        if posts[0].number == 1:
            raise ValidationError({"posts": _("The opening post stays with its topic; select replies only.")})
        numbers_map = _transplant(posts, target, target.highest_post_number + 1)
        Topic.objects.filter(pk=target.pk).update(highest_post_number=target.highest_post_number + len(posts))
        search.index_posts(post_ids=[post.pk for post in posts])
        recount_topic(target.pk)
        recount_topic(topic.pk)
        log_action(
            moderator,
            ModerationAction.MOVE_POSTS,
            topic=topic,
            reason=reason,
            details={"to_topic": target.pk, "to_title": target.title, "numbers": numbers_map},
        )
        forum_live.topic_changed(topic.pk, target.pk)
    target.refresh_from_db()
    return target


def find_redirect(topic_id: int, number: int | None = None) -> str | None:
    """Where an old address now lives: a moved post (when a number is given) or a merged topic."""
    if number is not None:
        redirect = (
            PostRedirect.objects.filter(old_topic_id=topic_id, old_number=number)
            .select_related("post__topic")
            .first()
        )
        return f"{redirect.post.get_absolute_url()}#post-{redirect.post.number}" if redirect else None
    moved = TopicRedirect.objects.filter(old_topic_id=topic_id).select_related("topic").first()
    return moved.topic.get_absolute_url() if moved else None


# --- Highlights and summaries ---------------------------------------------------------------


def highlight_post(moderator, post: Post) -> Highlight:
    """Mark a post as a key contribution (badge + the topic's highlights panel). Moderators only."""
    permissions.check_moderator(moderator)
    if post.state != PostState.VISIBLE:
        raise ValidationError({"form": _("Only a visible post can be highlighted.")})
    with transaction.atomic():
        highlight, created = Highlight.objects.get_or_create(
            post=post, defaults={"topic_id": post.topic_id, "highlighted_by": moderator}
        )
        if created:
            log_action(moderator, ModerationAction.HIGHLIGHT, post=post)
            forum_live.post_edited(post)  # the "key contribution" badge
    return highlight


def unhighlight_post(moderator, post: Post) -> None:
    """Take the key-contribution mark away. Moderators only."""
    permissions.check_moderator(moderator)
    with transaction.atomic():
        deleted, _detail = Highlight.objects.filter(post=post).delete()
        if deleted:
            log_action(moderator, ModerationAction.UNHIGHLIGHT, post=post)
            forum_live.post_edited(post)


def write_summary(moderator, topic: Topic, raw: str) -> TopicSummary:
    """Write or rewrite the topic's summary; each version is kept as a revision. Moderators only."""
    from .services import clean_raw, cook

    permissions.check_moderator(moderator)
    raw = clean_raw(raw)
    now = timezone.now()
    with transaction.atomic():
        summary = TopicSummary.objects.select_for_update().filter(topic=topic).first()
        if summary is None:
            summary = TopicSummary.objects.create(
                topic=topic, raw=raw, cooked=cook(raw), updated_by=moderator, updated_at=now
            )
        elif summary.raw == raw:
            return summary
        else:
            TopicSummary.objects.filter(pk=summary.pk).update(
                raw=raw, cooked=cook(raw), updated_by=moderator, updated_at=now, version=F("version") + 1
            )
            summary.refresh_from_db()
        SummaryRevision.objects.create(
            summary=summary, number=summary.version, raw=raw, editor=moderator, created_at=now
        )
        log_action(moderator, ModerationAction.SUMMARY, topic=topic, details={"version": summary.version})
        page_cache.changed(topic_ids=[topic.pk], lists=False)
    return summary


def topic_panel(topic: Topic) -> dict:
    """What the topic page shows above the posts: the summary and the highlights.

    Two queries, kept in the cache until the topic or the site changes (a summary written, a
    post highlighted or hidden, an author's name: core.page_cache versions).
    """

    def panel() -> dict:
        summary = TopicSummary.objects.filter(topic=topic).select_related("updated_by").first()
        highlights = list(
            Highlight.objects.filter(topic=topic, post__state=PostState.VISIBLE)
            .select_related("post__author__organisation")
            .order_by("post__number")
        )
        return {
            "topic_summary": summary,
            "highlights": highlights,
            "highlighted_numbers": {h.post.number for h in highlights},
        }

    return page_cache.kept(f"topic-panel:{topic.pk}", [page_cache.topic_scope(topic.pk)], panel)


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()
