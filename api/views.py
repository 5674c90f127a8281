"""The Discourse-compatible JSON API. Thin: reads through forum.reading and forum.permissions,
writes through forum.services, with the same checks as the pages.
"""

import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from taggit.models import TaggedItem

from accounts import permissions as accounts_permissions
from core import clean
from core.rate_limits import RateLimited
from forum import moderation, permissions, reading, services
from forum.models import Category, FlagReason, Like, PinScope, Post, PostState, Topic, current_language

from . import poll_views, serializers, site_views
from .http import (
    JSON_CONTENT_TYPE,
    ApiError,
    Params,
    api_view,
    bad_parameter,
    error_response,
    json_response,
    too_many_requests,
    validation_errors,
)

LIST_RELATED = ("author__organisation", "last_poster__organisation", "category")
POST_RELATED = (*reading.POST_RELATED, "topic__category")
LATEST_POSTS_LIMIT = 50
# Discourse's suggested topics under a topic: the latest others of its category.
SUGGESTED_TOPICS = 5
EXCERPT_LENGTH = 220
# Discourse's periods for /top.json, and ours as short names too.
TOP_PERIODS = {
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
    "monthly": timedelta(days=31),
    "quarterly": timedelta(days=92),
    "yearly": timedelta(days=366),
    "all": None,
}


# --- Topic lists ----------------------------------------------------------------------------


# Far beyond any list's end, and small enough that page x per_page stays a valid OFFSET.
MAX_PAGE = 1_000_000


def _page_number(request) -> int:
    # Discourse numbers list pages from 0; a negative page is the first.
    value = request.GET.get("page", "0").strip() or "0"
    page = clean.bounded_int(value, minimum=-clean.MAX_DB_INT, maximum=MAX_PAGE)
    if page is None:
        raise bad_parameter(_("page must be a whole number from 0 to %(max)d.") % {"max": MAX_PAGE})
    return max(0, page)


# Discourse's `order` for topic lists and our columns; `ascending=true` turns it round.
LIST_ORDERS = {
    "created": "created_at",
    "activity": "bumped_at",
    "posts": "posts_count",
    "views": "views_count",
    "likes": "likes_count",
    "posters": "participants_count",
}
MAX_PER_PAGE = 100


def _per_page(request) -> int:
    """`per_page` (1 to 100), as Discourse's lists take it; 30 by default."""
    value = request.GET.get("per_page", "").strip()
    if not value:
        return reading.TOPICS_PER_PAGE
    number = clean.bounded_int(value, minimum=1, maximum=MAX_PER_PAGE)
    if number is None:
        raise bad_parameter(_("per_page must be a whole number from 1 to %(max)d.") % {"max": MAX_PER_PAGE})
    return number


def _list_order(request, queryset):
    """The list in the `order` asked for (pins then count for nothing), else as it comes."""
    order = request.GET.get("order", "").strip()
    if not order or order == "default":
        return queryset
    if order not in LIST_ORDERS:
        raise bad_parameter(_("order must be one of: %(orders)s.") % {"orders": ", ".join(LIST_ORDERS)})
    column = LIST_ORDERS[order]
    ascending = request.GET.get("ascending", "").lower() == "true"
    if isinstance(queryset, reading.PinnedFirst):
        queryset = queryset.topics  # the whole list in one order: pins count for nothing here
    return queryset.order_by(column if ascending else f"-{column}", "pk" if ascending else "-pk")


def _topic_list(
    request, queryset, path: str, *, can_create_topic: bool | None = None, extra=None, decorate=None
):
    user = request.user
    page = _page_number(request)
    per_page = _per_page(request)
    queryset = _list_order(request, queryset)
    marker = reading.all_read_at(user)
    queryset = reading.for_list(queryset, user).select_related(*LIST_RELATED)
    topics = list(queryset[page * per_page : (page + 1) * per_page + 1])
    has_more = len(topics) > per_page
    topics = topics[:per_page]
    reading.attach_tags(topics)
    reading.annotate_unread(topics, user, marker)
    reading.attach_posters(topics)
    if can_create_topic is None:
        can_create_topic = user.is_authenticated and permissions.posting_block_reason(user) is None
    topic_list = {
        "can_create_topic": can_create_topic,
        "per_page": per_page,
        "top_tags": [],
        "topics": [serializers.list_topic(topic, user) for topic in topics],
        **(extra or {}),
    }
    if decorate is not None:
        decorate(topics, topic_list["topics"])
    if has_more:
        query = request.GET.copy()
        query["page"] = page + 1
        topic_list["more_topics_url"] = f"{path}?{query.urlencode()}"
    return json_response(
        {"users": serializers.list_users(topics), "primary_groups": [], "topic_list": topic_list}
    )


