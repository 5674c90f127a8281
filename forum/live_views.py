"""What open pages fetch when a live event arrives (static/js/topic_live.js, list_live.js).

Live events carry only ids and numbers (forum/live.py); these views answer with what the
person asking may see, rendered by the same templates as the full pages. Read-only, with a
query budget that does not grow with the topic.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import clean

from . import permissions, reading
from .models import Highlight, Topic
from .views import _composer_context

MAX_TOPIC_IDS = 100


def _topic(request, topic_id: int) -> Topic:
    topic = get_object_or_404(Topic.objects.select_related("category"), pk=topic_id)
    if not permissions.can_read(request.user, topic):
        permissions.not_found_if_message(topic)
        # A fragment, not a page: no sign-in redirect, just no.
        raise PermissionDenied(_("This topic is only open to some members."))
    return topic


def _number(request, name: str) -> int | None:
    number = clean.bounded_int(
        request.GET.get(name), minimum=-clean.MAX_DB_INT, maximum=clean.MAX_DB_INT - 1000
    )
    return None if number is None else max(0, number)


@never_cache
@require_GET
def topic_posts(request, topic_id: int):
    """``?after=<n>``: the posts numbered after n (one page at most); ``?number=<n>``: that post.

    Posts are shown as the topic page shows them to this person (hidden text as a placeholder).
    The ``X-Highest-Number`` header tells the page whether more remain beyond the ones sent.
    """
    topic = _topic(request, topic_id)
    after, number = _number(request, "after"), _number(request, "number")
    if number is not None:
        posts = reading.posts_between(topic, number, number, request.user)
        if not posts:
            raise Http404(_("That post is not in this topic."))
    elif after is not None:
        posts = reading.posts_between(topic, after + 1, after + reading.POSTS_PER_PAGE, request.user)
    else:
        raise Http404(_("Say which posts to show."))
    post_context = reading.post_context(request, topic, posts)
    highlighted = set()
    if posts:
        highlighted = set(
            Highlight.objects.filter(topic=topic, post__in=[post.pk for post in posts]).values_list(
                "post__number", flat=True
            )
        )
    response = render(
        request,
        "forum/_live_posts.html",
        {"topic": topic, "posts": posts, "highlighted_numbers": highlighted, **post_context},
    )
    response["X-Highest-Number"] = str(topic.highest_post_number)
    return response


@never_cache
@require_GET
def topic_composer(request, topic_id: int):
    """The reply composer as it stands now for this person (open, or why not)."""
    topic = _topic(request, topic_id)
    context = {"topic": topic, "composer_keep_slot": True, **_composer_context(request, topic)}
    return render(request, "forum/_composer.html", context)


@never_cache
@require_GET
def new_topics(request):
    """``?id=..&id=..`` (from ``topic_created`` events), optionally ``category`` or ``tag``:
    how many of those topics this person may see in that list, and the words for the bar."""
    numbers = (clean.bounded_int(value, minimum=1) for value in request.GET.getlist("id")[:MAX_TOPIC_IDS])
    ids = [number for number in numbers if number is not None]
    topics = permissions.visible_topics(request.user).filter(pk__in=ids)
    if category := clean.bounded_int(request.GET.get("category"), minimum=1):
        topics = topics.filter(Q(category_id=category) | Q(category__parent_id=category))
    if tag := request.GET.get("tag"):
        topics = topics.filter(tags__name=tag)
    count = topics.distinct().count() if ids else 0
    label = ngettext("%(count)d new topic: show it", "%(count)d new topics: show them", count) % {
        "count": count
    }
    return JsonResponse({"count": count, "label": label if count else ""})
