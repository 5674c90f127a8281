"""People in Discourse's shapes: /directory_items.json (the directory of officials),
/user_actions.json and /u/<username>/summary.json (a person's activity page), and the
moderators' /admin/users/list/<flag>.json. Same querysets and checks as the pages.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts import permissions as accounts_permissions
from forum import permissions
from forum.models import Like, Post, PostState, Topic

from . import serializers
from .http import Params, api_view, bad_parameter, json_response
from .views import TOP_PERIODS

PAGE_SIZE = 50
ACTIONS_PAGE_SIZE = 30
MAX_ACTIONS_OFFSET = 3000
# Discourse's periods, as /top.json takes them.
PERIODS = TOP_PERIODS
DIRECTORY_ORDERS = (
    "likes_received",
    "likes_given",
    "topic_count",
    "post_count",
    "topics_entered",
    "posts_read",
    "days_visited",
)
# Discourse's UserAction types: 1 like given, 2 like received, 4 new topic, 5 reply.
LIKE, WAS_LIKED, NEW_TOPIC, REPLY = 1, 2, 4, 5


def _page(params: Params) -> int:
    return max(0, min(params.get_int("page") or 0, 100_000))


def _active_person(username: str):
    return get_object_or_404(
        get_user_model().objects.select_related("organisation"), username__iexact=username, is_active=True
    )


def _excerpt(post: Post, viewer) -> str:
    if not permissions.can_see_post_text(viewer, post):
        return ""
    return Truncator(strip_tags(post.localized_cooked)).chars(300)


def _count(queryset, person_field: str):
    """How many rows of `queryset` belong to each person (0 for none), as a correlated subquery."""
    counted = (
        queryset.filter(**{person_field: OuterRef("pk")})
        .order_by()
        .values(person_field)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- The directory --------------------------------------------------------------------------


@api_view()
def directory_items(request):
    """GET /directory_items.json?period=all&order=post_count: the directory's verified officials
    (accounts' directory page), with their counts over the period in what this reader may see."""
    params = Params(request)
    period = params.get_text("period", default="all") or "all"
    if period not in PERIODS:
        raise bad_parameter(_("period must be one of: %(periods)s.") % {"periods": ", ".join(PERIODS)})
    order = params.get_text("order", default="post_count") or "post_count"
    if order not in DIRECTORY_ORDERS:
        raise bad_parameter(_("order must be one of: %(orders)s.") % {"orders": ", ".join(DIRECTORY_ORDERS)})
    ascending = params.get_bool("asc") is True
    page = _page(params)
    since = timezone.now() - PERIODS[period] if PERIODS[period] else None
    visible = permissions.visible_topics(request.user)
    posts = Post.objects.filter(state=PostState.VISIBLE, topic__in=visible)
    topics = visible
    likes = Like.objects.filter(post__topic__in=visible)
    if since:
        posts = posts.filter(created_at__gte=since)
        topics = topics.filter(created_at__gte=since)
        likes = likes.filter(created_at__gte=since)
    # One subquery per count: joining posts, topics and likes together would multiply rows.
    people = accounts_permissions.verified_officials().annotate(
        post_count=_count(posts, "author"),
        topic_count=_count(topics, "author"),
        likes_received=_count(likes, "post__author"),
        likes_given=_count(likes, "user"),
    )
    sortable = (
        order if order in ("post_count", "topic_count", "likes_received", "likes_given") else "post_count"
    )
    people = people.order_by(sortable if ascending else f"-{sortable}", "username")
    total = people.count()
    rows = list(people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE])
    query = request.GET.copy()
    query["page"] = page + 1
    return json_response(
        {
            "directory_items": [
                {
                    "id": person.pk,
                    "likes_received": person.likes_received,
                    "likes_given": person.likes_given,
                    "topics_entered": 0,
                    "topic_count": person.topic_count,
                    "post_count": person.post_count,
                    "posts_read": 0,
                    "days_visited": 0,
                    "user": {
                        "id": person.pk,
                        "username": person.username,
                        "name": person.name,
                        "avatar_template": serializers.avatar_template(person),
                        "title": person.position or None,
                    },
                }
                for person in rows
            ],
            "meta": {
                "last_updated_at": None,
                "total_rows_directory_items": total,
                "load_more_directory_items": f"/directory_items?{query.urlencode()}",
            },
        }
    )


# --- A person's activity ----------------------------------------------------------------------