@api_view()
def latest(request):
    queryset = reading.pinned_first(permissions.visible_topics(request.user), reading.pinned_scope_for_home())
    return _topic_list(request, queryset, "/latest")


@api_view()
def new(request):
    if not request.user.is_authenticated:
        # Discourse: "new" is a list of one's own; without a person it is empty.
        return _topic_list(request, Topic.objects.none(), "/new")
    marker = reading.all_read_at(request.user)
    queryset = reading.new_topics(request.user, marker).order_by("-created_at", "-pk")
    return _topic_list(request, queryset, "/new")


@api_view()
def top(request):
    period = request.GET.get("period", "all")
    if period not in TOP_PERIODS:
        raise bad_parameter(_("period must be one of: %(periods)s.") % {"periods": ", ".join(TOP_PERIODS)})
    queryset = permissions.visible_topics(request.user)
    if TOP_PERIODS[period]:
        queryset = queryset.filter(created_at__gte=timezone.now() - TOP_PERIODS[period])
    queryset = queryset.order_by("-likes_count", "-posts_count", "-pk")
    return _topic_list(request, queryset, "/top", extra={"for_period": period})


def _readable_category(request, category_id: int) -> Category:
    category = get_object_or_404(Category, pk=category_id)
    if not permissions.can_read_category(request.user, category):
        raise ApiError(_forbidden(_("This category is only open to some members.")))
    return category


def _forbidden(message: str):
    return error_response([message], "invalid_access", 403)


@api_view()
def category_topics(request, category_id: int, slug: str | None = None):
    category = _readable_category(request, category_id)
    children = list(category.children.values_list("pk", flat=True))
    queryset = permissions.visible_topics(request.user).filter(category__in=[category.pk, *children])
    queryset = reading.pinned_first(queryset, reading.pinned_scope_for_category())
    return _topic_list(
        request,
        queryset,
        f"/c/{category.slug}/{category.pk}",
        can_create_topic=permissions.can_start_topic(request.user, category),
        decorate=_category_list_rows,
    )


def _opening_excerpts(topics: list[Topic]) -> dict[int, str]:
    """Each topic's opening post as a short plain-text excerpt (one query; "" when not shown)."""
    if not topics:
        return {}
    cooked = Post.objects.filter(topic__in=topics, number=1, state=PostState.VISIBLE).values_list(
        "topic_id", "cooked"
    )
    return {topic_id: Truncator(strip_tags(html)).chars(EXCERPT_LENGTH) for topic_id, html in cooked}


def _category_list_rows(topics: list[Topic], rows: list[dict]) -> None:
    """A category's list, as Discourse's: each row with the opening post's excerpt (one query)."""
    excerpts = _opening_excerpts(topics)
    for topic, row in zip(topics, rows, strict=True):
        row.update(
            {
                "excerpt": excerpts.get(topic.pk, ""),
                "image_url": None,
                "bookmarked": None,
                "liked": None,
                "unpinned": None,
            }
        )


@api_view()
def tag_topics(request, name: str):
    queryset = permissions.visible_topics(request.user).filter(tags__name=name).order_by("-bumped_at", "-pk")
    return _topic_list(request, queryset, f"/tag/{name}")


@api_view()
def topics_created_by(request, username: str):
    person = get_object_or_404(get_user_model(), username__iexact=username, is_active=True)
    queryset = permissions.visible_topics(request.user).filter(author=person).order_by("-created_at", "-pk")
    return _topic_list(request, queryset, f"/topics/created-by/{person.username}")


