"""Moderation pages: flagging, the review queue, the moderation log, people's restrictions,
topic surgery, highlights, summaries and the digest. Thin: writes go through forum.services.
"""

import csv
import re

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import moderator_required
from accounts.models import VerificationRequest

from . import moderation, permissions, services, views
from .models import (
    Category,
    Flag,
    FlagReason,
    ModerationAction,
    ModerationLogEntry,
    ReviewItem,
    ReviewKind,
    ReviewState,
    SummaryRevision,
    Topic,
    TopicSummary,
)

LOG_PER_PAGE = 50
REVIEW_PER_PAGE = 20
CATEGORY_DIGEST_TOPICS = 200  # questions in one category digest; a shorter period shows the rest


def _errors(error: ValidationError) -> list[str]:
    return [message for messages_ in views._validation_messages(error).values() for message in messages_]


# --- Old addresses after a merge, split or move ---------------------------------------------


def topic(request, slug: str, topic_id: int, post_number: int | None = None):
    """The forum's topic page, except that addresses of merged topics and moved posts redirect."""
    if post_number is not None and (target := moderation.find_redirect(topic_id, post_number)):
        return redirect(target, permanent=True)
    try:
        return views.topic(request, slug, topic_id, post_number)
    except Http404:
        if target := moderation.find_redirect(topic_id):
            return redirect(target, permanent=True)
        raise


# --- Flags ----------------------------------------------------------------------------------


