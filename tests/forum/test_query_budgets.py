"""Every list and topic page costs a fixed number of queries, whatever the size of the data.

Each page is measured on a small forum and a large one (a 300-post topic, more topics
than fit on a page), signed in or not; the counts must be equal and within the budget.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import page_cache
from forum import services
from forum.bulk import bulk_add_replies
from forum.models import Topic
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

# Budgets per page: (anonymous, signed in). Signed in adds the session's user, read
# states, likes/bookmarks of the page and the saved draft; the "new"/"unread" counts come
# from the cache until a list changes or the reader reads on (forum.reading.list_counts).
BUDGETS = {
    # Signed in, the number of topics of latest/category/tag comes from the cache (no COUNT)
    # until a topic changes; anonymous, measured as rendered just after a change (with COUNT).
    # Lists: +1 for the faces of the page's recent posters and their organisations (one query
    # for the whole page, reading.attach_posters; the opening poster comes with the topic row),
    # +1 for the tags. Signed in, measured with the rows in the cache (forum/fragments.py), which
    # spares both until a list changes. The list itself reads a few columns of each topic
    # (reading.for_rows); rows not in the cache read their topics whole: +1 (anonymous here).
    # Latest and category: +1 just after a change for the ids of the pinned topics (then
    # cached; forum.reading.pinned_first), +1 on a page that shows pinned topics (none here),
    # read apart so that no query sorts every topic. The category bar comes from the cache
    # (permissions.top_categories) but just after a change of the site (anonymous here).
    "latest": (7, 3),
    "new": (6, 5),
    "unread": (None, 5),
    "top": (6, 4),
    # Signed in, +1 for the person's watching level (forum/watching.py).
    "category": (9, 6),
    "tag": (6, 3),
    # +2 for the summary and highlights panel (measured anonymous just after a change; signed in
    # it comes from the cache until the topic changes), +1 on a post's address for moved-post
    # redirects; signed in, +1 for the person's watching level of the topic and its category, +1
    # for their read position (likes and bookmarks come with the posts). Reading writes nothing:
    # the view counter is buffered and rereading what was read leaves the read position alone.
    "topic": (5, 7),
    "topic_last_page": (6, 8),
    "topic_tree": (5, 8),
    "topic_subtree": (4, 7),
    # Feeds are public; signed in, the verification-notice middleware reads the user row.
    "latest_rss": (1, 2),
    "category_rss": (2, 3),
    "topic_rss": (2, 3),
    "activity": (4, 5),
    "bookmarks": (None, 3),
}
# Anonymous pages served whole from the page cache (core/page_cache.py): no query, but the
# topic page's view counter.
# A cached page costs no query at all: the view counter is buffered (forum/view_counts.py).
CACHED_BUDGETS = {"latest": 0, "category": 0, "tag": 0, "topic": 0, "topic_last_page": 0}
# A signed-in reader's own copy of these pages: one query, Django's own for the person of the
# session (the session itself comes from the cache).
SIGNED_IN_CACHED_BUDGETS = {"latest": 1, "category": 1, "tag": 1, "topic": 1, "topic_last_page": 1}


def build_forum(size: int):
    category = CategoryFactory(slug=f"budget-{size}")
    authors = [OfficialFactory() for _ in range(3)]
    topics = [TopicFactory(category=category, author=authors[i % 3], tags=[]) for i in range(size)]
    services.retag_topic(topics[0], ["budget"])
    big = topics[0]
    bulk_add_replies(big, authors, 20 if size < 10 else 300)
    reader = OfficialFactory()
    for topic in topics:
        services.mark_read(reader, topic, 1)
        services.create_reply(authors[1], topic, "One more reply")
    big.refresh_from_db()
    post = big.posts.get(number=5)
    services.toggle_bookmark(reader, post)
    services.toggle_like(reader, post)
    return {"category": category, "topic": big, "author": authors[0], "reader": reader}


def urls(data):
    topic: Topic = data["topic"]
    category = data["category"]
    return {
        "latest": "/latest",
        "new": "/new",
        "unread": "/unread",
        "top": "/top?period=all",
        "category": f"/c/{category.slug}/{category.pk}",
        "tag": "/tag/budget",
        "topic": topic.get_absolute_url(),
        "topic_last_page": topic.post_url(topic.highest_post_number),
        "topic_tree": topic.get_absolute_url() + "?view=tree",
        "topic_subtree": topic.get_absolute_url() + "?view=tree&post=3",
        "latest_rss": "/latest.rss",
        "category_rss": f"/c/{category.slug}/{category.pk}.rss",
        "topic_rss": f"/t/{topic.slug}/{topic.pk}.rss",
        "activity": f"/u/{data['author'].username}/activity",
        "bookmarks": f"/u/{data['reader'].username}/bookmarks",
    }


def count_queries(client, url, *, rendered: bool = False) -> int:
    client.get(url)  # warm caches (content types, sessions) as a running server has them
    if rendered:
        page_cache.changed(site=True)  # the cost of rendering the page, not of the cached copy
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_pages_cost_the_same_for_small_and_large_data(client, signed_in, settings):
    # Signed in, the cost of rendering the page (each reader's own copy is measured below).
    settings.PAGE_CACHE_SIGNED_IN = False
    small, large = build_forum(2), build_forum(40)
    assert large["topic"].posts_count == 302
    measured = {}
    for name in BUDGETS:
        budget = BUDGETS[name][1 if signed_in else 0]
        if budget is None:
            continue
        counts = []
        for data in (small, large):
            client.logout()
            if signed_in:
                client.force_login(data["reader"])
            counts.append(count_queries(client, urls(data)[name], rendered=not signed_in))
        measured[name] = counts
    problems = {
        name: counts
        for name, counts in measured.items()
        if counts[0] != counts[1] or counts[0] != BUDGETS[name][1 if signed_in else 0]
    }
    assert problems == {}, f"query counts (small, large) not on budget or growing: {problems} of {measured}"


def test_anonymous_pages_from_the_page_cache_cost_no_query(client):
    small, large = build_forum(2), build_forum(40)
    measured = {
        name: [count_queries(client, urls(data)[name]) for data in (small, large)] for name in CACHED_BUDGETS
    }
    assert measured == {name: [budget, budget] for name, budget in CACHED_BUDGETS.items()}


def test_signed_in_pages_from_the_page_cache_cost_one_query(client):
    small, large = build_forum(2), build_forum(40)
    measured = {}
    for name in SIGNED_IN_CACHED_BUDGETS:
        counts = []
        for data in (small, large):
            client.force_login(data["reader"])
            client.get(urls(data)[name])  # reading the topic moves the read position: not kept
            counts.append(count_queries(client, urls(data)[name]))
        measured[name] = counts
    assert measured == {name: [budget, budget] for name, budget in SIGNED_IN_CACHED_BUDGETS.items()}


# The search page signed in, narrowed to a category: the session's person, the category filtered
# on, the newest post's id, the newest matches, their ranking and the page's posts with their
# topics, categories and authors, the categories of the filter form. Kept for the same search
# (forum/search_views.py): the person, the category filtered on and the form's categories.
SEARCH_BUDGETS = {"rendered": 7, "kept": 3}


def test_a_search_costs_the_same_whatever_the_matches(client):
    small = build_forum(2)
    client.force_login(small["reader"])
    measured = {"rendered": [], "kept": []}
    for data in (small, build_forum(40)):  # 5 matching topics, then 45: more than a page
        url = f"/search?q=reply&category={data['category'].slug}"
        measured["rendered"].append(count_queries(client, url, rendered=True))
        measured["kept"].append(count_queries(client, url))
    assert measured == {name: [budget, budget] for name, budget in SEARCH_BUDGETS.items()}


def test_exact_budget_for_a_topic_page(client, django_assert_num_queries):
    data = build_forum(2)
    url = data["topic"].post_url(data["topic"].highest_post_number)
    client.get(url)
    page_cache.changed(topic_ids=[data["topic"].pk])
    with django_assert_num_queries(BUDGETS["topic_last_page"][0]):
        client.get(url)
    with django_assert_num_queries(CACHED_BUDGETS["topic_last_page"]):
        client.get(url)
