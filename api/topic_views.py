"""More of a topic and its posts, in Discourse's shapes (issue 20): /unread.json, /filter.json,
/c/<slug>.json, a post's replies, revisions and raw text, the topic bookmark, timer and
removal. Reads through forum.permissions and forum.reading, writes through forum.services,
with the pages' checks.
"""

import difflib
from datetime import timedelta

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import escape
from django.utils.translation import gettext as _

from forum import permissions, reading, services
from forum.models import Bookmark, Category, PinScope, Post, Topic, TopicStatus

from . import serializers
from .http import ApiError, Params, api_view, bad_parameter, error_response, json_response
from .views import (
    POST_RELATED,
    _forbidden,
    _parse_until,
    _readable_post,
    _readable_topic,
    _serialize_posts,
    _topic_list,
    category_topics,
    topic,
)

# --- Lists ----------------------------------------------------------------------------------


@api_view()
def unread(request):
    """/unread.json: topics with posts the person has not read (empty without a person)."""
    if not request.user.is_authenticated:
        return _topic_list(request, Topic.objects.none(), "/unread")
    marker = reading.all_read_at(request.user)
    queryset = reading.unread_topics(request.user, marker).order_by("-bumped_at", "-pk")
    return _topic_list(request, queryset, "/unread")


@api_view()
def category_by_slug(request, slug: str):
    """/c/<slug>.json: the category's topics, as /c/<slug>/<id>.json (/c/<id>.json by its id)."""
    if slug.isdigit() and len(slug) < 10:
        return category_topics(request, category_id=int(slug))
    category = get_object_or_404(Category, slug=slug)
    return category_topics(request, category_id=category.pk, slug=slug)


# Discourse's /filter `order:` values and our columns.
FILTER_ORDERS = {
    "activity": "bumped_at",
    "latest-post": "last_posted_at",
    "created": "created_at",
    "likes": "likes_count",
    "posts": "posts_count",
    "views": "views_count",
    "posters": "participants_count",
}
FILTER_STATUSES = ("open", "closed", "archived", "pinned", "listed", "unlisted")


def _filter_date(value: str):
    day = parse_date(value)
    if day is None:
        raise bad_parameter(_("Dates in filters are written as 2026-05-17."))
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day))


def apply_filter(queryset, user, query: str):
    """Discourse's /filter language, the part that maps to this forum: `category:slug`,
    `tag:a,b` (any) / `tags:a+b` (all), `status:open|closed|archived|pinned|listed|unlisted`,
    `created-by:username`, `before:`/`after:` (last post), `created-before:`/`created-after:`,
    `in:bookmarked|watching`, `order:activity|latest-post|created|likes|posts|views|posters`
    (with `-asc`). Free words search titles."""
    order = "-bumped_at"
    words = []
    for term in query.split():
        name, _sep, value = term.partition(":")
        if not value:
            words.append(term)
            continue
        name = name.lower()
        if name == "category":
            slugs = [slug for slug in value.split(",") if slug]
            queryset = queryset.filter(category__slug__in=slugs) | queryset.filter(
                category__parent__slug__in=slugs
            )
        elif name in ("tag", "tags"):
            if "+" in value:
                for tag in value.split("+"):
                    queryset = queryset.filter(tags__name=tag)
            else:
                queryset = queryset.filter(tags__name__in=value.split(",")).distinct()
        elif name == "status":
            queryset = _filter_status(queryset, value)
        elif name == "created-by":
            queryset = queryset.filter(author__username__iexact=value.lstrip("@"))
        elif name == "before":
            queryset = queryset.filter(last_posted_at__lt=_filter_date(value))
        elif name == "after":
            queryset = queryset.filter(last_posted_at__gte=_filter_date(value))
        elif name == "created-before":
            queryset = queryset.filter(created_at__lt=_filter_date(value))
        elif name == "created-after":
            queryset = queryset.filter(created_at__gte=_filter_date(value))
        elif name == "in" and value in ("bookmarked", "watching"):
            if not user.is_authenticated:
                return queryset.none(), order
            if value == "bookmarked":
                queryset = queryset.filter(posts__bookmarks__user=user).distinct()
            else:
                queryset = queryset.filter(watches__user=user, watches__level="watching")
        elif name == "order":
            ascending = value.endswith("-asc")
            column = FILTER_ORDERS.get(value.removesuffix("-asc"))
            if column is None:
                raise bad_parameter(
                    _("order must be one of: %(orders)s.") % {"orders": ", ".join(FILTER_ORDERS)}
                )
            order = column if ascending else f"-{column}"
        else:
            words.append(term)  # as Discourse does, what it does not know is left to the words
    for word in words:
        queryset = queryset.filter(title__icontains=word)
    return queryset, order


