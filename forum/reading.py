"""Read paths: topic lists with unread counts, pages of posts by number range, the reply tree.

Every function here costs a fixed number of queries whatever the size of the
topic or the forum; tests/forum/test_query_budgets.py holds them to it.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from taggit.models import TaggedItem

from core import page_cache

from . import fragments, permissions, polls
from .models import Bookmark, Like, PinScope, Post, ReadMarker, Topic, TopicReadState

POSTS_PER_PAGE = 20
TOPICS_PER_PAGE = 30
TREE_ROOTS_PER_PAGE = 20
TREE_MAX_DEPTH = 4
TREE_MAX_POSTS = 400
# Topics started within this window count as "new" for someone who has not opened them.
NEW_TOPIC_WINDOW = timedelta(days=14)


# --- Topic lists ----------------------------------------------------------------------------


def all_read_at(user):
    if not user.is_authenticated:
        return None
    marker = ReadMarker.objects.filter(user=user).values_list("all_read_at", flat=True).first()
    return marker


def new_since(user, marker=None):
    cutoff = timezone.now() - NEW_TOPIC_WINDOW
    return max(cutoff, marker) if marker else cutoff


def with_read_state(queryset: QuerySet[Topic], user) -> QuerySet[Topic]:
    """Annotate each topic with this person's read position (one LEFT JOIN)."""
    if not user.is_authenticated:
        return queryset.annotate(read_number=Value(None, output_field=IntegerField()))
    return queryset.annotate(
        my_read=FilteredRelation("read_states", condition=Q(read_states__user=user)),
        read_number=F("my_read__last_read_number"),
    )


class PinnedFirst:
    """A topic list with the topics pinned now first, then the rest by their last bump.

    Ordering one query by "pinned now" (the pin's scope and end compared with the clock) made
    PostgreSQL read and sort every visible topic on each page. Pinned topics are few: their
    ids are kept in the cache until a list changes (``pinned_first``), they are read apart on
    the pages that show them, and the rest walks the ``bumped_at`` index and stops at the
    page's end. The same order, page by page. Sliced like a queryset (by the Paginator and the
    API) it gives a list; ``topics`` is the whole list as one queryset, to count it.
    """

    ordered = True

    def __init__(
        self, topics: QuerySet[Topic], pinned: QuerySet[Topic], rest: QuerySet[Topic], pinned_count: int
    ):
        self.topics = topics
        self.pinned = pinned
        self.rest = rest
        self.pinned_count = pinned_count

    def map(self, change) -> "PinnedFirst":
        """The same list with ``change(queryset)`` applied to both parts (annotations, joins)."""
        return PinnedFirst(self.topics, change(self.pinned), change(self.rest), self.pinned_count)

    def select_related(self, *fields) -> "PinnedFirst":
        return self.map(lambda part: part.select_related(*fields))

    def count(self) -> int:
        return self.topics.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        if index.step is not None or (index.start or 0) < 0 or index.stop is None or index.stop < 0:
            raise ValueError("PinnedFirst takes slices [start:stop] only")
        start, stop, pinned = index.start or 0, index.stop, self.pinned_count
        page = list(self.pinned[start:stop]) if start < pinned else []
        if stop > pinned:
            page += list(self.rest[max(0, start - pinned) : stop - pinned])
        return page


def pinned_first(queryset: QuerySet[Topic], scopes: list[str]) -> PinnedFirst:
    """The topics of ``queryset`` pinned now in one of ``scopes`` first, then the rest.

    The pins of these topics (ids and ends) come from the cache until any list changes
    (pinning and unpinning move the lists on); whether each is pinned *now* is decided here.
    """
    pins = page_cache.cached_rows(
        queryset.filter(pin_scope__in=scopes).order_by("pk").values_list("pk", "pinned_until")
    )
    now = timezone.now()
    ids = [pk for pk, until in pins if until is None or until > now]
    pinned = queryset.filter(pk__in=ids) if ids else queryset.none()
    rest = queryset.exclude(pk__in=ids) if ids else queryset
    return PinnedFirst(
        queryset,
        pinned.annotate(pinned_now=Value(1, output_field=IntegerField())),
        rest.annotate(pinned_now=Value(0, output_field=IntegerField())),
        len(ids),
    ).map(lambda part: part.order_by("-bumped_at", "-pk"))


# The people and category a topic row shows, read with the topic (one query per page).
LIST_RELATED = ("category", "last_poster", "author__organisation")
# What a list page reads of each topic whose row comes from the cache (forum.fragments.topic_rows):
# the reader's badge, the row's key and when the page changes by itself.
ROW_FIELDS = ("id", "slug", "created_at", "last_posted_at", "highest_post_number", "opens_at", "pinned_until")