# --- Categories -----------------------------------------------------------------------------


def _category_counts(user) -> dict[int, dict]:
    now = timezone.now()
    by_period = {
        f"topics_{name}": Count("pk", filter=Q(created_at__gte=now - timedelta(days=days)))
        for name, days in (("day", 1), ("week", 7), ("month", 30), ("year", 365))
    }
    rows = (
        permissions.visible_topics(user)
        .values("category_id")
        .annotate(topic_count=Count("pk"), post_count=Sum("posts_count"), **by_period)
    )
    return {row["category_id"]: row for row in rows}


def _serialized_categories(user, categories: list[Category]) -> list[dict]:
    counts = _category_counts(user)
    children: dict[int, list[int]] = {}
    for category in categories:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category.pk)
    return [
        serializers.category(
            category, user, counts=counts.get(category.pk), subcategory_ids=children.get(category.pk, ())
        )
        for category in categories
    ]


@api_view(("GET", "POST"))
def categories(request):
    if request.method == "POST":
        return _create_category(request)
    user = request.user
    visible = list(permissions.visible_categories(user))
    serialized = [c for c in _serialized_categories(user, visible) if c["parent_category_id"] is None]
    return json_response(
        {
            "category_list": {
                "can_create_category": accounts_permissions.is_staff(user),
                "can_create_topic": user.is_authenticated and permissions.posting_block_reason(user) is None,
                "categories": serialized,
            }
        }
    )


@api_view()
def category_show(request, category_id: int):
    category = _readable_category(request, category_id)
    children = list(category.children.values_list("pk", flat=True))
    counts = _category_counts(request.user).get(category.pk)
    data = serializers.category(category, request.user, counts=counts, subcategory_ids=children)
    return json_response({"category": data})


def _create_category(request):
    params = Params(request)
    name = params.get_text("name", default=None)
    if not name:
        raise bad_parameter(_("param is missing or the value is empty: %(name)s") % {"name": "name"})
    parent = None
    if parent_id := params.get_int("parent_category_id"):
        parent = get_object_or_404(Category, pk=parent_id, parent__isnull=True)
    colour = (params.get_text("color") or "0b5cad").lstrip("#")
    kwargs = {
        "slug": params.get_text("slug"),
        "colour": f"#{colour}",
        "description": params.get_text("description"),
        "parent": parent,
    }
    if read_access := params.get_text("read_access"):
        kwargs["read_access"] = read_access
    if start_access := params.get_text("start_access"):
        kwargs["start_access"] = start_access
    category = services.create_category(request.user, name, **kwargs)
    return json_response({"category": serializers.category(category, request.user)})


# --- A topic --------------------------------------------------------------------------------


def _readable_topic(request, topic_id: int) -> Topic:
    queryset = reading.with_read_state(
        Topic.objects.select_related("category", "author__organisation", "last_poster"), request.user
    )
    topic = get_object_or_404(queryset, pk=topic_id)
    if not permissions.can_read(request.user, topic):
        permissions.not_found_if_message(topic)
        raise ApiError(_forbidden(_("This topic is only open to some members.")))
    return topic


def _liked_ids(user, post_ids: list[int]) -> set[int]:
    if not user.is_authenticated or not post_ids:
        return set()
    return set(Like.objects.filter(user=user, post_id__in=post_ids).values_list("post_id", flat=True))


def _serialize_posts(request, topic: Topic, posts: list[Post], *, raw: bool = False) -> list[dict]:
    liked = _liked_ids(request.user, [post.pk for post in posts])
    for post in posts:
        post.topic = topic
    data = [serializers.post(post, request.user, topic=topic, liked=liked, raw=raw) for post in posts]
    poll_views.add_polls(request.user, posts, data)  # Discourse's `polls` (api/poll_views.py)
    return data


