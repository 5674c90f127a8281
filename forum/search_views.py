"""/search (the page) and /search.json (the Discourse-shaped answer). Thin: forum.search does the work."""

import hashlib
import time

from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import avatars
from core import clean, page_cache

from . import permissions
from .models import TopicStatus
from .search import STATUSES, SearchResults, apply_form_filters, cache_name, parse_query, prepare, run, search

# Anonymous searches per minute and per address; signed-in people are not limited here.
ANONYMOUS_SEARCHES_PER_MINUTE = 15
RATE_WINDOW_SECONDS = 60


def rate_limit_wait(request) -> int:
    """Seconds an anonymous visitor must wait before searching again (0: go ahead).

    Counted in the cache (Redis in production), so every web process shares the counter.
    """
    if request.user.is_authenticated:
        return 0
    now = time.time()
    window = int(now // RATE_WINDOW_SECONDS)
    key = f"search-rate:{request.META.get('REMOTE_ADDR', 'unknown')}:{window}"
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS + 5)
        count = 1
    if count <= ANONYMOUS_SEARCHES_PER_MINUTE:
        return 0
    return max(1, int(RATE_WINDOW_SECONDS - now % RATE_WINDOW_SECONDS))


def _rate_message(wait: int) -> str:
    return _(
        "You have searched many times in a short while. Please wait %(seconds)d seconds, "
        "or sign in to search without this limit."
    ) % {"seconds": wait}


# Far beyond the last page of any search, small enough to stay a valid OFFSET.
MAX_PAGE = 10_000


def _page_number(request) -> int:
    value = request.GET.get("page") or "1"
    page = clean.bounded_int(value, minimum=-clean.MAX_DB_INT)
    if page is None:
        return 1
    if page > MAX_PAGE:
        raise Http404(_("There is no such page of results."))
    return max(1, page)


def _query(request):
    text = request.GET.get("q", "")
    parsed = apply_form_filters(parse_query(text), request.GET)
    return text, parsed


@require_GET
def search_page(request):
    """Results grouped by topic (the best matching post of each), with filters and clear messages."""
    text, parsed = _query(request)
    submitted = bool(text.strip()) or parsed.has_filters
    querystring = request.GET.copy()
    querystring.pop("page", None)
    results_html, status, wait_message = "", 200, ""
    if submitted:
        wait = rate_limit_wait(request)
        if wait:
            status, wait_message = 429, _rate_message(wait)
        else:
            results_html = _results_html(request, parsed, querystring)
    context = {
        "q": text,
        "parsed": parsed,
        "results_html": results_html,
        "wait_message": wait_message,
        "querystring": querystring,
        "categories": permissions.visible_categories(request.user).order_by("position", "name"),
        "statuses": [(key, TopicStatus(value).label) for key, value in STATUSES.items()],
        "form": request.GET,
    }
    return render(request, "forum/search.html", context, status=status)


def _results_html(request, parsed, querystring) -> str:
    """The hits as HTML, kept in the cache for the same query (the same words, filters and
    visibility: ``search.cache_name``), shared by anonymous readers and each signed-in person's
    own, until a topic, a list, the site or that person's own version moves on, and at most
    ``page_cache.MAX_AGE`` seconds (the hits say "3 minutes ago"). A repeated search, or paging
    back, runs no search query."""
    results, posts = prepare(request.user, parsed, page=_page_number(request))

    def render_results() -> str:
        if posts is not None:
            run(results, posts)
        return render_to_string(
            "forum/_search_results.html", {"results": results, "querystring": querystring}
        )

    name = cache_name(results, posts) if posts is not None else None
    if name is None:
        return mark_safe(render_results())
    scopes, whose = [page_cache.SEARCH], "a"
    if request.user.is_authenticated:  # their groups are a subquery of the search: not in its name
        scopes.append(page_cache.reader_scope(request.user.pk))
        whose = f"r{request.user.pk}"
    links = hashlib.sha1(querystring.urlencode().encode(), usedforsecurity=False).hexdigest()
    name = f"search:{whose}:{name}:{links}"
    return mark_safe(page_cache.kept(name, scopes, render_results, timeout=page_cache.MAX_AGE))


@require_GET
def search_json(request):
    """The Discourse /search.json shape: posts, topics, users, categories, grouped_search_result."""
    text, parsed = _query(request)
    wait = rate_limit_wait(request)
    if wait:
        return JsonResponse(
            {"errors": [_rate_message(wait)], "error_type": "rate_limit", "extras": {"wait_seconds": wait}},
            status=429,
        )
    results = search(request.user, parsed, page=_page_number(request))
    return JsonResponse(discourse_payload(request, text, results))


def discourse_payload(request, term: str, results: SearchResults) -> dict:
    posts, topics = [], []
    for hit in results.hits:
        post, topic, author = hit.post, hit.topic, hit.post.author
        posts.append(
            {
                "id": post.pk,
                "name": author.name,
                "username": author.username,
                "avatar_template": avatars.template(author),
                "created_at": post.created_at,
                "like_count": post.like_count,
                # HTML-safe, as Discourse's pg-headline blurbs are: escaped text, highlights in spans.
                "blurb": _discourse_blurb(str(hit.blurb_html)),
                "post_number": post.number,
                "topic_id": topic.pk,
            }
        )
        status = topic.effective_status()
        topics.append(
            {
                "id": topic.pk,
                "title": topic.localized_title,
                "fancy_title": str(hit.title_html).replace("<mark>", "").replace("</mark>", ""),
                "slug": topic.slug,
                "posts_count": topic.posts_count,
                "reply_count": topic.replies_count,
                "highest_post_number": topic.highest_post_number,
                "created_at": topic.created_at,
                "last_posted_at": topic.last_posted_at,
                "bumped": True,
                "bumped_at": topic.bumped_at,
                "pinned": topic.is_pinned_now(),
                "pinned_globally": topic.pin_scope == "global" and topic.is_pinned_now(),
                "visible": True,
                "closed": status == TopicStatus.CLOSED,
                "archived": status == TopicStatus.ARCHIVED,
                "views": topic.views_count,
                "like_count": topic.likes_count,
                "category_id": topic.category_id,
                "archetype": "regular",
            }
        )
    return {
        "posts": posts,
        "topics": topics,
        "users": [],
        "categories": [],
        "tags": [],
        "groups": [],
        "grouped_search_result": {
            "more_posts": None,
            "more_users": None,
            "more_categories": None,
            "term": term,
            # Discourse's id of its search log entry; no search log is kept here (0: none).
            "search_log_id": 0,
            "more_full_page_results": results.has_next or None,
            "can_create_topic": bool(
                request.user.is_authenticated and permissions.posting_block_reason(request.user) is None
            ),
            "error": results.error or None,
            "extra": {"notes": results.notes},
            "post_ids": [hit.post.pk for hit in results.hits],
            "user_ids": [],
            "category_ids": [],
            "tag_ids": [],
            "group_ids": [],
        },
    }


def _discourse_blurb(blurb_html: str) -> str:
    return blurb_html.replace("<mark>", '<span class="search-highlight">').replace("</mark>", "</span>")
