"""Polls in posts: every write to Poll, PollOption and PollVote, and what a reader sees of them.

The syntax is Discourse's (core/poll_markup.py). ``create_topic``, ``create_reply`` and
``edit_post`` (forum/services.py) call :func:`check_markup` before writing and :func:`store`
inside their transaction, so a post and its polls are saved together.

Voting locks the poll's row (``select_for_update``; SQLite's IMMEDIATE transactions serialise
writers the same way), checks at that moment that the poll is open, and keeps the counters
exact; a unique constraint on (option, person) is the last guard. After commit the topic's
live channel gets ``poll_voted`` or ``poll_status`` (forum/live.py), with ids only.

A post's stored HTML holds each poll as a static block, the same for every reader (it is
cached and shared: forum/fragments.py). :func:`attach` replaces those blocks, per reader and
after the cache, with the form (my vote, can I vote) and the results they may see.
"""

from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import page_cache, poll_markup
from core.markdown import render_inline

from . import live as forum_live
from . import permissions
from .models import ModerationAction, Poll, PollOption, PollStatus, PollType, PollVote, Post, Topic
from .moderation import log_action

# Names shown under each option on a page; the voters page lists everyone.
VOTERS_SHOWN = 10
# Where a post's own text starts in forum/_post_body.html (after the post it answers).
OWN_TEXT = '<div class="post-body"'


# --- Writing ------------------------------------------------------------------------------------


def check_markup(raw: str) -> list[poll_markup.PollSpec]:
    """The polls of a post's text, or a ValidationError on ``raw`` saying what to fix."""
    specs = poll_markup.extract(raw)
    messages = [message for spec in specs for message in spec.errors]
    if messages:
        raise ValidationError({"raw": messages})
    return specs


def _changed_shape(poll: Poll, spec: poll_markup.PollSpec, digests: list[str]) -> bool:
    new = [option_id for option_id, _text in spec.options]
    return poll.type != spec.type or set(digests) != set(new)


def store(post: Post, specs: list[poll_markup.PollSpec], *, editor=None) -> None:
    """Make the post's polls match its text (inside the caller's transaction).

    Polls keep their votes while their options stay the same (wording of the question, results
    or closing time may change). Once people have voted, only a moderator may change a poll's
    options or type, or remove it: votes for options that go are deleted and counts recomputed.
    """
    existing = {poll.name: poll for poll in Poll.objects.filter(post=post).prefetch_related("options")}
    moderator = editor is not None and permissions.is_moderator(editor)
    for position, spec in enumerate(specs):
        fields = {
            "title": spec.title,
            "type": spec.type,
            "results": spec.results,
            "public": spec.public,
            "chart_type": spec.chart_type,
            "close_at": spec.close_at,
            "min": spec.min,
            "max": spec.max,
            "step": spec.step,
            "position": position,
        }
        poll = existing.pop(spec.name, None)
        if poll is None:
            poll = Poll.objects.create(post=post, name=spec.name, status=spec.status, **fields)
            _store_options(poll, spec, {})
            continue
        options = {option.digest: option for option in poll.options.all()}
        if poll.voters_count and _changed_shape(poll, spec, list(options)):
            if not moderator:
                raise ValidationError(
                    {
                        "raw": _(
                            "People have voted in poll “%(name)s”: its options and type can no longer "
                            "change (a moderator can)."
                        )
                        % {"name": poll.name}
                    }
                )
            if poll.type != spec.type:
                PollVote.objects.filter(poll=poll).delete()
        Poll.objects.filter(pk=poll.pk).update(**fields)
        _store_options(poll, spec, options)
    for poll in existing.values():
        if poll.voters_count and not moderator:
            raise ValidationError(
                {
                    "raw": _("People have voted in poll “%(name)s”: only a moderator can remove it.")
                    % {"name": poll.name}
                }
            )
        poll.delete()


def _store_options(poll: Poll, spec: poll_markup.PollSpec, existing: dict[str, PollOption]) -> None:
    wanted = {option_id: (position, text) for position, (option_id, text) in enumerate(spec.options)}
    gone = [digest for digest in existing if digest not in wanted]
    if gone:
        PollOption.objects.filter(poll=poll, digest__in=gone).delete()
    new = []
    for digest, (position, text) in wanted.items():
        html = render_inline(text)
        option = existing.get(digest)
        if option is None:
            new.append(PollOption(poll=poll, digest=digest, text=text, html=html, position=position))
        elif option.position != position or option.html != html:
            PollOption.objects.filter(pk=option.pk).update(position=position, html=html, text=text)
    PollOption.objects.bulk_create(new)
    if gone or new:
        _recount(poll)


