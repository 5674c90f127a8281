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
from notifications import services as notification_services
from notifications.models import NotificationKind
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

# With a key: 1 query finds the key and its person; the rest is the endpoint's own.
BUDGETS = {
    # Topic lists: +1 for the recent posters of the page (`posters` and `users`, one query).
    "latest": 5,
    "new": 6,
    "top": 5,
    # +1: the opening posts' excerpts, as Discourse's category lists carry them.
    "category": 8,
    "category_show": 4,
    "categories": 3,
    "tag": 5,
    # The view counter is buffered (forum/view_counts.py): no UPDATE on a read.
    # +2: the suggested topics (the latest others of the category) and their excerpts.
    "topic": 9,
    "topic_at_post": 9,
    "topic_posts": 4,
    "post": 3,
    "posts": 3,
    "tags": 2,
    # +1: the person's visible post count and last post; +1 whether they refuse personal
    # messages (can_send_private_message_to_user).
    "user": 4,
    "session": 1,
    # +1: the groups the reader may see (groups/).
    "site": 5,
    # Issue 20's endpoints.
    "about": 2,  # the staff; the counts are cached per access level
    "basic_info": 1,
    "notifications": 4,  # count, page, the page's topics
    "unread": 6,
    "filter": 5,
    "category_by_slug": 9,  # the category by its slug, then as /c/<slug>/<id>.json
    "directory": 3,
    "user_actions": 3,
    "summary": 6,
    "replies": 3,
    "revision": 3,
    "raw": 2,
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
    services.edit_post(big.author, big.posts.get(number=1), "Tell us what worked, and what did not.")
    for topic in topics:
        notification_services.notify(
            reader,
            NotificationKind.REPLY,
            actor=authors[1],
            title="A reply",
            url=topic.get_absolute_url(),
            data={"topic_id": topic.pk, "post_id": topic.pk, "post_number": 2},
            dedupe_key=f"budget:{topic.pk}",
        )
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
        "about": "/about.json",
        "basic_info": "/site/basic-info.json",
        "notifications": "/notifications.json",
        "unread": "/unread.json",
        "filter": f"/filter.json?q=category:{category.slug} status:open order:created",
        "category_by_slug": f"/c/{category.slug}.json",
        "directory": "/directory_items.json?period=all&order=post_count",
        "user_actions": f"/user_actions.json?username={data['author'].username}&filter=4,5&offset=0",
        "summary": f"/u/{data['author'].username}/summary.json",
        "replies": f"/posts/{topic.posts.get(number=1).pk}/replies.json",
        "revision": f"/posts/{topic.posts.get(number=1).pk}/revisions/latest.json",
        "raw": f"/raw/{topic.pk}/1",
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
    # key + person, topic, posts, stream, participants, tags, suggested topics and their excerpts,
    # likes
    with django_assert_num_queries(BUDGETS["topic"]):
        assert client.get(url).status_code == 200


def test_budget_for_the_moderators_list_of_people(key_for, django_assert_num_queries):
    from tests.conftest import make_user

    staff = make_user("staff")
    client = Client(headers={"Api-Key": key_for(staff)})
    url = "/admin/users/list/active.json"
    client.get(url)
    for _ in range(3):
        OfficialFactory()
    # key + person, the page of people with their post counts
    with django_assert_num_queries(2):
        assert len(client.get(url).json()) == 4
    for _ in range(20):
        OfficialFactory()
    with django_assert_num_queries(2):
        assert len(client.get(url).json()) == 24