def flag(request, post_id: int):
    """A page to flag a post (no JavaScript needed): the reason, and an optional note."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    post = views._post_for(request, post_id)
    if not moderation.can_flag(request.user, post):
        raise PermissionDenied(_("You cannot flag this post."))
    already = moderation.has_flagged(request.user, post)
    errors: list[str] = []
    form = {"reason": request.POST.get("reason", ""), "message": request.POST.get("message", "")}
    status = 200
    if request.method == "POST" and not already:
        try:
            services.flag_post(request.user, post, form["reason"], form["message"])
        except ValidationError as error:
            errors = _errors(error)
            status = 400
        else:
            messages.success(request, _("Thank you. The moderators will look at this post."))
            return redirect(views._back_to(post))
    context = {
        "post": post,
        "topic": post.topic,
        "already": already,
        "reasons": FlagReason.choices,
        "form": form,
        "errors": errors,
        "threshold": moderation.flag_threshold(),
    }
    return render(request, "forum/moderation/flag.html", context, status=status)


# --- The review queue -----------------------------------------------------------------------


@moderator_required
def review_queue(request):
    """Flagged posts, posts held for approval, and the verification requests waiting."""
    kind = request.GET.get("kind")
    items = (
        moderation.pending_reviews()
        .select_related("post__topic", "post__author__organisation", "claimed_by")
        .prefetch_related(
            Prefetch("flags", queryset=Flag.objects.select_related("flagger").order_by("created_at"))
        )
        .order_by("created_at", "pk")
    )
    if kind in ReviewKind.values:
        items = items.filter(kind=kind)
    page = Paginator(items, REVIEW_PER_PAGE).get_page(request.GET.get("page"))
    verification_requests = list(
        VerificationRequest.objects.filter(state=VerificationRequest.State.PENDING)
        .select_related("user", "organisation")
        .order_by("created_at")[:5]
    )
    context = {
        "page": page,
        "kind": kind,
        "kinds": ReviewKind.choices,
        "verification_requests": verification_requests,
        "verification_count": VerificationRequest.objects.filter(
            state=VerificationRequest.State.PENDING
        ).count(),
        "threshold": moderation.flag_threshold(),
    }
    return render(request, "forum/moderation/review.html", context)


@require_POST
@moderator_required
def review_act(request, item_id: int):
    item = get_object_or_404(ReviewItem.objects.select_related("post__topic", "claimed_by"), pk=item_id)
    action = request.POST.get("action")
    decisions = {
        "agree": ReviewState.AGREED,
        "disagree": ReviewState.DISAGREED,
        "ignore": ReviewState.IGNORED,
    }
    try:
        if action == "claim":
            services.claim_review(request.user, item)
            messages.success(request, _("You have claimed this item; other moderators see it is yours."))
        elif action == "release":
            services.release_review(request.user, item)
            messages.success(request, _("The item is back in the queue for any moderator."))
        elif action in decisions:
            services.resolve_review(request.user, item, decisions[action], request.POST.get("reason", ""))
            messages.success(request, _("Done. The action is in the moderation log."))
        else:
            return HttpResponse(status=400)
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
    return redirect(views._safe_next(request, reverse("forum:review")))


# --- The moderation log ---------------------------------------------------------------------


def _log_entries(request):
    """The log filtered by ?action=, ?actor= (username), ?target= (words), ?since= and ?until= (dates).

    Staff see all of it; a moderator sees the actions on topics of the categories they moderate
    and on people, not the verification decisions (forum.permissions.moderated_categories)."""
    entries = ModerationLogEntry.objects.select_related("actor", "topic", "post", "target_user")
    categories = permissions.moderated_categories(request.user)
    if categories is not None:
        entries = entries.exclude(action__in=permissions.STAFF_ONLY_LOG_ACTIONS).filter(
            Q(topic__isnull=True) | Q(topic__category__in=categories)
        )
    filters = {
        "action": request.GET.get("action", ""),
        "actor": request.GET.get("actor", "").strip(),
        "target": request.GET.get("target", "").strip(),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
    }
    if filters["action"] in ModerationAction.values:
        entries = entries.filter(action=filters["action"])
    if filters["actor"]:
        entries = entries.filter(actor__username=filters["actor"])
    if filters["target"]:
        entries = entries.filter(target_label__icontains=filters["target"])
    if since := parse_date(filters["since"] or ""):
        entries = entries.filter(created_at__date__gte=since)
    if until := parse_date(filters["until"] or ""):
        entries = entries.filter(created_at__date__lte=until)
    return entries.order_by("-created_at", "-pk"), filters


def _log_actions(user) -> list[tuple[str, str]]:
    if permissions.moderated_categories(user) is None:
        return ModerationAction.choices
    return [
        choice for choice in ModerationAction.choices if choice[0] not in permissions.STAFF_ONLY_LOG_ACTIONS
    ]


@moderator_required
def moderation_log(request):
    entries, filters = _log_entries(request)
    page = Paginator(entries, LOG_PER_PAGE).get_page(request.GET.get("page"))
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "actions": _log_actions(request.user),
        "querystring": querystring,
    }
    return render(request, "forum/moderation/log.html", context)


class _Echo:
    def write(self, value):
        return value


@moderator_required
def moderation_log_csv(request):
    entries, _filters = _log_entries(request)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(
            ["time (UTC)", "actor", "action", "target", "topic id", "post number", "person", "reason"]
        )
        for entry in entries.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    entry.created_at.isoformat(),
                    entry.actor.username if entry.actor else "system",
                    entry.action,
                    _csv_safe(entry.target_label),
                    entry.topic_id or "",
                    entry.post.number if entry.post else "",
                    entry.target_user.username if entry.target_user else "",
                    _csv_safe(entry.reason),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="moderation-log.csv"'
    return response


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; a leading quote keeps them text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


# --- People: silence and suspension ---------------------------------------------------------


def _parse_until(value: str):
    when = views._parse_when(value)
    if when is None:
        raise ValidationError({"until": _("Give the date and time the restriction ends.")})
    return when


@moderator_required
def person(request, username: str):
    """A person's standing: silence or suspend them with a reason, or end a restriction."""
    person = get_object_or_404(get_user_model().objects.select_related("organisation"), username=username)
    errors: list[str] = []
    form = {"until": request.POST.get("until", ""), "reason": request.POST.get("reason", "")}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "silence":
                services.silence_user(request.user, person, _parse_until(form["until"]), form["reason"])
            elif action == "suspend":
                services.suspend_user(request.user, person, _parse_until(form["until"]), form["reason"])
            elif action == "unsilence":
                services.unsilence_user(request.user, person)
            elif action == "unsuspend":
                services.unsuspend_user(request.user, person)
            else:
                return HttpResponse(status=400)
        except ValidationError as error:
            errors = _errors(error)
            status = 400
        else:
            messages.success(request, _("Done. The action is in the moderation log."))
            return redirect("forum:person", username=person.username)
    recent = list(
        ModerationLogEntry.objects.filter(target_user=person)
        .select_related("actor")
        .order_by("-created_at")[:20]
    )
    context = {
        "person": person,
        "form": form,
        "errors": errors,
        "recent": recent,
        "is_silenced": person.silenced_until and person.silenced_until > timezone.now(),
        "is_suspended": person.suspended_until and person.suspended_until > timezone.now(),
    }
    return render(request, "forum/moderation/person.html", context, status=status)


# --- Topic surgery --------------------------------------------------------------------------


NUMBER_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_numbers(text: str) -> list[int]:
    """'4, 6-8' -> [4, 6, 7, 8]; a clear error on anything else (at most 500 posts at once)."""
    numbers: list[int] = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = NUMBER_RANGE.match(part)
        if not match:
            raise ValidationError({"posts": _("Write post numbers such as 4, 6-8.")})
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first or last - first > 500:
            raise ValidationError({"posts": _("Write post numbers such as 4, 6-8.")})
        numbers.extend(range(first, last + 1))
    if len(numbers) > 500:
        raise ValidationError({"posts": _("Move at most 500 posts at once.")})
    return numbers


