"""Issue 20's reads and writes: list parameters, raw text, a post's replies and revisions,
/unread, /filter, /c/<slug>, bookmarks, timers, removal, people's activity and the directory."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from forum import services
from forum.models import Bookmark, ModerationAction, ModerationLogEntry, TopicStatus
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def discussion(db):
    category = CategoryFactory(slug="digitalisation", name="Digitalisation")
    author = OfficialFactory(username="harare_ict")
    other = OfficialFactory(username="toronto_cio")
    topic = TopicFactory(
        category=category, author=author, title="How does your city close the digital divide?"
    )
    first = topic.posts.get(number=1)
    reply = services.create_reply(other, topic, "Libraries lend **laptops** here.", reply_to=first)
    return {
        "category": category,
        "author": author,
        "other": other,
        "topic": topic,
        "first": first,
        "reply": reply,
    }


# --- Lists ----------------------------------------------------------------------------------


def test_latest_takes_per_page_order_and_ascending(db):
    category = CategoryFactory()
    topics = [TopicFactory(category=category) for _ in range(4)]
    client = Client()
    page = client.get("/latest.json?per_page=2").json()["topic_list"]
    assert page["per_page"] == 2
    assert len(page["topics"]) == 2
    assert "per_page=2" in page["more_topics_url"] and "page=1" in page["more_topics_url"]
    oldest_first = client.get("/latest.json?order=created&ascending=true").json()["topic_list"]["topics"]
    assert [row["id"] for row in oldest_first] == [topic.pk for topic in topics]
    newest_first = client.get("/latest.json?order=created").json()["topic_list"]["topics"]
    assert [row["id"] for row in newest_first] == [topic.pk for topic in reversed(topics)]
    assert client.get("/latest.json?per_page=1000").status_code == 400
    assert client.get("/latest.json?order=nonsense").status_code == 400


def test_unread_lists_topics_with_posts_not_read_yet(api_as, discussion):
    client = api_as("verified")
    services.mark_read(client.user, discussion["topic"], 1)
    rows = client.get("/unread.json").json()["topic_list"]["topics"]
    assert [row["id"] for row in rows] == [discussion["topic"].pk]
    assert rows[0]["unread_posts"] == 1
    services.mark_read(client.user, discussion["topic"], 2)
    assert client.get("/unread.json").json()["topic_list"]["topics"] == []
    assert Client().get("/unread.json").json()["topic_list"]["topics"] == []


def test_category_by_slug(discussion):
    category = discussion["category"]
    rows = Client().get(f"/c/{category.slug}.json").json()["topic_list"]["topics"]
    assert [row["id"] for row in rows] == [discussion["topic"].pk]
    assert rows[0]["excerpt"].startswith("Tell us what worked")
    assert Client().get(f"/c/{category.pk}.json").json()["topic_list"]["topics"] == rows
    assert Client().get("/c/no-such-category.json").status_code == 404


def test_filter(discussion):
    other_category = CategoryFactory(slug="housing")
    closed = TopicFactory(
        category=other_category, title="Social housing waiting lists", status=TopicStatus.CLOSED
    )
    client = Client()

    def ids(query):
        response = client.get("/filter.json", {"q": query})
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["topic_list"]["topics"]]

    assert ids("category:digitalisation") == [discussion["topic"].pk]
    assert ids("status:closed") == [closed.pk]
    assert ids("status:open category:housing") == []
    assert ids("created-by:harare_ict") == [discussion["topic"].pk]
    assert ids("order:created-asc") == [discussion["topic"].pk, closed.pk]
    assert ids("housing") == [closed.pk]
    assert client.get("/filter.json", {"q": "status:sideways"}).status_code == 400
    assert client.get("/filter.json", {"q": "in:bookmarked"}).json()["topic_list"]["topics"] == []


def test_filter_keeps_to_what_the_reader_may_see(db):
    hidden = TopicFactory(category=CategoryFactory(slug="officials-only", read_access="verified"))
    assert Client().get("/filter.json?q=category:officials-only").json()["topic_list"]["topics"] == []
    assert hidden.pk not in [row["id"] for row in Client().get("/filter.json").json()["topic_list"]["topics"]]


# --- A topic with raw text ------------------------------------------------------------------


def test_topic_with_raw_and_a_post_number_query(discussion):
    topic = discussion["topic"]
    body = Client().get(f"/t/{topic.pk}.json?include_raw=true").json()
    assert [post["raw"] for post in body["post_stream"]["posts"]] == [
        "Tell us what worked in your city, and what did not.",
        "Libraries lend **laptops** here.",
    ]
    assert "raw" not in Client().get(f"/t/{topic.pk}.json").json()["post_stream"]["posts"][0]
    at_two = Client().get(f"/t/{topic.pk}.json?post_number=2&include_raw=true").json()
    assert at_two["current_post_number"] == 2
    post = at_two["post_stream"]["posts"][1]
    assert post["post_url"] == f"/t/{topic.slug}/{topic.pk}/2"
    assert post["posts_count"] == 2


def test_suggested_topics_and_detail_flags(api_as, discussion):
    other = TopicFactory(category=discussion["category"], title="Digital skills for older residents")
    moderator = api_as("moderator")
    body = moderator.get(f"/t/{discussion['topic'].pk}.json").json()
    assert [row["id"] for row in body["suggested_topics"]] == [other.pk]
    assert body["details"]["can_close_topic"] is True
    assert Client().get(f"/t/{discussion['topic'].pk}.json").json()["details"]["can_close_topic"] is False


# --- A post's replies, revisions and raw text -----------------------------------------------


def test_post_replies(discussion):
    rows = Client().get(f"/posts/{discussion['first'].pk}/replies.json").json()
    assert [row["id"] for row in rows] == [discussion["reply"].pk]
    assert rows[0]["reply_to_post_number"] == 1


def test_post_revisions(discussion):
    reply = discussion["reply"]
    services.edit_post(discussion["other"], reply, "Libraries lend **laptops** and hotspots here.")
    body = Client().get(f"/posts/{reply.pk}/revisions/2.json").json()
    assert body["current_revision"] == 2 and body["last_revision"] == 2
    assert body["username"] == "toronto_cio"
    assert "<ins>" in body["body_changes"]["inline"] and "hotspots" in body["body_changes"]["inline"]
    assert body["raw_before"] == "Libraries lend **laptops** here."
    assert Client().get(f"/posts/{reply.pk}/revisions/latest.json").json()["current_revision"] == 2
    assert Client().get(f"/posts/{reply.pk}/revisions/7.json").status_code == 404
    assert Client().get(f"/posts/{discussion['first'].pk}/revisions/latest.json").status_code == 404


def test_raw(discussion):
    topic = discussion["topic"]
    response = Client().get(f"/raw/{topic.pk}/2")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "Libraries lend **laptops** here."
    assert Client().get(f"/raw/{topic.pk}").content.decode().startswith("Tell us")
    assert Client().get(f"/raw/{topic.pk}/9").status_code == 404


def test_raw_of_a_restricted_topic(db):
    topic = TopicFactory(category=CategoryFactory(read_access="verified"))
    response = Client().get(f"/raw/{topic.pk}/1")
    assert response.status_code == 403
    assert response.json()["error_type"] == "invalid_access"


# --- Writes ---------------------------------------------------------------------------------


def test_bookmark_a_topic(api_as, discussion):
    client = api_as("verified")
    topic = discussion["topic"]
    assert client.put(f"/t/{topic.pk}/bookmark.json").status_code == 200
    assert client.put(f"/t/{topic.pk}/bookmark.json").status_code == 200  # stays bookmarked
    assert Bookmark.objects.filter(user=client.user, post=discussion["first"]).count() == 1
    assert client.put(f"/t/{topic.pk}/remove_bookmarks.json").status_code == 200
    assert not Bookmark.objects.filter(user=client.user).exists()
    assert Client().put(f"/t/{topic.pk}/bookmark.json").status_code == 403


def test_timer_schedules_the_opening(api_as, discussion):
    moderator = api_as("moderator")
    topic = discussion["topic"]
    when = timezone.now() + timedelta(days=2)
    response = moderator.post(f"/t/{topic.pk}/timer.json", {"time": when.isoformat(), "status_type": "open"})
    assert response.status_code == 200
    assert response.json()["closed"] is True
    topic.refresh_from_db()
    assert topic.status == TopicStatus.SCHEDULED
    assert abs((topic.opens_at - when).total_seconds()) < 1
    hours = moderator.post(f"/t/{topic.pk}/timer.json", {"time": "24", "status_type": "open"})
    assert hours.status_code == 200
    assert moderator.post(f"/t/{topic.pk}/timer.json", {"status_type": "open", "time": ""}).status_code == 200
    topic.refresh_from_db()
    assert topic.status == TopicStatus.OPEN
    assert (
        moderator.post(f"/t/{topic.pk}/timer.json", {"status_type": "close", "time": "24"}).status_code == 400
    )
    refused = api_as("verified").post(f"/t/{topic.pk}/timer.json", {"time": "24"})
    assert refused.status_code == 403


def test_deleting_a_topic_unlists_and_closes_it(api_as, discussion):
    topic = discussion["topic"]
    author = Client(headers={"Api-Key": _key(discussion["author"])})
    refused = author.delete(f"/t/{topic.pk}.json")
    assert refused.status_code == 403
    assert "withdraw" in refused.json()["errors"][0]
    moderator = api_as("moderator")
    assert moderator.delete(f"/t/{topic.pk}.json").json() == {"success": "OK"}
    topic.refresh_from_db()
    assert topic.unlisted and topic.status == TopicStatus.CLOSED
    logged = set(ModerationLogEntry.objects.filter(topic=topic).values_list("action", flat=True))
    assert {ModerationAction.UNLIST, ModerationAction.CLOSE} <= logged
    # Gone from the lists, still readable by its link, as the pages do with unlisted topics.
    assert topic.pk not in [row["id"] for row in Client().get("/latest.json").json()["topic_list"]["topics"]]
    assert Client().get(f"/t/{topic.pk}.json").status_code == 200
    # Reading and updating at the same address still work.
    title = {"title": "Closing the digital divide: what worked"}
    renamed = moderator.put(f"/t/-/{topic.pk}.json", title, content_type="application/json")
    assert renamed.status_code == 200


def _key(user) -> str:
    from api.services import create_api_key

    return create_api_key(None, user)[1]


# --- People ---------------------------------------------------------------------------------


def test_user_actions(discussion):
    services.toggle_like(discussion["author"], discussion["reply"])
    rows = Client().get("/user_actions.json?username=harare_ict&filter=4,5&offset=0").json()["user_actions"]
    assert [(row["action_type"], row["topic_id"], row["post_number"]) for row in rows] == [
        (4, discussion["topic"].pk, 1)
    ]
    likes = Client().get("/user_actions.json?username=harare_ict&filter=1").json()["user_actions"]
    assert [(row["action_type"], row["post_id"]) for row in likes] == [(1, discussion["reply"].pk)]
    replies = Client().get("/user_actions.json?username=toronto_cio&filter=5").json()["user_actions"]
    assert replies[0]["excerpt"].startswith("Libraries lend laptops")
    assert Client().get("/user_actions.json?filter=4").status_code == 400


def test_user_actions_keep_to_what_the_reader_may_see(db):
    author = OfficialFactory(username="bogota_cdo")
    TopicFactory(author=author, category=CategoryFactory(read_access="verified"))
    assert Client().get("/user_actions.json?username=bogota_cdo&filter=4,5").json()["user_actions"] == []


def test_directory_items(discussion):
    OfficialFactory(username="quiet_official")
    body = Client().get("/directory_items.json?period=all&order=post_count").json()
    rows = {row["user"]["username"]: row for row in body["directory_items"]}
    assert rows["harare_ict"]["post_count"] == 1 and rows["harare_ict"]["topic_count"] == 1
    assert rows["toronto_cio"]["post_count"] == 1 and rows["toronto_cio"]["topic_count"] == 0
    assert rows["quiet_official"]["post_count"] == 0
    assert body["meta"]["total_rows_directory_items"] == 3
    assert Client().get("/directory_items.json?period=never&order=post_count").status_code == 400


def test_user_summary(discussion):
    services.toggle_like(discussion["author"], discussion["reply"])
    body = Client().get("/u/toronto_cio/summary.json").json()
    summary = body["user_summary"]
    assert summary["post_count"] == 1 and summary["topic_count"] == 0
    assert summary["likes_received"] == 1
    assert summary["replies"][0]["topic_id"] == discussion["topic"].pk
    assert Client().get("/u/harare_ict/summary.json").json()["topics"][0]["id"] == discussion["topic"].pk


def test_user_profile_fields(api_as, discussion):
    body = Client().get("/u/toronto_cio.json").json()["user"]
    assert body["post_count"] == 1
    assert body["last_posted_at"].endswith("Z")
    assert body["can_send_private_messages"] is False  # anonymous
    assert body["user_option"]["timezone"] is None  # a person's settings are their own
    assert "email" not in body


def test_user_profile_says_whether_the_viewer_may_write_a_message(api_as, discussion):
    official = api_as("verified")
    body = official.get("/u/toronto_cio.json").json()["user"]
    assert body["can_send_private_messages"] is True
    assert body["can_send_private_message_to_user"] is True
    itself = official.get(f"/u/{official.user.username}.json").json()["user"]
    assert itself["can_send_private_message_to_user"] is False


def test_site_lists_the_groups_the_reader_may_see(api_as):
    from groups.models import Visibility
    from groups.services import create_group
    from tests.factories import StaffFactory

    staff = StaffFactory()
    create_group(staff, "digitalisation-wg", "Digitalisation working group")
    create_group(staff, "secret-wg", "Secret group", visibility=Visibility.MEMBERS)
    names = [group["name"] for group in Client().get("/site.json").json()["groups"]]
    assert names == ["digitalisation-wg"]