def _recount(poll: Poll) -> None:
    for option in PollOption.objects.filter(poll=poll):
        PollOption.objects.filter(pk=option.pk).update(votes_count=option.votes.count())
    voters = PollVote.objects.filter(poll=poll).values("user").distinct().count()
    Poll.objects.filter(pk=poll.pk).update(voters_count=voters)


def _locked(poll: Poll) -> Poll:
    return (
        Poll.objects.select_for_update(of=("self",)).select_related("post__topic__category").get(pk=poll.pk)
    )


def _choice_error(poll: Poll, chosen: set[str], options: dict[str, PollOption]) -> str | None:
    if not chosen:
        return _("Choose an option before voting.")
    if not chosen <= set(options):
        return _("That option is not in this poll any more: reload the page.")
    if poll.type != PollType.MULTIPLE:
        return None if len(chosen) == 1 else _("Choose one option.")
    if not poll.min <= len(chosen) <= poll.max:
        if poll.min == poll.max:
            return ngettext("Choose %(count)d option.", "Choose %(count)d options.", poll.min) % {
                "count": poll.min
            }
        return _("Choose between %(min)d and %(max)d options.") % {"min": poll.min, "max": poll.max}
    return None


def vote(user, poll: Poll, option_ids) -> list[str]:
    """Vote, or change one's vote, in an open poll. Callers: anyone ``permissions.can_vote`` allows.

    Returns the chosen option ids. Each person counts once, whatever arrives at the same time:
    the poll row is locked while their votes and the counters change. After commit: the
    topic's live channel gets ``poll_voted`` and anonymous copies of the topic page are dropped.
    """
    chosen = {str(option_id) for option_id in option_ids if option_id}
    with transaction.atomic():
        locked = _locked(poll)
        permissions.check_vote(user, locked)
        options = {option.digest: option for option in PollOption.objects.filter(poll=locked)}
        error = _choice_error(locked, chosen, options)
        if error:
            raise ValidationError({"options": error})
        previous = set(
            PollVote.objects.filter(poll=locked, user=user).values_list("option__digest", flat=True)
        )
        if previous == chosen:
            return sorted(chosen, key=lambda digest: options[digest].position)
        removed, added = previous - chosen, chosen - previous
        if removed:
            PollVote.objects.filter(poll=locked, user=user, option__digest__in=removed).delete()
            PollOption.objects.filter(poll=locked, digest__in=removed).update(
                votes_count=F("votes_count") - 1
            )
        PollVote.objects.bulk_create(
            PollVote(poll=locked, option=options[digest], user=user) for digest in added
        )
        PollOption.objects.filter(poll=locked, digest__in=added).update(votes_count=F("votes_count") + 1)
        if not previous:
            Poll.objects.filter(pk=locked.pk).update(voters_count=F("voters_count") + 1)
        forum_live.poll_voted(locked)
    return sorted(chosen, key=lambda digest: options[digest].position)


def withdraw_vote(user, poll: Poll) -> None:
    """Take one's vote back while the poll is open. Same guarantees and live event as :func:`vote`."""
    with transaction.atomic():
        locked = _locked(poll)
        permissions.check_vote(user, locked)
        digests = list(
            PollVote.objects.filter(poll=locked, user=user).values_list("option__digest", flat=True)
        )
        if not digests:
            return
        PollVote.objects.filter(poll=locked, user=user).delete()
        PollOption.objects.filter(poll=locked, digest__in=digests).update(votes_count=F("votes_count") - 1)
        Poll.objects.filter(pk=locked.pk).update(voters_count=F("voters_count") - 1)
        forum_live.poll_voted(locked)


def set_poll_status(poll: Poll, status: str, *, by) -> Poll:
    """Close or reopen a poll. Moderators; logged. Reopening a poll whose closing time has passed
    clears that time. After commit: ``poll_status`` on the topic's channel."""
    if not permissions.can_toggle_poll(by, poll):
        raise PermissionDenied(_("Only moderators can close or reopen a poll."))
    if status not in PollStatus.values:
        raise ValidationError({"status": _("A poll is open or closed.")})
    with transaction.atomic():
        locked = _locked(poll)
        updates: dict = {"status": status}
        if status == PollStatus.OPEN and locked.close_at and locked.close_at <= timezone.now():
            updates["close_at"] = None
        Poll.objects.filter(pk=locked.pk).update(**updates)
        action = ModerationAction.POLL_CLOSE if status == PollStatus.CLOSED else ModerationAction.POLL_OPEN
        log_action(by, action, post=locked.post, details={"poll": locked.name})
        forum_live.poll_status(locked)
    poll.refresh_from_db()
    return poll


