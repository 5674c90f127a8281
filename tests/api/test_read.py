"""Shapes of the read endpoints: Discourse's field names, and ours beside them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from forum import services
from forum.models import PinScope, TopicStatus
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

TOPIC_LIST_FIELDS = {
    "id", "title", "fancy_title", "slug", "posts_count", "reply_count", "highest_post_number",
    "created_at", "last_posted_at", "bumped_at", "pinned", "closed", "archived", "visible", "views",
    "like_count", "category_id", "tags", "posters", "last_poster_username", "archetype", "opens_at",
}  # fmt: skip
POST_FIELDS = {
    "id", "username", "name", "avatar_template", "created_at", "cooked", "post_number",
    "reply_to_post_number", "reply_count", "topic_id", "updated_at", "yours", "version", "can_edit",
    "actions_summary", "user_id", "official", "topic_slug", "hidden", "user_deleted",
}  # fmt: skip


@pytest.fixture
def forum_data():
    category = CategoryFactory(slug="digital", name="Digitalisation")
    author = OfficialFactory(username="harare_ict", position="Head of ICT Division")
    topic = TopicFactory(
        category=category,
        author=author,
        title="How does your city close the digital divide?",
        raw="Tell us **what worked**.",
    )
    topic.tags.set(["digital-divide"])
    replier = OfficialFactory(username="toronto_cio")
    first = topic.posts.get(number=1)
    reply = services.create_reply(replier, topic, "We lend laptops at libraries.", reply_to=first)
    nested = services.create_reply(author, topic, "How many laptops?", reply_to=reply)
    services.toggle_like(replier, first)
    topic.refresh_from_db()
    return {"category": category, "topic": topic, "author": author, "replier": replier, "reply": reply,
            "nested": nested, "first": first}  # fmt: skip


def test_latest(api_as, forum_data):
    topic = forum_data["topic"]
    body = api_as("verified").get("/latest.json").json()
    assert set(body) >= {"users", "primary_groups", "topic_list"}
    assert body["topic_list"]["can_create_topic"] is True
    row = body["topic_list"]["topics"][0]
    assert set(row) >= TOPIC_LIST_FIELDS
    assert row["id"] == topic.pk
    assert row["posts_count"] == 3
    assert row["highest_post_number"] == 3
    assert row["like_count"] == 1
    assert row["tags"] == ["digital-divide"]
    assert row["last_poster_username"] == "harare_ict"
    assert row["posters"][0]["user_id"] == forum_data["author"].pk
    assert row["posters"][0]["description"] == "Original Poster"
    assert row["created_at"].endswith("Z")
    users = {user["id"]: user for user in body["users"]}
    assert users[forum_data["author"].pk]["official"]["verified"] is True
    assert users[forum_data["author"].pk]["official"]["position"] == "Head of ICT Division"


def test_latest_pages_from_zero_with_a_more_topics_url(api_as):
    category = CategoryFactory()
    author = OfficialFactory()
    for _ in range(31):
        TopicFactory(category=category, author=author)
    client = api_as("verified")
    first = client.get("/latest.json").json()["topic_list"]
    assert len(first["topics"]) == 30
    assert first["more_topics_url"] == "/latest?page=1"
    second = client.get("/latest.json?page=1").json()["topic_list"]
    assert len(second["topics"]) == 1
    assert "more_topics_url" not in second


def test_pinned_closed_and_scheduled_topics(api_as):
    moderator = ModeratorFactory()
    pinned = TopicFactory(author=moderator)
    services.pin_topic(pinned, PinScope.GLOBAL, by=moderator)
    closed = TopicFactory()
    services.close_topic(closed, by=moderator)
    opens_at = timezone.now() + timedelta(hours=2)
    scheduled = TopicFactory(status=TopicStatus.SCHEDULED, opens_at=opens_at)
    rows = {row["id"]: row for row in api_as("verified").get("/latest.json").json()["topic_list"]["topics"]}
    assert rows[pinned.pk]["pinned"] and rows[pinned.pk]["pinned_globally"]
    assert rows[closed.pk]["closed"] and not rows[closed.pk]["pinned"]
    assert rows[scheduled.pk]["opens_at"].startswith(opens_at.strftime("%Y-%m-%dT%H:%M"))
    assert rows[pinned.pk]["opens_at"] is None


def test_top_and_new(api_as, forum_data):
    client = api_as("verified")
    top = client.get("/top.json?period=monthly").json()["topic_list"]
    assert top["for_period"] == "monthly"
    assert [row["id"] for row in top["topics"]] == [forum_data["topic"].pk]
    assert client.get("/top.json?period=fortnightly").status_code == 400
    new = client.get("/new.json").json()["topic_list"]["topics"]
    assert [row["id"] for row in new] == [forum_data["topic"].pk]


def test_categories(api_as, forum_data):
    CategoryFactory(slug="digital-sub", name="Sub", parent=forum_data["category"])
    body = api_as("verified").get("/categories.json").json()["category_list"]
    assert body["can_create_category"] is False
    assert [c["slug"] for c in body["categories"]] == ["digital"]
    category = body["categories"][0]
    assert category["topic_count"] == 1
    assert category["post_count"] == 3
    assert category["color"] == "0b5cad"
    assert category["permission"] == 1
    assert category["has_children"] is True
    assert len(category["subcategory_ids"]) == 1


def test_category_topics_and_show(api_as, forum_data):
    category = forum_data["category"]
    client = api_as("verified")
    for path in (f"/c/{category.slug}/{category.pk}.json", f"/c/{category.pk}.json"):
        topics = client.get(path).json()["topic_list"]["topics"]
        assert [row["id"] for row in topics] == [forum_data["topic"].pk]
    shown = client.get(f"/c/{category.pk}/show.json").json()["category"]
    assert shown["id"] == category.pk
    assert shown["name"] == "Digitalisation"
    assert client.get("/c/999999/show.json").status_code == 404


def test_topic(api_as, forum_data):
    topic = forum_data["topic"]
    client = api_as("verified")
    body = client.get(f"/t/{topic.slug}/{topic.pk}.json").json()
    assert body == client.get(f"/t/{topic.pk}.json").json() | {"views": body["views"]}
    assert body["id"] == topic.pk
    assert body["title"] == "How does your city close the digital divide?"
    assert body["tags"] == ["digital-divide"]
    assert body["details"]["created_by"]["username"] == "harare_ict"
    assert body["details"]["can_create_post"] is True
    participants = {p["username"]: p["post_count"] for p in body["details"]["participants"]}
    assert participants == {"harare_ict": 2, "toronto_cio": 1}
    stream = body["post_stream"]
    assert stream["stream"] == [forum_data["first"].pk, forum_data["reply"].pk, forum_data["nested"].pk]
    posts = stream["posts"]
    assert set(posts[0]) >= POST_FIELDS
    assert posts[0]["cooked"] == "<p>Tell us <strong>what worked</strong>.</p>\n"
    assert posts[0]["actions_summary"][0] == {"id": 2, "count": 1, "acted": False, "can_act": True}
    assert posts[1]["reply_to_post_number"] == 1
    assert posts[2]["reply_to_post_number"] == 2
    assert posts[2]["reply_to_user"]["username"] == "toronto_cio"
    assert posts[1]["official"]["organisation"]["name"]


def test_topic_at_a_post_number(api_as, forum_data):
    topic = forum_data["topic"]
    body = api_as("verified").get(f"/t/{topic.pk}/3.json").json()
    assert body["current_post_number"] == 3
    assert 3 in [post["post_number"] for post in body["post_stream"]["posts"]]


def test_likes_show_as_acted_for_the_liker(api_as, key_for, forum_data):
    from django.test import Client

    replier = forum_data["replier"]
    client = Client(headers={"Api-Key": key_for(replier)})
    posts = client.get(f"/t/{forum_data['topic'].pk}.json").json()["post_stream"]["posts"]
    assert posts[0]["actions_summary"][0]["acted"] is True
    assert posts[1]["yours"] is True


def test_topic_posts_by_id(api_as, forum_data):
    topic = forum_data["topic"]
    ids = [forum_data["nested"].pk, forum_data["reply"].pk]
    query = "&".join(f"post_ids[]={pk}" for pk in ids)
    body = api_as("verified").get(f"/t/{topic.pk}/posts.json?{query}").json()
    assert body["id"] == topic.pk
    assert [post["post_number"] for post in body["post_stream"]["posts"]] == [2, 3]


def test_posts_single_by_number_and_latest(api_as, forum_data):
    client = api_as("verified")
    reply = forum_data["reply"]
    single = client.get(f"/posts/{reply.pk}.json").json()
    assert single["raw"] == "We lend laptops at libraries."
    assert single["post_number"] == 2
    by_number = client.get(f"/posts/by_number/{forum_data['topic'].pk}/2").json()
    assert by_number["id"] == reply.pk
    latest = client.get("/posts.json").json()["latest_posts"]
    assert [post["id"] for post in latest][:1] == [forum_data["nested"].pk]
    assert latest[0]["topic_title"] == "How does your city close the digital divide?"
    older = client.get(f"/posts.json?before={forum_data['nested'].pk}").json()["latest_posts"]
    assert forum_data["nested"].pk not in [post["id"] for post in older]


def test_withdrawn_posts_keep_their_place_without_their_text(api_as, forum_data):
    services.withdraw_post(forum_data["replier"], forum_data["reply"])
    posts = api_as("verified").get(f"/t/{forum_data['topic'].pk}.json").json()["post_stream"]["posts"]
    assert posts[1]["user_deleted"] is True
    assert posts[1]["cooked"] == ""
    assert "laptops" not in str(posts[1])


def test_tags(api_as, forum_data):
    client = api_as("verified")
    tags = client.get("/tags.json").json()["tags"]
    assert tags == [
        {"id": "digital-divide", "text": "digital-divide", "name": "digital-divide", "count": 1,
         "pm_count": 0, "target_tag": None}
    ]  # fmt: skip
    topics = client.get("/tag/digital-divide.json").json()["topic_list"]["topics"]
    assert [row["id"] for row in topics] == [forum_data["topic"].pk]


def test_users(api_as, forum_data):
    client = api_as("verified")
    for path in ("/u/harare_ict.json", "/users/harare_ict.json"):
        user = client.get(path).json()["user"]
        assert user["username"] == "harare_ict"
        assert user["title"] == "Head of ICT Division"
        assert user["official"]["verified"] is True
        assert "email" not in user
    assert client.get("/u/nobody-at-all.json").status_code == 404
    member = UserFactory(username="newcomer")
    assert client.get("/u/newcomer.json").json()["user"]["official"] == {
        "verified": False,
        "position": "",
        "organisation": None,
    }
    assert member.pk


def test_session_current(api_as):
    client = api_as("member")
    current = client.get("/session/current.json").json()["current_user"]
    assert current["username"] == client.user.username
    assert current["can_create_topic"] is False
    assert "verified" in current["posting_block_reason"]
    assert current["api_key_scope"] == "read_write"


def test_site(api_as, forum_data):
    body = api_as("verified").get("/site.json").json()
    assert [c["slug"] for c in body["categories"]] == ["digital"]
    assert {t["id"] for t in body["post_action_types"]} == {2, 3, 4, 7, 8}
    assert body["top_tags"] == ["digital-divide"]


def test_the_html_pages_keep_their_urls(client, forum_data):
    topic = forum_data["topic"]
    page = client.get(topic.get_absolute_url())
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert client.get("/u/harare_ict")["Content-Type"].startswith("text/html")
    assert client.get("/latest")["Content-Type"].startswith("text/html")


def test_topic_pages_of_twenty_posts(api_as):
    from forum.bulk import bulk_add_replies

    topic = TopicFactory()
    bulk_add_replies(topic, [OfficialFactory()], 30)
    topic.refresh_from_db()
    client = api_as("verified")
    first = client.get(f"/t/{topic.pk}.json").json()["post_stream"]
    second = client.get(f"/t/{topic.pk}.json?page=2").json()["post_stream"]
    assert [p["post_number"] for p in first["posts"]] == list(range(1, 21))
    assert [p["post_number"] for p in second["posts"]] == list(range(21, 32))
    assert len(first["stream"]) == 31
    assert client.get(f"/t/{topic.pk}.json?page=two").status_code == 400


def test_usernames_are_case_insensitive(api_as, forum_data):
    assert api_as("verified").get("/u/HARARE_ICT.json").json()["user"]["username"] == "harare_ict"


def test_search_json_answers_with_the_exact_content_type_and_a_key(api_as, forum_data):
    response = api_as("verified").get("/search.json?q=libraries")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert forum_data["reply"].pk in [post["id"] for post in body["posts"]]
    assert body["grouped_search_result"]["term"] == "libraries"


def test_a_topics_announcement_sits_beside_discourses_fields(api_as, forum_data):
    topic = forum_data["topic"]
    client = api_as("verified")
    assert client.get(f"/t/{topic.pk}.json").json()["announcement"] is None
    services.set_topic_announcement(topic, {"en": "Part of the launch webinar"}, url="/events/launch/")
    body = client.get(f"/t/{topic.pk}.json").json()
    assert body["announcement"] == {"text": "Part of the launch webinar", "url": "/events/launch/"}


def test_topics_created_by(api_as, forum_data):
    client = api_as("verified")
    topics = client.get("/topics/created-by/harare_ict.json").json()["topic_list"]["topics"]
    assert [row["id"] for row in topics] == [forum_data["topic"].pk]
    assert client.get("/topics/created-by/toronto_cio.json").json()["topic_list"]["topics"] == []
