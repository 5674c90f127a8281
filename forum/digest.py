"""The digest ("who said what"): each question, then its contributions as quotations with the
author's name, position and organisation, as a printable page or as Markdown.

Read-only. ``sections`` builds the digest of any set of topics (one topic, an event's linked
questions, a category over a date range) in at most three queries, whatever the number of topics
and posts; at most MAX_CONTRIBUTIONS per question. The files the contributions show are listed
under each question ("Attachments: strategy.pdf by ...").
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from . import permissions
from .models import Category, Highlight, PollOption, PollType, Post, PostState, Topic

MAX_CONTRIBUTIONS = 500
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
CHOICES = ("highlighted", "all")


@dataclass
class Contribution:
    post: Post
    name: str
    position: str
    organisation: str
    html: str
    text: str


@dataclass
class Attachment:
    name: str
    url: str
    contribution: Contribution


@dataclass
class PollResult:
    """A poll's question and results as everyone may see them (its ``results`` setting)."""

    title: str
    closed: bool
    voters: int
    shown: bool
    options: list[tuple[str, str, int, int]] = field(default_factory=list)  # html, text, votes, %
    average: float | None = None


@dataclass
class Section:
    topic: Topic
    question: str
    choice: str  # "highlighted" or "all"
    contributions: list[Contribution] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    polls: list[PollResult] = field(default_factory=list)


def _contribution(post: Post) -> Contribution:
    author = post.author
    organisation = author.organisation.display_name if author.organisation_id else ""
    return Contribution(
        post=post,
        name=author.name,
        position=author.position,
        organisation=organisation,
        html=post.localized_cooked,
        text=post.raw,
    )


def _first_per_topic(queryset, order):
    """At most MAX_CONTRIBUTIONS rows per topic, in one query (a window over each topic)."""
    return queryset.annotate(rank=Window(RowNumber(), partition_by=[F("topic_id")], order_by=order)).filter(
        rank__lte=MAX_CONTRIBUTIONS
    )


def sections(
    topics: list[Topic],
    choice: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Section]:
    """One section a topic, in the order given: its highlighted contributions, or all its replies.

    ``choice`` "highlighted" or "all" applies to every topic; otherwise each topic shows its
    highlighted contributions when it has any, else all its replies. ``start`` (inclusive) and
    ``end`` (exclusive) keep only posts written in that period. Each section also carries the
    polls of its topic with their results (:func:`poll_results`). Three queries at most.
    """
    if not topics:
        return []
    by_pk = {topic.pk: topic for topic in topics}
    period = {}
    if start is not None:
        period["created_at__gte"] = start
    if end is not None:
        period["created_at__lt"] = end
    highlighted: dict[int, list[Post]] = {pk: [] for pk in by_pk}
    if choice != "all":
        rows = _first_per_topic(
            Highlight.objects.filter(
                topic__in=list(by_pk),
                post__state=PostState.VISIBLE,
                **{f"post__{key}": value for key, value in period.items()},
            ).select_related("post__author__organisation"),
            [F("post__number").asc()],
        ).order_by("topic_id", "post__number")
        for row in rows:
            highlighted[row.topic_id].append(row.post)
    chosen = {
        pk: choice if choice in CHOICES else ("highlighted" if highlighted[pk] else "all") for pk in by_pk
    }
    replies: dict[int, list[Post]] = {pk: [] for pk in by_pk}
    wanting_all = [pk for pk, value in chosen.items() if value == "all"]
    if wanting_all:
        rows = _first_per_topic(
            Post.objects.filter(
                topic__in=wanting_all, state=PostState.VISIBLE, number__gt=1, **period
            ).select_related("author__organisation"),
            [F("number").asc()],
        ).order_by("topic_id", "number")
        for post in rows:
            replies[post.topic_id].append(post)
    polls = poll_results(list(by_pk))
    result = []
    for topic in topics:
        posts = highlighted[topic.pk] if chosen[topic.pk] == "highlighted" else replies[topic.pk]
        for post in posts:
            post.topic = topic
        result.append(
            Section(
                topic=topic,
                question=topic.localized_title,
                choice=chosen[topic.pk],
                contributions=[_contribution(post) for post in posts],
                polls=polls.get(topic.pk, []),
            )
        )
    _attach_files(result)
    return result


def _attach_files(result: list[Section]) -> None:
    """The files each section's contributions show, in one query."""
    from . import uploads
    from .upload_models import PostUpload

    by_post = {item.post.pk: item for section in result for item in section.contributions}
    if not by_post:
        return
    rows = (
        PostUpload.objects.filter(post_id__in=list(by_post), upload__removed_at__isnull=True)
        .select_related("upload")
        .order_by("post_id", "upload_id")
    )
    files: dict[int, list] = {}
    for row in rows:
        files.setdefault(row.post_id, []).append(row.upload)
    for section in result:
        for item in section.contributions:
            for upload in files.get(item.post.pk, []):
                section.attachments.append(Attachment(upload.original_filename, uploads.url(upload), item))