# --- Reading ------------------------------------------------------------------------------------


def has_polls(post: Post) -> bool:
    """Whether a post's HTML holds a poll block (no query)."""
    return 'data-poll-name="' in (getattr(post, "html", None) or post.cooked)


def poll_urls(poll: Poll, post: Post, topic: Topic) -> dict[str, str]:
    args = [post.pk, poll.name]
    return {
        "vote": reverse("forum:poll_vote", args=args),
        "withdraw": reverse("forum:poll_withdraw", args=args),
        "status": reverse("forum:poll_status", args=args),
        "block": reverse("forum:poll_block", args=args),
        "voters": reverse("forum:poll_voters", args=args),
        "present": reverse("forum:poll_present", args=[topic.slug or "topic", topic.pk, poll.name])
        + f"?post={post.number}",
    }


def load(
    user, posts: list[Post] | None = None, *, topics: list[Topic] | None = None
) -> dict[int, list[Poll]]:
    """The polls of these posts (or of the visible posts of these topics, with their posts) as
    this reader sees them, three queries at most whatever their number: options with counts and
    percentages, the reader's own choices, and the first voters of public polls whose results
    they may see."""
    if posts is not None:
        if not posts:
            return {}
        options = PollOption.objects.filter(poll__post_id__in=[post.pk for post in posts]).select_related(
            "poll"
        )
    else:
        options = PollOption.objects.filter(
            poll__post__topic_id__in=[topic.pk for topic in topics or []], poll__post__state="visible"
        ).select_related("poll__post")
    polls: dict[int, Poll] = {}
    for option in options.order_by("poll__position", "position"):
        poll = polls.setdefault(option.poll_id, option.poll)
        poll.option_list = [*getattr(poll, "option_list", []), option]
    mine: dict[int, set[int]] = defaultdict(set)
    if user.is_authenticated and polls:
        for poll_id, option_id in PollVote.objects.filter(user=user, poll_id__in=list(polls)).values_list(
            "poll_id", "option_id"
        ):
            mine[poll_id].add(option_id)
    by_post = {post.pk: post for post in posts or []}
    by_topic = {topic.pk: topic for topic in topics or []}
    now = timezone.now()
    public = []
    for poll in polls.values():
        poll.post = by_post.get(poll.post_id) or poll.post
        if poll.post.topic_id in by_topic:
            poll.post.topic = by_topic[poll.post.topic_id]
        poll.closed = poll.is_closed(now)
        poll.my_options = mine.get(poll.pk, set())
        poll.voted = bool(poll.my_options)
        poll.show_results = permissions.can_see_poll_results(user, poll, voted=poll.voted, now=now)
        poll.block_reason = permissions.poll_vote_block_reason(user, poll, now)
        poll.may_vote = poll.block_reason is None
        poll.may_toggle = permissions.can_toggle_poll(user, poll)
        total = sum(option.votes_count for option in poll.option_list)
        for option in poll.option_list:
            option.chosen = option.pk in poll.my_options
            option.percent = round(100 * option.votes_count / total) if total else 0
            option.voters = []
        if poll.type == PollType.NUMBER and total:
            poll.average = sum(int(o.text) * o.votes_count for o in poll.option_list) / total
        if poll.public and poll.show_results and poll.voters_count:
            public.append(poll)
    if public:
        _attach_voters(public)
    found: dict[int, list[Poll]] = defaultdict(list)
    for poll in sorted(polls.values(), key=lambda poll: poll.position):
        found[poll.post_id].append(poll)
    return found


def _attach_voters(polls: list[Poll]) -> None:
    """The first VOTERS_SHOWN voters of each option, with their organisation (one query)."""
    rows = (
        PollVote.objects.filter(poll__in=polls)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("option_id")], order_by=[F("created_at"), F("pk")])
        )
        .filter(rank__lte=VOTERS_SHOWN)
        .select_related("user__organisation")
        .order_by("option_id", "rank")
    )
    options = {option.pk: option for poll in polls for option in poll.option_list}
    for vote_row in rows:
        options[vote_row.option_id].voters.append(vote_row.user)


def voters(poll: Poll, option: PollOption | None = None):
    """Who voted (shown for public polls), with their organisation and choice, oldest vote first."""
    rows = PollVote.objects.filter(poll=poll).select_related("user__organisation", "option")
    if option is not None:
        rows = rows.filter(option=option)
    return rows.order_by("created_at", "pk")