def _filter_status(queryset, value: str):
    if value not in FILTER_STATUSES:
        raise bad_parameter(
            _("status must be one of: %(statuses)s.") % {"statuses": ", ".join(FILTER_STATUSES)}
        )
    if value == "open":
        # A scheduled topic whose opening time has passed is open (Topic.effective_status).
        return queryset.filter(
            Q(status=TopicStatus.OPEN) | Q(status=TopicStatus.SCHEDULED, opens_at__lte=timezone.now())
        )
    if value == "closed":
        return queryset.filter(status__in=[TopicStatus.CLOSED, TopicStatus.ARCHIVED])
    if value == "archived":
        return queryset.filter(status=TopicStatus.ARCHIVED)
    if value == "pinned":
        return queryset.exclude(pin_scope=PinScope.NONE)
    return queryset.filter(unlisted=value == "unlisted")


@api_view()
def filter_topics(request):
    """/filter.json?q=category:housing status:open order:created: a topic list."""
    query = Params(request).get_text("q", default="") or ""
    queryset, order = apply_filter(permissions.visible_topics(request.user), request.user, query)
    return _topic_list(request, queryset.order_by(order, "-pk"), "/filter")


# --- A post's replies, revisions, raw text --------------------------------------------------


@api_view()
def post_replies(request, post_id: int):
    """/posts/<id>/replies.json: the direct replies to a post, in order (as the page expands them)."""
    post = _readable_post(request, pk=post_id)
    replies = list(post.replies.select_related(*POST_RELATED).order_by("number")[:50])
    return json_response(_serialize_posts(request, post.topic, replies))


def _diff_html(before: str, after: str) -> str:
    rows = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        tag = {"+": "ins", "-": "del"}.get(line[:1])
        rows.append(f"<{tag}>{escape(line[1:])}</{tag}>" if tag else f"<span>{escape(line)}</span>")
    return "<div class='diff'>" + "<br>".join(rows) + "</div>"


@api_view()
def post_revision(request, post_id: int, revision: str):
    """/posts/<id>/revisions/<n>.json (n from 2, the post's version after that edit) or
    /revisions/latest.json: what changed, by whom; for those who may read the post's text."""
    post = _readable_post(request, pk=post_id)
    if not permissions.can_see_post_text(request.user, post):
        raise ApiError(_forbidden(_("This post is not shown.")))
    revisions = list(post.revisions.select_related("editor__organisation").order_by("number"))
    if not revisions:
        raise ApiError(error_response([_("This post has not been edited.")], "not_found", 404))
    if revision == "latest":
        chosen = revisions[-1]
    else:
        number = int(revision) - 1 if revision.isdigit() and len(revision) < 10 else 0
        chosen = next((row for row in revisions if row.number == number), None)
        if chosen is None:
            raise ApiError(error_response([_("There is no such revision.")], "not_found", 404))
    current = chosen.number + 1
    last = revisions[-1].number + 1
    editor = chosen.editor
    title_changes = None
    if chosen.title_before != chosen.title_after:
        before, after = escape(chosen.title_before), escape(chosen.title_after)
        title_changes = {"inline": f"<div><del>{before}</del> <ins>{after}</ins></div>"}
    return json_response(
        {
            "created_at": chosen.created_at,
            "post_id": post.pk,
            "previous_hidden": False,
            "current_hidden": False,
            "first_revision": 2,
            "previous_revision": current - 1 if current > 2 else None,
            "current_revision": current,
            "next_revision": current + 1 if current < last else None,
            "last_revision": last,
            "current_version": current,
            "version_count": last,
            "username": editor.username,
            "display_username": editor.name,
            "avatar_template": serializers.avatar_template(editor),
            "edit_reason": None,
            "body_changes": {
                "inline": _diff_html(chosen.raw_before, chosen.raw_after),
                "side_by_side": _diff_html(chosen.raw_before, chosen.raw_after),
                "side_by_side_markdown": _diff_html(chosen.raw_before, chosen.raw_after),
            },
            "title_changes": title_changes,
            "user_changes": None,
            "tags_changes": None,
            "category_id_changes": None,
            "wiki": False,
            "can_edit": permissions.can_edit_post(request.user, post),
            # Ours: the text before and after, whole.
            "raw_before": chosen.raw_before,
            "raw_after": chosen.raw_after,
        }
    )