def _user_action(action_type: int, post: Post, *, acting, created_at, excerpt: str) -> dict:
    """One line of a person's activity: `acting` wrote the post (4, 5) or liked it (1)."""
    topic = post.topic
    state = serializers._topic_state(topic)
    return {
        "action_type": action_type,
        "created_at": created_at,
        "excerpt": excerpt,
        "avatar_template": serializers.avatar_template(post.author),
        "acting_avatar_template": serializers.avatar_template(acting),
        "slug": topic.slug,
        "topic_id": topic.pk,
        "target_user_id": post.author_id,
        "target_name": post.author.name,
        "target_username": post.author.username,
        "post_number": post.number,
        "post_id": post.pk,
        "reply_to_post_number": None,
        "username": post.author.username,
        "name": post.author.name,
        "user_id": post.author_id,
        "acting_username": acting.username,
        "acting_name": acting.name,
        "acting_user_id": acting.pk,
        "title": topic.localized_title,
        "deleted": False,
        "hidden": None,
        "post_type": None,
        "action_code": None,
        "category_id": topic.category_id,
        "closed": state["closed"],
        "archived": state["archived"],
    }


@api_view()
def user_actions(request):
    """GET /user_actions.json?username=&filter=4,5&offset=0: a person's topics (4), replies (5)
    and likes given (1), newest first, in topics this reader may see (their activity page)."""
    params = Params(request)
    username = params.get_text("username", default="")
    if not username:
        raise bad_parameter(_("param is missing or the value is empty: %(name)s") % {"name": "username"})
    person = _active_person(username)
    wanted = set()
    for part in (params.get_text("filter", default="") or "4,5").split(","):
        part = part.strip()
        if part:
            if not part.isdigit():
                raise bad_parameter(_("filter must be action types separated by commas, such as 4,5."))
            wanted.add(int(part))
    # Each kind of action is read up to offset + one page, then merged: deep offsets stay bounded.
    offset = max(0, min(params.get_int("offset") or 0, MAX_ACTIONS_OFFSET))
    visible = permissions.visible_topics(request.user)
    related = ("topic", "author__organisation")
    actions: list[tuple] = []
    if wanted & {NEW_TOPIC, REPLY}:
        posts = Post.objects.filter(author=person, state=PostState.VISIBLE, topic__in=visible)
        if wanted & {NEW_TOPIC, REPLY} != {NEW_TOPIC, REPLY}:
            posts = posts.filter(number=1) if NEW_TOPIC in wanted else posts.exclude(number=1)
        for post in posts.select_related(*related).order_by("-created_at", "-pk")[
            : offset + ACTIONS_PAGE_SIZE
        ]:
            actions.append((post.created_at, post.pk, NEW_TOPIC if post.number == 1 else REPLY, post))
    if LIKE in wanted:
        likes = Like.objects.filter(user=person, post__state=PostState.VISIBLE, post__topic__in=visible)
        for like in likes.select_related(*(f"post__{name}" for name in related)).order_by(
            "-created_at", "-pk"
        )[: offset + ACTIONS_PAGE_SIZE]:
            actions.append((like.created_at, like.post_id, LIKE, like.post))
    actions.sort(key=lambda row: (row[0], row[1]), reverse=True)
    page = actions[offset : offset + ACTIONS_PAGE_SIZE]
    items = [
        _user_action(
            action_type, post, acting=person, created_at=created_at, excerpt=_excerpt(post, request.user)
        )
        for created_at, _pk, action_type, post in page
    ]
    return json_response({"user_actions": items})