def labels() -> dict[str, str]:
    """The poll partial's words, translated once per page."""
    return {
        "vote": _("Vote"),
        "change": _("Change my vote"),
        "withdraw": _("Withdraw my vote"),
        "close": _("Close the poll"),
        "reopen": _("Reopen the poll"),
        "present": _("Presenter view"),
        "closed": _("Closed"),
        "public": _("Public poll: everyone can see who voted for what."),
        "results": _("Results"),
        "hidden_on_vote": _("Vote to see the results."),
        "hidden_on_close": _("Results show when the poll closes."),
        "hidden_staff": _("Only moderators see the results."),
        "all_voters": _("All voters"),
        "your_vote": _("your vote"),
        "average": _("Average"),
    }


def prepare(poll: Poll, topic: Topic) -> Poll:
    """What the templates print besides the counts: addresses, the question, the voter count."""
    poll.urls = poll_urls(poll, poll.post, topic)
    poll.title_html = mark_safe(render_inline(poll.title)) if poll.title else ""
    poll.voters_label = ngettext("%(count)d voter", "%(count)d voters", poll.voters_count) % {
        "count": poll.voters_count
    }
    return poll


def render_poll(request, poll: Poll, topic: Topic, ui: dict | None = None, *, error: str = "") -> str:
    prepare(poll, topic)
    # Lazy: a reader who gets no form (anonymous) gets no CSRF cookie, so the page stays cacheable.
    token = SimpleLazyObject(lambda: get_token(request))
    context = {
        "poll": poll,
        "poll_ui": ui or labels(),
        "error": error,
        "csrf_token": token,
        "user": request.user,
    }
    return render_to_string("forum/_poll.html", context)


def attach(request, topic: Topic, posts: list[Post]) -> None:
    """Put each visible post's polls, as this reader sees them, in place of the static blocks of
    its shared ``body_html`` (after forum/fragments.attach). No query for posts without polls."""
    with_polls = [post for post in posts if post.state == "visible" and has_polls(post)]
    if not with_polls:
        return
    found = load(request.user, with_polls)
    ui = labels()
    now = timezone.now()
    for post in with_polls:
        polls = {poll.name: poll for poll in found.get(post.pk, [])}
        for poll in polls.values():
            if poll.close_at and poll.close_at > now:
                page_cache.valid_until(request, poll.close_at)  # the anonymous copy closes with it

        def replace(match, polls=polls):
            poll = polls.get(match.group("name"))
            return render_poll(request, poll, topic, ui) if poll else match.group(0)

        # Only in the post's own text: the post it answers (shown above it) keeps its static block.
        body = str(post.body_html)
        start = body.find(OWN_TEXT)
        head, own = (body[:start], body[start:]) if start >= 0 else ("", body)
        post.body_html = mark_safe(head + poll_markup.BLOCK_HTML_RE.sub(replace, own))


def blocks_for_topics(request, topics: list[Topic]) -> list[str]:
    """Every poll in the visible posts of these topics, as this reader sees it, newest post first
    (the event's live page): one query when there is none, three at most otherwise."""
    by_id = {topic.pk: topic for topic in topics}
    if not by_id:
        return []
    found = load(request.user, topics=topics)
    ui = labels()
    polls = sorted(
        (poll for post_polls in found.values() for poll in post_polls),
        key=lambda poll: (-poll.post.created_at.timestamp(), -poll.post_id, poll.position),
    )
    return [mark_safe(render_poll(request, poll, by_id[poll.post.topic_id], ui)) for poll in polls]


def polls_of_topics(topic_ids) -> list[Poll]:
    """Every poll in visible posts of these topics, oldest post first (the events control room and digest)."""
    return list(
        Poll.objects.filter(post__topic_id__in=list(topic_ids), post__state="visible")
        .select_related("post__topic")
        .prefetch_related("options")
        .order_by("post__topic_id", "post__number", "position")
    )


def participation(since=None) -> dict[str, int]:
    """For /insights/: polls, votes cast and distinct voters (since a moment, or ever)."""
    votes = PollVote.objects.all()
    polls = Poll.objects.all()
    if since is not None:
        votes = votes.filter(created_at__gte=since)
        polls = polls.filter(created_at__gte=since)
    return {
        "polls": polls.count(),
        "votes": votes.count(),
        "voters": votes.values("user").distinct().count(),
    }


def find(post_id: int, name: str) -> Poll:
    """The poll, with its post, topic and category, or Poll.DoesNotExist."""
    return Poll.objects.select_related("post__topic__category", "post__author").get(
        post_id=post_id, name=name
    )