@api_view(("GET", "PUT"))
def topic(request, topic_id: int, slug: str | None = None, post_number: int | None = None):
    topic = _readable_topic(request, topic_id)
    if request.method == "PUT":
        return _update_topic(request, topic)
    # Discourse pages a topic's posts 20 at a time with ?page=N (from 1), or around a post number
    # (in the path, or ?post_number= as Discourse's MCP server asks).
    if post_number is None and request.GET.get("post_number"):
        post_number = clean.bounded_int(request.GET["post_number"], minimum=1, maximum=clean.MAX_DB_INT)
        if post_number is None:
            raise bad_parameter(_("post_number must be a whole number from 1."))
    page_number = reading.page_for_post(post_number or 1)
    if not post_number and request.GET.get("page"):
        page_number = clean.bounded_int(request.GET["page"], minimum=1, maximum=MAX_PAGE)
        if page_number is None:
            raise bad_parameter(_("page must be a whole number from 1 to %(max)d.") % {"max": MAX_PAGE})
    page = reading.post_page(topic, page_number)
    posts = reading.posts_between(topic, page.first_number, page.last_number)
    stream = list(topic.posts.order_by("number").values_list("pk", flat=True))
    participants = list(
        get_user_model()
        .objects.filter(posts__topic=topic)
        .select_related("organisation")
        .annotate(post_count=Count("posts"))
        .order_by("-post_count", "pk")[:24]
    )
    tags = [tag.name for tag in topic.tags.all()]
    suggested = list(
        permissions.visible_topics(request.user)
        .filter(category_id=topic.category_id)
        .exclude(pk=topic.pk)
        .order_by("-bumped_at", "-pk")[:SUGGESTED_TOPICS]
    )
    services.count_view(topic)
    data = serializers.topic_detail(
        topic,
        request.user,
        _serialize_posts(request, topic, posts, raw=request.GET.get("include_raw", "").lower() == "true"),
        stream,
        participants=[(person, person.post_count) for person in participants],
        tags=tags,
        suggested=suggested,
        excerpts=_opening_excerpts(suggested),
    )
    if post_number:
        data["current_post_number"] = post_number
    return json_response(data)


def _update_topic(request, topic: Topic):
    """PUT /t/<slug>/<id>.json: a new title (its author, or moderators) or category (moderators)."""
    params = Params(request)
    user = request.user
    title = params.get_text("title", nested_in="topic", default=None)
    category_id = params.get_int("category_id", nested_in="topic")
    if title is None and category_id is None:
        raise bad_parameter(_("Give a title or a category_id to change."))
    try:
        if title is not None:
            if permissions.is_moderator(user):
                services.rename_topic(topic, str(title), by=user)
            else:
                first = topic.posts.get(number=1)
                first.topic = topic
                services.edit_post(user, first, first.raw, title=str(title))
        if category_id is not None and category_id != topic.category_id:
            category = get_object_or_404(Category, pk=category_id)
            services.move_topic(topic, category, by=user)
    except ValidationError as error:
        return _unprocessable("update_topic", error)
    topic.refresh_from_db()
    return json_response(
        {
            "basic_topic": {
                "id": topic.pk,
                "title": topic.title,
                "fancy_title": serializers.escape(topic.title),
                "slug": topic.slug,
                "posts_count": topic.posts_count,
                "category_id": topic.category_id,
            }
        }
    )


@api_view()
def topic_posts(request, topic_id: int):
    topic = _readable_topic(request, topic_id)
    params = Params(request)
    ids = []
    for value in params.getlist("post_ids"):
        number = clean.bounded_int(value, minimum=-clean.MAX_DB_INT)
        if number is None:
            raise bad_parameter(_("post_ids must be whole numbers."))
        ids.append(number)
    queryset = topic.posts.select_related(*reading.POST_RELATED).order_by("number")
    if ids:
        posts = list(queryset.filter(pk__in=ids[:200]))
    else:
        posts = list(queryset.filter(number__lte=serializers.CHUNK_SIZE))
    return json_response({"post_stream": {"posts": _serialize_posts(request, topic, posts)}, "id": topic.pk})


# --- Posts ----------------------------------------------------------------------------------


def _readable_post(request, **lookup) -> Post:
    post = get_object_or_404(Post.objects.select_related(*POST_RELATED), **lookup)
    if not permissions.can_read(request.user, post.topic):
        permissions.not_found_if_message(post.topic)
        raise ApiError(_forbidden(_("This topic is only open to some members.")))
    return post