def poll_results(topic_ids: list[int]) -> dict[int, list[PollResult]]:
    """The polls of these topics' visible posts, in post order, with the results everyone may see
    (a poll whose results show only to voters or moderators, or only once closed, says so). One query."""
    from django.contrib.auth.models import AnonymousUser

    options = (
        PollOption.objects.filter(poll__post__topic_id__in=topic_ids, poll__post__state=PostState.VISIBLE)
        .select_related("poll__post")
        .order_by("poll__post__number", "poll__position", "position")
    )
    found: dict[int, list[PollResult]] = {}
    current = {}
    everyone = AnonymousUser()
    for option in options:
        poll = option.poll
        if poll.pk not in current:
            shown = permissions.can_see_poll_results(everyone, poll, voted=False)
            current[poll.pk] = PollResult(
                title=poll.title, closed=poll.is_closed(), voters=poll.voters_count, shown=shown
            )
            current[poll.pk].poll_type = poll.type
            found.setdefault(poll.post.topic_id, []).append(current[poll.pk])
        current[poll.pk].options.append((option.html, option.text, option.votes_count, 0))
    for result in current.values():
        total = sum(votes for _html, _text, votes, _percent in result.options)
        result.options = [
            (html, text, votes, round(100 * votes / total) if total else 0)
            for html, text, votes, _p in result.options
        ]
        if result.poll_type == PollType.NUMBER and total:
            result.average = sum(int(text) * votes for _h, text, votes, _p in result.options) / total
        if not result.shown:
            result.options = [(html, text, 0, 0) for html, text, _votes, _percent in result.options]
    return found


def category_topics(user, category: Category, start: datetime, end: datetime, limit: int) -> list[Topic]:
    """The questions of a category and its sub-categories that `user` may read and that have a
    contribution (a reply, or a highlighted post) written in [start, end), oldest first."""
    children = permissions.visible_categories(user).filter(parent=category).values("pk")
    contributed = Post.objects.filter(
        Q(number__gt=1) | Q(highlight__isnull=False),
        topic=OuterRef("pk"),
        state=PostState.VISIBLE,
        created_at__gte=start,
        created_at__lt=end,
    )
    return list(
        permissions.visible_topics(user)
        .filter(Q(category=category) | Q(category__in=children))
        .filter(Exists(contributed))
        .select_related("category")
        .order_by("created_at", "pk")[:limit]
    )


def topic_section(topic: Topic, choice: str | None = None) -> Section:
    """One question and its contributions: highlighted ones by default when there are any."""
    return sections([topic], choice)[0]


def topic_sections(topics: list[Topic], choice: str | None = None) -> list[Section]:
    return sections(topics, choice)


# --- A period of days (a category's digest) --------------------------------------------------


@dataclass
class Period:
    """Days from `first` to `last` inclusive, in `zone`; `start`/`end` bound created_at."""

    first: date | None
    last: date | None
    zone: zoneinfo.ZoneInfo
    errors: list[str] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)


def reader_zone(user) -> zoneinfo.ZoneInfo:
    name = getattr(user, "time_zone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _day(text: str, label: str, errors: list[str]) -> date | None:
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        errors.append(
            _("“%(value)s” is not a date for “%(field)s”: write it as YYYY-MM-DD, for example 2026-03-31.")
            % {"value": text, "field": label}
        )
    return day


def period(since: str, until: str, zone: zoneinfo.ZoneInfo, today: date) -> Period:
    """The days asked for (both inclusive); the last DEFAULT_RANGE_DAYS days up to today by default."""
    since, until = since.strip(), until.strip()
    errors: list[str] = []
    last = _day(until, _("To"), errors) if until else today
    first = _day(since, _("From"), errors) if since else None
    if first is None and not since and last is not None:
        first = last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if not errors:
        if first > last:
            errors.append(_("The first day comes after the last day: swap them, or choose other dates."))
        elif (last - first).days + 1 > MAX_RANGE_DAYS:
            errors.append(
                _("That is %(days)s days; a digest covers at most %(max)s days. Choose a shorter period.")
                % {"days": (last - first).days + 1, "max": MAX_RANGE_DAYS}
            )
    return Period(first=first, last=last, zone=zone, errors=errors)


# --- Markdown --------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines())


def _poll_markdown(poll: PollResult) -> list[str]:
    from django.utils.translation import ngettext

    voters = ngettext("%(count)d voter", "%(count)d voters", poll.voters) % {"count": poll.voters}
    state = _("closed") if poll.closed else _("open, results so far")
    lines = [f"**{_('Poll')}: {poll.title or _('Poll')}** ({voters}, {state})", ""]
    if poll.shown:
        lines += [f"- {text}: {votes} ({percent}%)" for _html, text, votes, percent in poll.options]
        if poll.average is not None:
            lines.append(f"- {_('Average')}: {poll.average:.1f}")
    else:
        lines += [f"- {text}" for _html, text, _votes, _percent in poll.options]
        lines.append(f"_{_('The results are not public.')}_")
    return [*lines, ""]


def as_markdown(context: dict) -> str:
    """The digest as Markdown: '# title', then '## question' and quoted contributions."""
    lines = [f"# {context['title']}", "", f"*{_('Who said what')}*", ""]
    if context.get("subtitle"):
        lines += [context["subtitle"], ""]
    for section in context["sections"]:
        lines += [f"## {section.question}", ""]
        if not section.contributions:
            lines += [f"_{_('No contributions yet.')}_", ""]
        for poll in section.polls:
            lines += _poll_markdown(poll)
        for item in section.contributions:
            credit = ", ".join(part for part in (item.position, item.organisation) if part)
            lines += [f"**{item.name}**" + (f" — {credit}" if credit else ""), "", _quote(item.text), ""]
        if section.attachments:
            site = settings.SITE_URL.rstrip("/")
            files = "; ".join(
                f"[{file.name}]({site}{file.url}) " + _("by %(name)s") % {"name": file.contribution.name}
                for file in section.attachments
            )
            lines += [f"**{_('Attachments:')}** {files}", ""]
    if not context["sections"] and context.get("empty"):
        lines += [f"_{context['empty']}_", ""]
    return "\n".join(lines).rstrip() + "\n"