def _target_topic(value: str) -> Topic:
    """A topic given by its number or its address (/t/slug/123)."""
    match = re.search(r"(?:/t/[^/]+/)?(\d+)", value or "")
    topic = Topic.objects.filter(pk=int(match[1])).first() if match else None
    if topic is None:
        raise ValidationError({"target": _("Give the address or the number of an existing topic.")})
    return topic


@moderator_required
def surgery(request, topic_id: int):
    """Merge this topic into another, split posts into a new topic, or move posts to another topic."""
    topic = get_object_or_404(Topic.objects.select_related("category"), pk=topic_id)
    form = {
        key: request.POST.get(key, "") for key in ("action", "posts", "target", "title", "category", "reason")
    }
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            action = form["action"]
            if action == "merge":
                result = services.merge_topics(
                    request.user, topic, _target_topic(form["target"]), form["reason"]
                )
                messages.success(request, _("The topics are merged."))
            elif action == "split":
                category = Category.objects.filter(pk=views._int(form["category"])).first()
                result = services.split_topic(
                    request.user, topic, parse_numbers(form["posts"]), form["title"], category, form["reason"]
                )
                messages.success(request, _("The posts are now a topic of their own."))
            elif action == "move":
                result = services.move_posts(
                    request.user,
                    topic,
                    parse_numbers(form["posts"]),
                    _target_topic(form["target"]),
                    form["reason"],
                )
                messages.success(request, _("The posts are moved."))
            else:
                return HttpResponse(status=400)
        except ValidationError as error:
            errors = _errors(error)
            status = 400
        else:
            return redirect(result.get_absolute_url())
    posts = list(
        topic.posts.filter(number__gt=1)
        .select_related("author")
        .order_by("number")
        .only("number", "raw", "author__username", "author__display_name", "state", "topic_id")[:200]
    )
    context = {
        "topic": topic,
        "posts": posts,
        "form": form,
        "errors": errors,
        "categories": list(Category.objects.all()),
    }
    return render(request, "forum/moderation/surgery.html", context, status=status)


# --- Highlights and summaries ---------------------------------------------------------------


@require_POST
@moderator_required
def highlight(request, post_id: int):
    post = views._post_for(request, post_id)
    try:
        if hasattr(post, "highlight"):
            services.unhighlight_post(request.user, post)
            messages.success(request, _("The post is no longer highlighted."))
        else:
            services.highlight_post(request.user, post)
            messages.success(request, _("The post is highlighted as a key contribution."))
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
    return redirect(views._back_to(post))


@moderator_required
def summary(request, topic_id: int):
    topic = get_object_or_404(Topic, pk=topic_id)
    current = TopicSummary.objects.filter(topic=topic).first()
    raw = request.POST.get("raw") if request.method == "POST" else (current.raw if current else "")
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        try:
            services.write_summary(request.user, topic, raw)
        except ValidationError as error:
            errors = _errors(error)
            status = 400
        else:
            messages.success(request, _("The summary is saved."))
            return redirect(topic.get_absolute_url())
    revisions = (
        list(SummaryRevision.objects.filter(summary=current).select_related("editor").order_by("-number"))
        if current
        else []
    )
    context = {"topic": topic, "raw": raw, "errors": errors, "summary": current, "revisions": revisions}
    return render(request, "forum/moderation/summary.html", context, status=status)


# --- Digest ---------------------------------------------------------------------------------