def _post_json(request, post: Post) -> dict:
    return _serialize_posts(request, post.topic, [post], raw=True)[0]


@api_view(("GET", "PUT", "DELETE"))
def post_detail(request, post_id: int):
    post = _readable_post(request, pk=post_id)
    if request.method == "PUT":
        return _edit_post(request, post)
    if request.method == "DELETE":
        services.withdraw_post(request.user, post)
        return json_response({"success": "OK"})
    return json_response(_post_json(request, post))


@api_view()
def post_by_number(request, topic_id: int, post_number: int):
    post = _readable_post(request, topic_id=topic_id, number=post_number)
    return json_response(_post_json(request, post))


@api_view(("GET", "POST"))
def posts(request):
    if request.method == "POST":
        return _create_post(request)
    queryset = (
        Post.objects.filter(topic__in=permissions.visible_topics(request.user), state=PostState.VISIBLE)
        .select_related(*POST_RELATED)
        .order_by("-pk")
    )
    before = Params(request).get_int("before")
    if before:
        queryset = queryset.filter(pk__lt=before)
    latest = list(queryset[:LATEST_POSTS_LIMIT])
    liked = _liked_ids(request.user, [post.pk for post in latest])
    items = []
    for post in latest:
        data = serializers.post(post, request.user, topic=post.topic, liked=liked, raw=True)
        data.update(
            {
                "topic_title": post.topic.localized_title,
                "topic_html_title": serializers.escape(post.topic.localized_title),
                "category_id": post.topic.category_id,
                "topic_posts_count": post.topic.posts_count,
            }
        )
        items.append(data)
    return json_response({"latest_posts": items})


def _unprocessable(action: str, error: ValidationError):
    if isinstance(error, RateLimited):
        # A posting interval or daily cap: 429 for clients to wait on, not a refusal of the text.
        raise error
    return json_response(
        {"action": action, "errors": validation_errors(error), "error_type": "invalid_parameters"}, status=422
    )


def _create_post(request):
    params = Params(request)
    user = request.user
    raw = params.get_text("raw")
    topic_id = params.get_int("topic_id")
    try:
        if topic_id:
            topic = _readable_topic(request, topic_id)
            reply_to = None
            if number := params.get_int("reply_to_post_number"):
                reply_to = topic.posts.filter(number=number).first()
                if reply_to is None:
                    raise bad_parameter(_("reply_to_post_number is not a post of this topic."))
            services.check_posting(user, raw, kind="reply")
            post = services.create_reply(user, topic, raw, reply_to=reply_to)
            services.after_posting(user, post, kind="reply")
        elif params.get_text("archetype") == "private_message":
            # A personal message (api/message_views.py), Discourse's target_recipients.
            from .message_views import create_message

            topic = create_message(request, params)
            post = topic.posts.get(number=1)
        else:
            category_id = params.get_int("category")
            if category_id is None:
                raise ValidationError({"category": _("Choose a category where you may start topics.")})
            category = get_object_or_404(Category, pk=category_id)
            tags = [str(tag) for tag in params.getlist("tags") if str(tag).strip()]
            services.check_posting(user, raw, kind="topic")
            topic = services.create_topic(
                user,
                category,
                params.get_text("title"),
                raw,
                tags=tags,
                language=current_language(),
            )
            services.after_posting(user, topic, kind="topic")
            post = topic.posts.get(number=1)
    except ValidationError as error:
        return _unprocessable("create_post", error)
    post = Post.objects.select_related(*POST_RELATED).get(pk=post.pk)
    return json_response(_post_json(request, post))


def _edit_post(request, post: Post):
    params = Params(request)
    raw = params.get_text("raw", nested_in="post", default=None)
    if raw is None:
        raise bad_parameter(_("param is missing or the value is empty: %(name)s") % {"name": "post[raw]"})
    # Discourse's edit_reason is accepted; our revisions keep before and after, not a reason.
    title = params.get_text("title", nested_in="post", default=None) if post.number == 1 else None
    try:
        post = services.edit_post(request.user, post, raw, title=title)
    except ValidationError as error:
        return _unprocessable("edit_post", error)
    post = Post.objects.select_related(*POST_RELATED).get(pk=post.pk)
    return json_response({"post": _post_json(request, post)})