def for_list(queryset, user):
    """A page of a topic list; once it is a list, ``attach_tags`` gives it its tags."""
    if isinstance(queryset, PinnedFirst):
        return queryset.map(lambda part: for_list(part, user))
    return with_read_state(queryset, user).select_related(*LIST_RELATED)


def for_rows(queryset, user):
    """A page of a topic list as the list page needs it: a few columns of each topic.

    The rows themselves come from the cache, shared by every reader; ``fragments.topic_rows``
    reads whole topics (with their people and category) only for the rows it has to render.
    """
    if isinstance(queryset, PinnedFirst):
        return queryset.map(lambda part: for_rows(part, user))
    return with_read_state(queryset, user).only(*ROW_FIELDS)


def attach_tags(topics: list[Topic]) -> None:
    """Each topic's tags in one query, where ``topic.tags.all()`` finds them.

    What ``prefetch_related("tags")`` does, without the taggit queryset it builds and throws
    away for every topic on the way (a third of a signed-in list page's CPU time).
    """
    tags = {topic.pk: [] for topic in topics}
    if tags:
        items = TaggedItem.objects.filter(
            content_type=ContentType.objects.get_for_model(Topic), object_id__in=tags
        ).select_related("tag")
        for item in items.order_by("tag__name", "tag__pk"):
            tags[item.object_id].append(item.tag)
    for topic in topics:
        topic._prefetched_objects_cache = {
            **getattr(topic, "_prefetched_objects_cache", {}),
            "tags": tags[topic.pk],
        }


def attach_posters(topics: list[Topic]) -> None:
    """Set `recent_posters` (people, with their organisation) on each topic of a page: one query."""
    ids = {pk for topic in topics for pk in topic.recent_poster_ids or []}
    people = {}
    if ids:
        from django.contrib.auth import get_user_model

        people = get_user_model().objects.select_related("organisation").in_bulk(ids)
    for topic in topics:
        topic.recent_posters = [people[pk] for pk in topic.recent_poster_ids or [] if pk in people]


def unread_topics(user, marker=None) -> QuerySet[Topic]:
    queryset = permissions.visible_topics(user).filter(
        read_states__user=user, read_states__last_read_number__lt=F("highest_post_number")
    )
    if marker:
        queryset = queryset.filter(last_posted_at__gt=marker)
    return queryset


def new_topics(user, marker=None) -> QuerySet[Topic]:
    queryset = permissions.visible_topics(user).filter(created_at__gt=new_since(user, marker))
    if user.is_authenticated:
        queryset = queryset.exclude(
            pk__in=TopicReadState.objects.filter(user=user).values("topic_id"),
        )
    return queryset


def annotate_unread(topics: list[Topic], user, marker=None) -> None:
    """Set `unread` (posts not read yet) and `is_new` on each topic of a list page (no query)."""
    cutoff = new_since(user, marker)
    for topic in topics:
        topic.unread = 0
        topic.is_new = False
        topic.first_unread_number = (topic.read_number or 0) + 1
        if not user.is_authenticated:
            continue
        if topic.read_number is None:
            topic.is_new = topic.created_at > cutoff
        elif not marker or topic.last_posted_at > marker:
            topic.unread = max(0, topic.highest_post_number - topic.read_number)


def list_counts(user, marker=None) -> dict[str, int]:
    """This person's numbers of new and unread topics, kept until they read or a list changes.

    Two counts over every visible topic were a fifth of a signed-in list page. They are kept
    per person (and what they may see) until any list changes or their read positions move
    (services.mark_read, mark_all_read), and for a minute at most, since a topic stops being
    new by age alone.
    """
    if not user.is_authenticated:
        return {}
    levels = ",".join(permissions.readable_access_levels(user))
    since = marker.timestamp() if marker else "-"
    return page_cache.kept(
        f"list-counts:{user.pk}:{levels}:{int(permissions.is_moderator(user))}:{since}",
        [page_cache.LISTS, page_cache.reader_scope(user.pk)],
        lambda: {"new": new_topics(user, marker).count(), "unread": unread_topics(user, marker).count()},
        timeout=page_cache.MAX_AGE,
    )


# --- A topic, page by page ------------------------------------------------------------------


@dataclass
class PostPage:
    number: int
    last_page: int
    first_number: int
    last_number: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.last_page

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    def nearby(self) -> list[int | None]:
        """Page numbers to link: first, last and two either side of this one; None marks a gap."""
        wanted = {1, self.last_page, *range(self.number - 2, self.number + 3)}
        pages: list[int | None] = []
        for page in sorted(p for p in wanted if 1 <= p <= self.last_page):
            if pages and page - (pages[-1] or 0) > 1:
                pages.append(None)
            pages.append(page)
        return pages