def digest(request, slug: str, topic_id: int, markdown: bool = False):
    """Who said what: the question, then its highlighted contributions (or all replies)."""
    try:
        topic = views._readable_topic(request, topic_id)
    except views._LoginNeeded:
        return redirect_to_login(request.get_full_path())
    if slug != topic.slug:
        return redirect(
            reverse("forum:digest_md" if markdown else "forum:digest", args=[topic.slug, topic.pk])
        )
    from . import digest as digest_module

    section = digest_module.topic_section(topic, request.GET.get("replies"))
    context = {
        "title": topic.localized_title,
        "sections": [section],
        "choice": section.choice,
        "topic": topic,
    }
    if markdown:
        response = HttpResponse(
            digest_module.as_markdown(context), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = f'inline; filename="{topic.slug}-digest.md"'
        return response
    return render(request, "forum/moderation/digest.html", context)


def digest_md(request, slug: str, topic_id: int):
    return digest(request, slug, topic_id, markdown=True)


def category_digest(request, slug: str, category_id: int, markdown: bool = False):
    """Who said what in a category (and its sub-categories) over a period of days.

    Readers of the category may open it; a category they may not read does not exist for them.
    """
    from . import digest as digest_module

    category = get_object_or_404(Category.objects.select_related("parent"), pk=category_id)
    if not permissions.can_read_category(request.user, category):
        raise Http404(_("No such category."))
    if slug != category.slug:
        url = reverse(
            "forum:category_digest_md" if markdown else "forum:category_digest",
            args=[category.slug, category.pk],
        )
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    zone = digest_module.reader_zone(request.user)
    typed = {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
    period = digest_module.period(typed["from"], typed["to"], zone, timezone.now().astimezone(zone).date())
    choice = request.GET.get("replies", "")
    choice = choice if choice in digest_module.CHOICES else ""
    sections, more = [], False
    if not period.errors:
        topics = digest_module.category_topics(
            request.user, category, period.start, period.end, CATEGORY_DIGEST_TOPICS + 1
        )
        more = len(topics) > CATEGORY_DIGEST_TOPICS
        sections = [
            section
            for section in digest_module.sections(
                topics[:CATEGORY_DIGEST_TOPICS], choice or None, period.start, period.end
            )
            if section.contributions
        ]
    subtitle = ""
    if not period.errors:
        subtitle = _("From %(first)s to %(last)s inclusive (%(zone)s).") % {
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "zone": zone.key,
        }
    context = {
        "title": category.localized_name,
        "subtitle": subtitle,
        "sections": sections,
        "choice": choice,
        "category": category,
        "typed": typed,
        "period": period,
        "zone_name": zone.key,
        "errors": period.errors,
        "more": more,
        "max_topics": CATEGORY_DIGEST_TOPICS,
        "default_days": digest_module.DEFAULT_RANGE_DAYS,
        "empty": _("No contributions in this period."),
        "querystring": request.GET.urlencode(),
    }
    status = 400 if period.errors else 200
    if markdown:
        if period.errors:
            return HttpResponse(
                "\n".join(period.errors) + "\n", status=400, content_type="text/plain; charset=utf-8"
            )
        response = HttpResponse(
            digest_module.as_markdown(context), content_type="text/markdown; charset=utf-8"
        )
        name = f"{category.slug}-{period.first.isoformat()}-{period.last.isoformat()}-digest.md"
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response
    return render(request, "forum/moderation/digest.html", context, status=status)


def category_digest_md(request, slug: str, category_id: int):
    return category_digest(request, slug, category_id, markdown=True)


# --- Insights (staff: everything; moderators: the categories they moderate) ------------------


@moderator_required
def insights(request):
    from . import insights as figures

    categories = permissions.moderated_categories(request.user)
    data = figures.insights(request.GET.get("since"), request.GET.get("until"), categories)
    data["scoped"] = categories is not None
    data["points"] = figures.map_points(data["points"])
    data["outline"] = figures.world_outline()
    data["map_width"], data["map_height"] = figures.MAP_WIDTH, figures.MAP_HEIGHT
    data["querystring"] = request.GET.urlencode()
    return render(request, "forum/moderation/insights.html", data)


@moderator_required
def insights_csv(request):
    from . import insights as figures

    categories = permissions.moderated_categories(request.user)
    data = figures.insights(request.GET.get("since"), request.GET.get("until"), categories)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="insights-{data["start"]}-{data["end"]}.csv"'
    writer = csv.writer(response)
    writer.writerow(["section", "label", "value", "value 2"])
    for key, value in data["headline"].items():
        writer.writerow(["totals", key, value, ""])
    for table in data["tables"]:
        for row in table.rows:
            writer.writerow([table.key, _csv_safe(str(row[0])), *row[1:], *([""] * (3 - len(row)))])
    return response


@moderator_required
def tag_names(request, name: str):
    """A tag's display name in each language (its slug, in URLs, stays as it is)."""
    from taggit.models import Tag

    from .models import FORUM_LANGUAGES, TagLabel

    tag = get_object_or_404(Tag, name=name)
    label = TagLabel.objects.filter(tag=tag).first()
    if request.method == "POST":
        services.set_tag_names(
            tag,
            {language: request.POST.get(f"name_{language}", "") for language in FORUM_LANGUAGES},
            by=request.user,
        )
        messages.success(request, _("The names of #%(tag)s are saved.") % {"tag": tag.name})
        return redirect("forum:tag_names", name=tag.name)
    names = {
        language: getattr(label, f"name_{language}", "") if label else "" for language in FORUM_LANGUAGES
    }
    fields = [
        ("en", _("Name in English"), names["en"]),
        ("es", _("Name in Spanish"), names["es"]),
        ("fr", _("Name in French"), names["fr"]),
    ]
    return render(request, "forum/moderation/tag_names.html", {"tag": tag, "fields": fields})