# --- Likes and flags ------------------------------------------------------------------------

# Discourse's post_action_type_id for flags -> the forum's flag reasons (forum/moderation.py).
FLAG_REASONS = {
    3: FlagReason.OFF_TOPIC,
    4: FlagReason.INAPPROPRIATE,
    7: FlagReason.NOTIFY_MODERATORS,
    8: FlagReason.SPAM,
}


@api_view(("POST",))
def post_actions(request):
    """Like (2) or flag (3, 4, 7 with `message`, 8) a post, with the rules of the site's pages.

    Flags: verified officials and moderators who can read the post, not their own, once per
    post (403 otherwise, as Discourse answers an action it does not allow); a note to the
    moderators without `message` is 422. The flag goes to the review queue and may hide the post.
    """
    params = Params(request)
    post_id = params.get_int("id", required=True)
    action = params.get_int("post_action_type_id", required=True)
    post = _readable_post(request, pk=post_id)
    flagged = None
    if action == serializers.LIKE:
        if Like.objects.filter(user=request.user, post=post).exists():
            return _forbidden(_("You have already liked this post."))
        services.toggle_like(request.user, post)
    elif action in FLAG_REASONS:
        moderation.check_flag(request.user, post)
        if moderation.has_flagged(request.user, post):
            return _forbidden(_("You have already flagged this post."))
        try:
            services.flag_post(request.user, post, FLAG_REASONS[action], params.get_text("message"))
        except ValidationError as error:
            return _unprocessable("flag_post", error)
        flagged = action
    else:
        raise bad_parameter(_("This post_action_type_id is not supported: %(id)s.") % {"id": action})
    post = Post.objects.select_related(*POST_RELATED).get(pk=post.pk)
    data = _post_json(request, post)
    if flagged is not None:
        # Discourse lists the flag the person just made; who else flagged stays with moderators.
        data["actions_summary"].append({"id": flagged, "acted": True, "can_undo": False})
    return json_response(data)


@api_view(("DELETE",))
def post_action_delete(request, post_id: int):
    params = Params(request)
    action = params.get_int("post_action_type_id", required=True)
    post = _readable_post(request, pk=post_id)
    if action != serializers.LIKE:
        raise bad_parameter(_("Only likes (post_action_type_id=2) can be taken back."))
    if not Like.objects.filter(user=request.user, post=post).exists():
        raise ApiError(error_response([_("You have not liked this post.")], "not_found", 404))
    services.toggle_like(request.user, post)
    post = Post.objects.select_related(*POST_RELATED).get(pk=post.pk)
    return json_response(_post_json(request, post))


@api_view()
def post_action_users(request):
    """Who liked a post: /post_action_users?id=<post_id>&post_action_type_id=2."""
    params = Params(request)
    post = _readable_post(request, pk=params.get_int("id", required=True))
    action = params.get_int("post_action_type_id") or serializers.LIKE
    if action != serializers.LIKE:
        # Who flagged a post is for moderators' eyes, on the review pages.
        raise ApiError(_forbidden(_("You are not permitted to view the requested resource.")))
    likes = post.likes.select_related("user__organisation").order_by("created_at")[:200]
    return json_response(
        {"post_action_users": [{**serializers.basic_user(like.user), "post_url": None} for like in likes]}
    )


# --- Topic status ---------------------------------------------------------------------------


@api_view(("PUT", "POST"))
def topic_status(request, topic_id: int):
    topic = _readable_topic(request, topic_id)
    params = Params(request)
    status = params.get_text("status", default=None)
    enabled = params.get_bool("enabled")
    if enabled is None:
        raise bad_parameter(_("param is missing or the value is empty: %(name)s") % {"name": "enabled"})
    by = request.user
    permissions.check_moderator(by)
    if status == "closed":
        (services.close_topic if enabled else services.open_topic)(topic, by=by)
    elif status == "archived":
        (services.archive_topic if enabled else services.open_topic)(topic, by=by)
    elif status in ("pinned", "pinned_globally"):
        if enabled:
            scope = PinScope.GLOBAL if status == "pinned_globally" else PinScope.CATEGORY
            services.pin_topic(topic, scope, until=_parse_until(params.get("until")), by=by)
        else:
            services.unpin_topic(topic, by=by)
    elif status == "visible":
        (services.relist_topic if enabled else services.unlist_topic)(topic, by=by)
    else:
        raise bad_parameter(_("status must be one of: closed, archived, pinned, pinned_globally, visible."))
    return json_response({"success": "OK", "topic_status_update": None})