@api_view()
def raw_post(request, topic_id: int, post_number: int = 1):
    """/raw/<topic_id>/<post_number>: the post's Markdown as text/plain (post 1 without a number)."""
    post = _readable_post(request, topic_id=topic_id, number=post_number)
    if not permissions.can_see_post_text(request.user, post):
        raise ApiError(_forbidden(_("This post is not shown.")))
    return HttpResponse(post.raw, content_type="text/plain; charset=utf-8")


# --- Writes on a topic ----------------------------------------------------------------------


@api_view(("PUT",))
def bookmark_topic(request, topic_id: int):
    """PUT /t/<id>/bookmark.json: bookmark the topic (its first post), as the post's bookmark
    button does; a topic already bookmarked stays so."""
    topic = _readable_topic(request, topic_id)
    first = topic.posts.get(number=1)
    first.topic = topic
    if not Bookmark.objects.filter(user=request.user, post=first).exists():
        services.toggle_bookmark(request.user, first)
    return json_response({"success": "OK"})


@api_view(("PUT", "DELETE"))
def remove_topic_bookmarks(request, topic_id: int):
    """PUT /t/<id>/remove_bookmarks.json: take back one's bookmarks of the topic's posts."""
    topic = _readable_topic(request, topic_id)
    for post in Post.objects.filter(topic=topic, bookmarks__user=request.user).select_related("topic"):
        services.toggle_bookmark(request.user, post)
    return json_response({"success": "OK"})


def _timer_time(value) -> timezone.datetime | None:
    """Discourse's `time`: a date/time, or a number of hours from now; empty removes the timer."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        hours = float(text)
    except ValueError:
        return _parse_until(text)
    if not 0 < hours < 24 * 366 * 5:
        raise bad_parameter(_("time must be a date and time, or a number of hours from now."))
    return timezone.now() + timedelta(hours=hours)


@api_view(("POST",))
def topic_timer(request, topic_id: int):
    """POST /t/<id>/timer.json, moderators: `status_type=open` with `time` keeps the topic closed
    to replies until then (the forum's scheduled opening); without `time`, it opens now.
    Other timer types (close, delete, bump, reminder...) are not part of this forum."""
    topic = _readable_topic(request, topic_id)
    permissions.check_moderator(request.user)
    params = Params(request)
    status_type = params.get_text("status_type", default="open") or "open"
    if status_type != "open":
        raise bad_parameter(_("Only status_type=open (a scheduled opening) is supported."))
    when = _timer_time(params.get("time"))
    if when is None:
        if topic.status == TopicStatus.SCHEDULED:
            services.open_topic(topic, by=request.user)
        topic.refresh_from_db()
        return json_response(
            {
                "success": "OK",
                "execute_at": None,
                "duration": None,
                "based_on_last_post": False,
                "closed": topic.status != TopicStatus.OPEN,
                "category_id": None,
            }
        )
    if when <= timezone.now():
        raise bad_parameter(_("time must be in the future."))
    services.schedule_topic(topic, when, by=request.user)
    return json_response(
        {
            "success": "OK",
            "execute_at": when,
            "duration": None,
            "based_on_last_post": False,
            "closed": True,
            "category_id": None,
        }
    )


@api_view(("DELETE",))
def delete_topic(request, topic_id: int):
    """DELETE /t/<id>.json, moderators: the forum never erases a discussion; the topic is
    unlisted and closed (both in the moderation log, both reversible with /t/<id>/status)."""
    topic = _readable_topic(request, topic_id)
    if not permissions.is_moderator(request.user):
        raise ApiError(
            _forbidden(
                _(
                    "Only moderators can remove a topic. To take back your own post, "
                    "withdraw it (DELETE /posts/<id>)."
                )
            )
        )
    if not topic.unlisted:
        services.unlist_topic(topic, by=request.user)
    if topic.effective_status() not in (TopicStatus.CLOSED, TopicStatus.ARCHIVED):
        services.close_topic(topic, by=request.user)
    return json_response({"success": "OK"})


@api_view(("GET", "PUT", "DELETE"))
def topic_by_id(request, topic_id: int):
    """/t/<id>.json: DELETE here; reading and updating stay with views.topic."""
    if request.method == "DELETE":
        return delete_topic(request, topic_id)
    return topic(request, topic_id)