def post_page(topic: Topic, page_number: int) -> PostPage:
    last_page = max(1, (topic.highest_post_number + POSTS_PER_PAGE - 1) // POSTS_PER_PAGE)
    page_number = min(max(1, page_number), last_page)
    first = (page_number - 1) * POSTS_PER_PAGE + 1
    return PostPage(page_number, last_page, first, first + POSTS_PER_PAGE - 1)


def page_for_post(post_number: int) -> int:
    return (max(post_number, 1) - 1) // POSTS_PER_PAGE + 1


POST_RELATED = ("author", "author__organisation", "reply_to", "reply_to__author")


def with_reader_marks(queryset: QuerySet[Post], user) -> QuerySet[Post]:
    """Whether this reader liked or bookmarked each post, in the same query (decorate_posts reads it)."""
    if not user.is_authenticated:
        return queryset
    return queryset.annotate(
        reader_liked=Exists(Like.objects.filter(user=user, post_id=OuterRef("pk"))),
        reader_bookmarked=Exists(Bookmark.objects.filter(user=user, post_id=OuterRef("pk"))),
    )


def posts_between(topic: Topic, first: int, last: int, user=None) -> list[Post]:
    """Posts numbered first..last: an index range scan, never an OFFSET over the topic.

    Given the reader, each post also says whether they liked or bookmarked it (no extra query).
    """
    queryset = (
        topic.posts.filter(number__range=(first, last)).select_related(*POST_RELATED).order_by("number")
    )
    if user is not None:
        queryset = with_reader_marks(queryset, user)
    return list(queryset)


def tree_posts(
    topic: Topic, *, after: int = 1, focus: Post | None = None, user=None
) -> tuple[list[Post], int | None]:
    """The reply tree: 20 top-level answers after `after` with their replies, or the subtree of `focus`.

    Returns (posts in tree order, the `after` value of the next page or None). Each post gets
    `tree_depth` (relative, capped at 4) and `continues` (replies beyond the depth shown).
    """
    related = topic.posts.select_related(*POST_RELATED)
    if user is not None:
        related = with_reader_marks(related, user)
    if focus is not None:
        base_depth = focus.depth
        posts = [focus] + list(
            related.filter(
                root_number=focus.root_number,
                path__startswith=focus.path + ".",
                depth__lte=focus.depth + TREE_MAX_DEPTH,
            ).order_by("path")[:TREE_MAX_POSTS]
        )
        next_after = None
        for post in posts:
            post.tree_depth = post.depth - base_depth
    else:
        roots = list(
            topic.posts.filter(depth=0, number__gt=after)
            .order_by("number")
            .values_list("number", flat=True)[: TREE_ROOTS_PER_PAGE + 1]
        )
        next_after = roots[TREE_ROOTS_PER_PAGE - 1] if len(roots) > TREE_ROOTS_PER_PAGE else None
        roots = roots[:TREE_ROOTS_PER_PAGE]
        posts = list(
            related.filter(root_number__in=roots, depth__lte=TREE_MAX_DEPTH - 1).order_by("path")[
                :TREE_MAX_POSTS
            ]
        )
        for post in posts:
            # Level 1 for answers, so the opening post sits above them at level 0.
            post.tree_depth = post.depth + 1
    for post in posts:
        post.continues = post.tree_depth >= TREE_MAX_DEPTH and post.reply_count > 0
    return posts, next_after


def decorate_posts(user, topic: Topic, posts: list[Post]) -> None:
    """What this reader may do with each post, and what they did already (two queries at most)."""
    liked: set[int] = set()
    bookmarked: set[int] = set()
    ids = [post.pk for post in posts]
    if user.is_authenticated and ids and all(hasattr(post, "reader_liked") for post in posts):
        liked = {post.pk for post in posts if post.reader_liked}
        bookmarked = {post.pk for post in posts if post.reader_bookmarked}
    elif user.is_authenticated and ids:
        liked = set(Like.objects.filter(user=user, post_id__in=ids).values_list("post_id", flat=True))
        bookmarked = set(
            Bookmark.objects.filter(user=user, post_id__in=ids).values_list("post_id", flat=True)
        )
    moderator = permissions.is_moderator(user)
    may_reply = permissions.can_reply(user, topic)
    for post in posts:
        # Set for the tree view only; a value, not a failed template lookup, elsewhere.
        post.tree_depth = getattr(post, "tree_depth", 0)
        post.continues = getattr(post, "continues", False)
        post.may_reply = may_reply
        post.topic = topic
        post.liked = post.pk in liked
        post.bookmarked = post.pk in bookmarked
        post.show_text = permissions.can_see_post_text(user, post)
        post.may_like = permissions.can_like(user, post)
        post.may_edit = permissions.can_edit_post(user, post)
        post.may_withdraw = permissions.can_withdraw_post(user, post)
        post.may_moderate = moderator
        post.may_bookmark = user.is_authenticated
        post.html = post.localized_cooked


# Post actions whose address is /posts/<id>/<action> (forum/urls.py); reversed once per page.
POST_URL_NAMES = {
    "replies": "forum:post_replies",
    "like": "forum:like_post",
    "likers": "forum:post_likers",
    "bookmark": "forum:bookmark_post",
    "edit": "forum:edit_post",
    "withdraw": "forum:withdraw_post",
    "flag": "forum:flag_post",
    "highlight": "forum:highlight_post",
    "hide": "forum:hide_post",
    "history": "forum:post_history",
}
_PLACEHOLDER = 987654321


def _pattern(name: str, *args) -> str:
    """A reversed URL with ``{}`` where the last argument goes (reverse() once, format per post)."""
    url = reverse(name, args=[*args, _PLACEHOLDER])
    head, _sep, tail = url.rpartition(str(_PLACEHOLDER))
    return head.replace("{", "{{").replace("}", "}}") + "{}" + tail


def _counted(cache: dict, singular: str, plural: str, count: int) -> str:
    """ngettext once per page and count (the post partial's reply and like counts)."""
    if count not in cache:
        cache[count] = ngettext(singular, plural, count)
    return cache[count] % {"counter": count}


def post_context(request, topic: Topic, posts: list[Post], *, whole_posts: bool = True) -> dict:
    """Everything forum/_post.html needs, decided once per page: permissions, URLs and labels.

    Every view that renders posts (the topic page, the tree, replies, the live fragment, a post's
    action bar after a like) calls this, so the partial does no {% url %}, {% blocktranslate %},
    {% csrf_token %} or permission call of its own. With ``whole_posts`` (not for an action bar
    alone) each post also gets its head and body, shared by every reader (forum/fragments.py).
    """
    decorate_posts(request.user, topic, posts)
    patterns = {key: _pattern(name) for key, name in POST_URL_NAMES.items()}
    post_link = _pattern("forum:topic_post", topic.slug or "topic", topic.pk)
    reply_url = reverse("forum:reply", args=[topic.pk])
    post_label, lower_label, to_label = (
        gettext("Post %(number)s,"),
        gettext("post %(number)s"),
        gettext("to post %(number)s"),
    )
    in_reply_to = gettext("In reply to @%(name)s")
    reply_counts: dict[int, str] = {}
    like_counts: dict[int, str] = {}
    for post in posts:
        number = {"number": post.number}
        post.urls = {key: pattern.format(post.pk) for key, pattern in patterns.items()}
        post.link = post_link.format(post.number)
        post.reply_url = reply_url
        post.label = mark_safe(post_label % number)
        post.small_label = mark_safe(lower_label % number)
        post.to_label = mark_safe(to_label % number)
        if post.reply_to_id and post.reply_to.number != 1:
            post.reply_to_link = post_link.format(post.reply_to.number)
            post.in_reply_to = mark_safe(
                in_reply_to % {"name": conditional_escape(post.reply_to.author.username)}
            )
        if post.reply_count:
            post.replies_label = mark_safe(
                _counted(reply_counts, "%(counter)s reply", "%(counter)s replies", post.reply_count)
            )
        if post.like_count:
            post.likes_label = mark_safe(
                _counted(like_counts, "%(counter)s like", "%(counter)s likes", post.like_count)
            )
    post_ui = {
        "csrf_input": format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
        ),
        "key_contribution": gettext("Key contribution"),
        "edited": gettext("edited"),
        "not_shown": gettext("That post is not shown."),
        "go_to_post": gettext("Go to that post"),
        "withdrawn": gettext("The author withdrew this post."),
        "hidden": gettext("A moderator hid this post."),
        "hidden_by_flags": gettext("Flags from members hid this post until a moderator reviews it."),
        "held": gettext("This post is waiting for a moderator's approval."),
        "show_text": gettext("Show the text"),
        "continue_thread": gettext("Continue this thread"),
        "liked": gettext("Liked"),
        "like": gettext("Like"),
        "reply": gettext("Reply"),
        "quote": gettext("Quote"),
        "bookmarked": gettext("Bookmarked"),
        "bookmark": gettext("Bookmark"),
        "edit": gettext("Edit"),
        "withdraw": gettext("Withdraw"),
        "flag": gettext("Flag"),
        "remove_highlight": gettext("Remove highlight"),
        "highlight": gettext("Highlight"),
        "show_again": gettext("Show again"),
        "hide": gettext("Hide"),
    }
    if whole_posts:
        fragments.attach(topic, posts, post_ui)
        polls.attach(request, topic, posts)  # per reader, outside the shared bodies (forum/polls.py)
    return {"post_ui": post_ui}


def pinned_scope_for_home() -> list[str]:
    return [PinScope.GLOBAL]


def pinned_scope_for_category() -> list[str]:
    return [PinScope.GLOBAL, PinScope.CATEGORY]