def _parse_until(value):
    if not value:
        return None
    from django.utils.dateparse import parse_date, parse_datetime

    try:
        parsed = parse_datetime(str(value))
        if parsed is None and (day := parse_date(str(value))):
            parsed = timezone.datetime(day.year, day.month, day.day)
    except ValueError:  # well formed but impossible: 2026-13-45
        parsed = None
    if parsed is None:
        raise bad_parameter(_("until must be a date such as 2026-05-17."))
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@api_view()
def search(request):
    """/search.json: the search app's Discourse-shaped answer, with the exact JSON content type."""
    from forum import search_views

    response = search_views.search_json(request)
    if response.status_code == 429:
        body = json.loads(response.content)
        return too_many_requests(body["errors"][0], body["extras"]["wait_seconds"], code="search_rate_limit")
    response["Content-Type"] = JSON_CONTENT_TYPE
    return response


# --- Tags, people, session, site ------------------------------------------------------------


def _tag_counts(user):
    topic_type = ContentType.objects.get_for_model(Topic)
    return (
        TaggedItem.objects.filter(
            content_type=topic_type, object_id__in=permissions.visible_topics(user).values("pk")
        )
        .values("tag__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "tag__name")
    )


@api_view()
def tags(request):
    rows = list(_tag_counts(request.user)[:500])
    return json_response(
        {
            "tags": [
                {
                    "id": row["tag__name"],
                    "text": row["tag__name"],
                    "name": row["tag__name"],
                    "count": row["count"],
                    "pm_count": 0,
                    "target_tag": None,
                }
                for row in rows
            ],
            "extras": {"categories": []},
        }
    )


@api_view()
def user(request, username: str):
    person = get_object_or_404(
        get_user_model().objects.select_related("organisation"), username__iexact=username, is_active=True
    )
    data = serializers.user_detail(person, request.user)
    counts = Post.objects.filter(
        author=person, state=PostState.VISIBLE, topic__in=permissions.visible_topics(request.user)
    ).aggregate(post_count=Count("pk"), last_posted_at=Max("created_at"))
    data.update(serializers.user_profile_extras(person, request.user, **counts))
    return json_response({"user_badges": [], "user": data})


@api_view()
def session_current(request):
    user = request.user
    if not user.is_authenticated:
        return error_response([_("The requested URL or resource could not be found.")], "not_found", 404)
    data = serializers.basic_user(user)
    data.update(
        {
            "staff": accounts_permissions.is_moderator(user),
            "can_create_topic": permissions.posting_block_reason(user) is None,
            "posting_block_reason": permissions.posting_block_reason(user),
            "api_key_scope": request.api_key_use.key.scope if getattr(request, "api_key_use", None) else None,
        }
    )
    return json_response({"current_user": data})


@api_view()
def site(request):
    user = request.user
    visible = list(permissions.visible_categories(user))
    top_tags = [row["tag__name"] for row in _tag_counts(user)[:20]]
    return json_response(
        {
            "default_archetype": "regular",
            "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []}],
            "post_action_types": site_views.post_action_types(),
            "trust_levels": {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4},
            "filters": ["latest", "new", "unread", "top"],
            "periods": list(TOP_PERIODS),
            "top_menu_items": ["latest", "new", "unread", "top"],
            "anonymous_top_menu_items": ["latest", "top", "categories"],
            "can_create_tag": permissions.can_create_tags(user),
            "can_tag_topics": user.is_authenticated,
            "top_tags": top_tags,
            "categories": [site_views.site_category(row) for row in _serialized_categories(user, visible)],
            "locale": current_language(),
            **site_views.site_extras(user),
        }
    )
