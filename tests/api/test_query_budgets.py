"""Every API read costs a fixed number of queries, whatever the size of the data.

Each endpoint is measured on a small forum and a large one (a 300-post topic, more
topics than fit on a page) with a key; the counts must be equal and within the budget.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from forum import services
from forum.bulk import bulk_add_replies
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

# With a key: 1 query finds the key and its person; the rest is the endpoint's own.
BUDGETS = {
    # Topic lists: +1 for the recent posters of the page (`posters` and `users`, one query).
    "latest": 5,
    "new": 6,
    "top": 5,
    "category": 7,
    "category_show": 4,
    "categories": 3,
    "tag": 5,
    # The view counter is buffered (forum/view_counts.py): no UPDATE on a read.
    "topic": 7,
    "topic_at_post": 7,
    "topic_posts": 4,
    "post": 3,
    "posts": 3,
    "tags": 2,
    "user": 2,
    "session": 1,
    "site": 4,
}


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
    services.toggle_like(reader, big.posts.get(number=5))
    return {"category": category, "topic": big, "author": authors[0], "reader": reader}


def urls(data):
    topic = data["topic"]
    category = data["category"]
    post_ids = "&".join(f"post_ids[]={pk}" for pk in topic.posts.values_list("pk", flat=True)[:20])
    return {
        "latest": "/latest.json",
        "new": "/new.json",
        "top": "/top.json?period=all",
        "category": f"/c/{category.slug}/{category.pk}.json",
        "category_show": f"/c/{category.pk}/show.json",
        "categories": "/categories.json",
        "tag": "/tag/budget.json",
        "topic": f"/t/{topic.slug}/{topic.pk}.json",
        "topic_at_post": f"/t/{topic.pk}/{topic.highest_post_number}.json",
        "topic_posts": f"/t/{topic.pk}/posts.json?{post_ids}",
        "post": f"/posts/{topic.posts.get(number=5).pk}.json",
        "posts": "/posts.json",
        "tags": "/tags.json",
        "user": f"/u/{data['author'].username}.json",
        "session": "/session/current.json",
        "site": "/site.json",
    }


def count_queries(client, url) -> int:
    client.get(url)  # warm caches (content types, the key's last use) as a running server has them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def test_api_reads_cost_the_same_for_small_and_large_data(key_for):
    small, large = build_forum(3), build_forum(40)
    small_client = Client(headers={"Api-Key": key_for(small["reader"])})
    large_client = Client(headers={"Api-Key": key_for(large["reader"])})
    small_urls, large_urls = urls(small), urls(large)
    measured = {}
    for name in BUDGETS:
        measured[name] = (
            count_queries(small_client, small_urls[name]),
            count_queries(large_client, large_urls[name]),
        )
    assert {name: counts[0] for name, counts in measured.items()} == {
        name: counts[1] for name, counts in measured.items()
    }
    assert {name: counts[1] for name, counts in measured.items()} == BUDGETS


def test_exact_budget_for_a_topic(key_for, django_assert_num_queries):
    data = build_forum(3)
    client = Client(headers={"Api-Key": key_for(data["reader"])})
    url = urls(data)["topic"]
    client.get(url)
    # key + person, topic, posts, stream, participants, tags, likes, the view counter
    with django_assert_num_queries(BUDGETS["topic"]):
        assert client.get(url).status_code == 200
