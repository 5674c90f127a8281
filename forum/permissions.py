"""Who may do what in the forum: can_x(user, obj) -> bool, check_x raising PermissionDenied,
and queryset filters that match them.

Time-dependent rules (scheduled topics) compare with the clock at request time,
so a topic opens the moment opens_at passes with no worker running.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import permissions as accounts_permissions
from core import page_cache, timezones
from groups import permissions as group_permissions

from .models import (
    Archetype,
    Category,
    MessageParticipant,
    Post,
    PostState,
    ReadAccess,
    StartAccess,
    Topic,
    TopicStatus,
)

# --- Fallbacks until the accounts branch lands ----------------------------------------------
# accounts.permissions.posting_block_reason and accounts.decorators.moderator_required are being
# written in parallel. These stand in for them; switch both names here once accounts has them
# (templates: forum/_cannot_post.html -> accounts/_cannot_post.html).
VERIFICATION_URL = "/verification/"


def posting_block_reason(user) -> str | None:
    """Why this person may not write anything at all, in words for them; None when they may."""
    accounts_reason = getattr(accounts_permissions, "posting_block_reason", None)
    if accounts_reason is not None:
        return accounts_reason(user)
    if not user.is_authenticated:
        return _("Sign in to take part in the discussion.")
    if accounts_permissions.is_suspended(user):
        return _("Your account is suspended until %(date)s.") % {
            "date": date_format(timezone.localtime(user.suspended_until), "DATETIME_FORMAT")
        }
    if accounts_permissions.is_silenced(user):
        return _("A moderator has paused your posting until %(date)s.") % {
            "date": date_format(timezone.localtime(user.silenced_until), "DATETIME_FORMAT")
        }
    if not accounts_permissions.can_participate(user):
        return _("Only verified officials can post. Ask to be verified as an official to join in.")
    return None


def is_moderator(user) -> bool:
    return accounts_permissions.is_moderator(user)


def check_moderator(user) -> None:
    if not is_moderator(user):
        raise PermissionDenied(_("Only moderators can do this."))


# --- Reading --------------------------------------------------------------------------------


def readable_access_levels(user) -> list[str]:
    levels = [ReadAccess.EVERYONE]
    if user.is_authenticated and not accounts_permissions.is_suspended(user):
        levels.append(ReadAccess.SIGNED_IN)
        if accounts_permissions.is_verified(user) or accounts_permissions.is_moderator(user):
            levels.append(ReadAccess.VERIFIED)
    return levels


def visible_categories(user) -> QuerySet[Category]:
    categories = Category.objects.filter(read_access__in=readable_access_levels(user))
    if (hidden := _outside_groups(user, "")) is not None:
        categories = categories.exclude(hidden)
    return categories


# --- Categories restricted to groups (forum.models.CategoryGroup) ----------------------------
# Membership is tested inside the lists' own query (groups.permissions.member_groups as a
# subquery), only for categories with `group_restricted`: no query of its own on a page, and a
# change of membership shows at once. Staff see every category.


def _outside_groups(user, prefix: str) -> Q | None:
    """A filter matching the restricted categories (at `prefix`, "" or "category__") that this
    person is in none of the groups of; None for staff, who see them all."""
    if accounts_permissions.is_staff(user):
        return None
    restricted = Q(**{f"{prefix}group_restricted": True})
    if not user.is_authenticated:
        return restricted
    from .models import CategoryGroup

    mine = CategoryGroup.objects.filter(
        category=OuterRef("category_id" if prefix else "pk"), group__in=group_permissions.member_groups(user)
    )
    return restricted & ~Q(Exists(mine))


def _group_permissions(user, category: Category) -> set[str]:
    """What this person's groups allow in a restricted category ("read", "post"): one query per
    category and request."""
    if not user.is_authenticated:
        return set()
    known = user.__dict__.setdefault("_group_categories", {})
    if category.pk not in known:
        from .models import CategoryGroup

        known[category.pk] = set(
            CategoryGroup.objects.filter(
                category=category, group__in=group_permissions.member_groups(user)
            ).values_list("permission", flat=True)
        )
    return known[category.pk]


def group_post_block_reason(user, category: Category) -> str | None:
    """In a category restricted to groups, only the members of its posting groups write."""
    if not category.group_restricted or accounts_permissions.is_staff(user):
        return None
    if "post" in _group_permissions(user, category):
        return None
    return _("Only the members of this category's groups can post here.")


def top_categories(user) -> list[Category]:
    """The top-level categories this person may read, in order (every list page shows them).

    Kept in the cache per set of access levels, and per set of groups while some category is
    restricted to groups, until the site changes (every category write moves it on:
    services.create_category, services.restrict_category, the admin).
    """
    audience = ",".join(readable_access_levels(user))
    if accounts_permissions.is_staff(user):
        audience += ":all"  # staff see the restricted categories too
    elif user.is_authenticated and _some_category_restricted():
        audience += ":" + _group_ids_key(user)
    return page_cache.kept(
        f"top-categories:{audience}",
        [],
        lambda: list(visible_categories(user).filter(parent__isnull=True)),
    )


def _group_ids_key(user) -> str:
    """The person's groups, as a key: kept until they change (a membership, their organisation or
    verification move their reader version on; a group's automatic rule moves the site's)."""
    return page_cache.kept(
        f"group-ids:{user.pk}",
        [page_cache.reader_scope(user.pk)],
        lambda: ",".join(str(pk) for pk in sorted(group_permissions.group_ids_of(user))),
    )


def _some_category_restricted() -> bool:
    return page_cache.kept(
        "some-category-restricted", [], lambda: Category.objects.filter(group_restricted=True).exists()
    )


def moderated_categories(user) -> QuerySet[Category] | None:
    """The categories whose figures and moderation log this person sees: None for staff (all of it,
    with verification decisions), else the categories a moderator can read. Moderators are not
    assigned to categories: a moderator moderates every category open to them."""
    if accounts_permissions.is_staff(user):
        return None
    return visible_categories(user)


# Verification decisions (accounts) in the moderation log are for staff only.
STAFF_ONLY_LOG_ACTIONS = ("verify", "decline_verification", "revoke")


def readable_topics(user) -> QuerySet[Topic]:
    """Every topic this person may open by its link (the same rule as can_read), listed or not."""
    topics = Topic.objects.filter(
        category__read_access__in=readable_access_levels(user), archetype=Archetype.REGULAR
    )
    if (hidden := _outside_groups(user, "category__")) is not None:
        topics = topics.exclude(hidden)
    return topics


def visible_topics(user) -> QuerySet[Topic]:
    """Topics this person may read, as lists, feeds and search show them.

    Unlisted topics stay out for all but moderators, as in Discourse ("visible: false"); so does a
    topic whose opening post is hidden (held for a moderator's approval, or hidden after flags),
    for all but its author and moderators. Both still open by their link (can_read).
    """
    topics = readable_topics(user)
    if is_moderator(user):
        return topics
    topics = topics.filter(unlisted=False)
    opening_hidden = Exists(Post.objects.filter(topic=OuterRef("pk"), number=1, state=PostState.HIDDEN))
    if user.is_authenticated:
        return topics.exclude(Q(opening_hidden) & ~Q(author=user))
    return topics.exclude(opening_hidden)


def can_read_category(user, category: Category) -> bool:
    if category.read_access not in readable_access_levels(user):
        return False
    if category.group_restricted and not accounts_permissions.is_staff(user):
        return bool(_group_permissions(user, category))
    return True


def can_read(user, topic: Topic) -> bool:
    if topic.is_private_message:
        return is_message_participant(user, topic)
    return can_read_category(user, topic.category)


def check_read(user, topic: Topic) -> None:
    if not can_read(user, topic):
        raise PermissionDenied(_("This topic is only open to some members."))


def can_see_post_text(user, post: Post) -> bool:
    """Withdrawn and hidden posts leave a placeholder; their authors and moderators still see the text."""
    if post.state == PostState.VISIBLE:
        return True
    return user.is_authenticated and (user.pk == post.author_id or is_moderator(user))


# --- Personal messages ---------------------------------------------------------------------
# A message is readable by its participants only: not by moderators (they read one flagged post,
# logged, forum/messages.py), not by staff. Its category has read access PARTICIPANTS, which no
# reader level includes, so readable_topics / visible_topics and every list, feed, search, digest
# and insight built on them leave messages out without a rule of their own.


def is_message_participant(user, topic: Topic) -> bool:
    """One query per person and message, remembered on the topic for the rest of the request."""
    if not user.is_authenticated or accounts_permissions.is_suspended(user):
        return False
    known = topic.__dict__.setdefault("_participants_checked", {})
    if user.pk not in known:
        known[user.pk] = MessageParticipant.objects.filter(topic=topic, user=user).exists()
    return known[user.pk]


def not_found_if_message(topic: Topic) -> None:
    """For someone who may not read it, a message does not exist: 404, not 403."""
    if topic.is_private_message:
        from django.http import Http404

        raise Http404


def can_start_message(user) -> bool:
    """Verified officials and moderators who may post at all."""
    return user.is_authenticated and posting_block_reason(user) is None


def message_block_reason(sender, recipient) -> str | None:
    """Why `sender` may not start a message with `recipient` (or add them to one); None when they may."""
    from .models import MessagePreference

    if not recipient.is_active or accounts_permissions.is_suspended(recipient):
        return _("%(name)s cannot receive messages.") % {"name": recipient.username}
    if recipient.pk == sender.pk:
        return _("You cannot send a message to yourself.")
    if is_moderator(sender):
        return None
    if MessagePreference.objects.filter(user=recipient, refuse_messages=True).exists():
        return _("%(name)s does not accept personal messages.") % {"name": recipient.username}
    return None


def message_reply_block_reason(user, topic: Topic) -> str | None:
    """Participants who may post answer; a member not yet verified may answer a message that a
    moderator started (about their verification, say)."""
    if not is_message_participant(user, topic):
        return _("This message is only open to its participants.")
    reason = posting_block_reason(user)
    if reason is None:
        return None
    if accounts_permissions.is_silenced(user) or not is_moderator(topic.author):
        return reason
    return None


# --- Writing --------------------------------------------------------------------------------


def can_start_topic(user, category: Category) -> bool:
    if posting_block_reason(user) is not None or not can_read_category(user, category):
        return False
    if group_post_block_reason(user, category):
        return False
    return category.start_access == StartAccess.VERIFIED or is_moderator(user)


def check_start_topic(user, category: Category) -> None:
    if not can_start_topic(user, category):
        raise PermissionDenied(
            posting_block_reason(user)
            or group_post_block_reason(user, category)
            or _("Only moderators can start topics in this category.")
        )


def reply_block_reason(user, topic: Topic, now=None) -> str | None:
    """Why this person cannot reply to this topic now; None when they can."""
    if topic.is_private_message:
        reason = message_reply_block_reason(user, topic)
    else:
        reason = (
            posting_block_reason(user)
            or (None if can_read(user, topic) else _("This topic is only open to some members."))
            or group_post_block_reason(user, topic.category)
        )
    if reason:
        return reason
    if topic.status == TopicStatus.ARCHIVED:
        return _("This topic is archived: it is kept for reading only.")
    if topic.status == TopicStatus.CLOSED and not is_moderator(user):
        return _("This topic is closed to new replies.")
    if topic.is_scheduled_now(now) and not (is_moderator(user) or is_invited(user, topic)):
        if topic.opens_at:
            # "on Dec. 5, 2026, 8:58 a.m. (Europe/Madrid)." in the reader's zone: one full stop.
            return _("This topic opens for replies on %(date)s.") % {
                "date": timezones.format_moment(topic.opens_at, timezones.reader_zone(user))
            }
        return _("This topic is not open for replies yet.")
    return None


def is_invited(user, topic: Topic) -> bool:
    return user.is_authenticated and topic.invited_posters.filter(pk=user.pk).exists()


def can_reply(user, topic: Topic, now=None) -> bool:
    return reply_block_reason(user, topic, now) is None


def check_reply(user, topic: Topic, now=None) -> None:
    reason = reply_block_reason(user, topic, now)
    if reason:
        raise PermissionDenied(reason)


def can_edit_post(user, post: Post) -> bool:
    if is_moderator(user):
        return True
    return (
        user.is_authenticated
        and post.author_id == user.pk
        and post.state == PostState.VISIBLE
        and post.topic.status != TopicStatus.ARCHIVED
        and posting_block_reason(user) is None
    )


def check_edit_post(user, post: Post) -> None:
    if not can_edit_post(user, post):
        raise PermissionDenied(_("You cannot edit this post."))


def can_withdraw_post(user, post: Post) -> bool:
    return (
        user.is_authenticated
        and post.state == PostState.VISIBLE
        and (post.author_id == user.pk or is_moderator(user))
    )


def check_withdraw_post(user, post: Post) -> None:
    if not can_withdraw_post(user, post):
        raise PermissionDenied(_("You cannot withdraw this post."))


def can_like(user, post: Post) -> bool:
    return (
        posting_block_reason(user) is None
        and post.state == PostState.VISIBLE
        and post.author_id != user.pk
        and can_read(user, post.topic)
    )


def check_like(user, post: Post) -> None:
    if not can_like(user, post):
        raise PermissionDenied(_("You cannot like this post."))


def can_bookmark(user, post: Post) -> bool:
    return user.is_authenticated and can_read(user, post.topic)


def check_bookmark(user, post: Post) -> None:
    if not can_bookmark(user, post):
        raise PermissionDenied(_("Sign in to bookmark posts."))


def can_create_tags(user) -> bool:
    return is_moderator(user)


def _fallback_moderator_required(view):
    """Signed in and a moderator; stands in for accounts.decorators.moderator_required (adds MFA)."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        check_moderator(request.user)
        return view(request, *args, **kwargs)

    return wrapped


try:  # the accounts branch brings the real gate (moderator + MFA enrolled)
    from accounts.decorators import moderator_required
except ImportError:  # pragma: no cover - until accounts is merged
    moderator_required = _fallback_moderator_required


# --- Polls (forum/polls.py) -------------------------------------------------------------------
# Verified officials and moderators vote; members too when settings.POLLS_MEMBERS_MAY_VOTE.
# A poll past its closing time is closed at request time, with no worker running.


def poll_vote_block_reason(user, poll, now=None) -> str | None:
    """Why this person may not vote in this poll now, in words for them; None when they may."""
    from django.conf import settings

    post = poll.post
    if poll.is_closed(now):
        return _("This poll is closed.")
    if not user.is_authenticated:
        return _("Sign in to vote.")
    if accounts_permissions.is_suspended(user) or accounts_permissions.is_silenced(user):
        return posting_block_reason(user)
    members_vote = settings.POLLS_MEMBERS_MAY_VOTE
    if not (members_vote or accounts_permissions.can_participate(user)):
        return _("Only verified officials can vote. Ask to be verified as an official to take part.")
    if post.state != PostState.VISIBLE or not can_read(user, post.topic):
        return _("You cannot vote in this poll.")
    if post.topic.status == TopicStatus.ARCHIVED:
        return _("This topic is archived: its polls take no more votes.")
    return None


def can_vote(user, poll, now=None) -> bool:
    return poll_vote_block_reason(user, poll, now) is None


def check_vote(user, poll, now=None) -> None:
    reason = poll_vote_block_reason(user, poll, now)
    if reason is not None:
        raise PermissionDenied(reason)


def can_see_poll_results(user, poll, *, voted: bool, now=None) -> bool:
    """Discourse's ``results`` setting; moderators always see them (the control room, the projector)."""
    from .models import PollResults

    if is_moderator(user) or poll.results == PollResults.ALWAYS:
        return True
    if poll.results == PollResults.ON_VOTE:
        return voted or poll.is_closed(now)
    if poll.results == PollResults.ON_CLOSE:
        return poll.is_closed(now)
    return False


def can_toggle_poll(user, poll) -> bool:
    """Close or reopen a poll: moderators (logged)."""
    return is_moderator(user)