@api_view()
def user_summary(request, username: str):
    """GET /u/<username>/summary.json: counts and the best-liked topics and replies of a person."""
    person = _active_person(username)
    visible = permissions.visible_topics(request.user)
    posts = Post.objects.filter(author=person, state=PostState.VISIBLE, topic__in=visible)
    counts = posts.aggregate(
        post_count=Count("pk"),
        topic_count=Count("pk", filter=Q(number=1)),
        likes_received=Sum("like_count"),
    )
    likes_given = Like.objects.filter(user=person, post__topic__in=visible).count()
    top_topics = list(
        Topic.objects.filter(pk__in=visible.filter(author=person).values("pk"))
        .select_related("category")
        .order_by("-likes_count", "-created_at")[:6]
    )
    top_replies = list(
        posts.exclude(number=1).select_related("topic").order_by("-like_count", "-created_at")[:6]
    )
    return json_response(
        {
            "topics": [
                {
                    "id": topic.pk,
                    "title": topic.localized_title,
                    "fancy_title": serializers.escape(topic.localized_title),
                    "slug": topic.slug,
                    "posts_count": topic.posts_count,
                    "like_count": topic.likes_count,
                    "created_at": topic.created_at,
                    "category_id": topic.category_id,
                }
                for topic in top_topics
            ],
            "badges": [],
            "user_summary": {
                "likes_given": likes_given,
                "likes_received": counts["likes_received"] or 0,
                "topics_entered": 0,
                "posts_read_count": 0,
                "days_visited": 0,
                "topic_count": counts["topic_count"],
                "post_count": counts["post_count"],
                "time_read": 0,
                "recent_time_read": 0,
                "bookmark_count": 0,
                "can_see_summary_stats": True,
                "can_see_user_actions": True,
                "solved_count": 0,
                "topic_ids": [topic.pk for topic in top_topics],
                "replies": [
                    {
                        "post_number": post.number,
                        "like_count": post.like_count,
                        "created_at": post.created_at,
                        "topic_id": post.topic_id,
                    }
                    for post in top_replies
                ],
                "links": [],
                "most_liked_by_users": [],
                "most_liked_users": [],
                "most_replied_to_users": [],
                "badges": [],
                "top_categories": [],
            },
        }
    )


# --- Moderators: the list of people ---------------------------------------------------------

ADMIN_FLAGS = ("active", "new", "staff", "suspended", "blocked", "silenced", "suspect")
ADMIN_ORDERS = {"created": "date_joined", "seen": "last_login", "username": "username", "posts": "post_count"}


def _admin_people(flag: str):
    User = get_user_model()
    now = timezone.now()
    people = User.objects.all()
    if flag == "active":
        return people.filter(is_active=True)
    if flag == "new":
        return people.filter(is_active=True, date_joined__gte=now - timedelta(days=7))
    if flag == "staff":
        return people.filter(Q(is_staff=True) | Q(is_superuser=True) | Q(is_moderator=True), is_active=True)
    if flag == "suspended":
        return people.filter(suspended_until__gt=now)
    if flag in ("blocked", "silenced"):
        return people.filter(silenced_until__gt=now)
    # suspect: signed up, never verified, never posted.
    return (
        people.filter(is_active=True)
        .exclude(verification_state="verified")
        .exclude(Exists(Post.objects.filter(author=OuterRef("pk"))))
    )


@api_view()
def admin_users_list(request, flag: str):
    """GET /admin/users/list/<flag>.json: moderators see people, as on the review pages
    (never their email addresses). Flags: active, new, staff, suspended, blocked (silenced), suspect."""
    permissions.check_moderator(request.user)
    if flag not in ADMIN_FLAGS:
        raise bad_parameter(_("flag must be one of: %(flags)s.") % {"flags": ", ".join(ADMIN_FLAGS)})
    params = Params(request)
    order = params.get_text("order", default="created") or "created"
    field = ADMIN_ORDERS.get(order, "date_joined")
    ascending = params.get_text("asc", default="") == "true"
    page = max(1, min(params.get_int("page") or 1, 100_000))
    people = (
        _admin_people(flag)
        .select_related("organisation")
        .annotate(post_count=Count("posts", filter=Q(posts__state=PostState.VISIBLE)))
        .order_by(field if ascending else f"-{field}", "pk")
    )
    rows = people[(page - 1) * 100 : page * 100]
    now = timezone.now()

    def age(moment):
        return (now - moment).total_seconds() if moment else None

    return json_response(
        [
            {
                "id": person.pk,
                "username": person.username,
                "name": person.name,
                "avatar_template": serializers.avatar_template(person),
                "active": person.is_active,
                "admin": accounts_permissions.is_staff(person),
                "moderator": accounts_permissions.is_moderator(person)
                and not accounts_permissions.is_staff(person),
                "last_seen_at": person.last_login,
                "last_emailed_at": None,
                "created_at": person.date_joined,
                "last_seen_age": age(person.last_login),
                "last_emailed_age": None,
                "created_at_age": age(person.date_joined),
                "trust_level": serializers._trust_level(person),
                "manual_locked_trust_level": None,
                "title": person.position or None,
                "time_read": 0,
                "staged": False,
                "days_visited": 0,
                "posts_read_count": 0,
                "topics_entered": 0,
                "post_count": person.post_count,
                "silenced_till": person.silenced_until,
                "suspended_till": person.suspended_until,
                "official": serializers.official(person),
            }
            for person in rows
        ]
    )
