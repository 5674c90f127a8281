"""Write endpoints: the same services and checks as the pages, Discourse's parameters and answers."""

import json

import pytest
from django.test import Client

from forum import services
from forum.models import (
    Category,
    Flag,
    Like,
    PinScope,
    PostState,
    ReviewItem,
    ReviewKind,
    ReviewState,
    Topic,
    TopicStatus,
)
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_create_a_topic_with_tags(api_as):
    category = CategoryFactory()
    moderator = api_as("moderator")  # moderators may create new tags
    response = moderator.post(
        "/posts.json",
        {
            "title": "Sharing open data portals between cities",
            "raw": "Which portal software do you use?",
            "category": category.pk,
            "tags[]": ["open-data", "portals"],
        },
    )
    assert response.status_code == 200
    body = response.json()
    topic = Topic.objects.get(pk=body["topic_id"])
    assert body["post_number"] == 1
    assert topic.title == "Sharing open data portals between cities"
    assert topic.author == moderator.user
    assert sorted(tag.name for tag in topic.tags.all()) == ["open-data", "portals"]


def test_create_a_topic_from_json_without_json_suffix(api_as):
    category = CategoryFactory()
    client = api_as("verified")
    response = client.post(
        "/posts",
        json.dumps({"title": "Broadband for every school by 2030", "raw": "Plans?", "category": category.pk}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Topic.objects.filter(title="Broadband for every school by 2030", author=client.user).exists()


def test_a_reply_answering_a_post(api_as):
    topic = TopicFactory()
    client = api_as("verified")
    response = client.post(
        "/posts", {"topic_id": topic.pk, "raw": "We did this in Toronto.", "reply_to_post_number": 1}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["post_number"] == 2
    assert body["reply_to_post_number"] == 1
    assert body["username"] == client.user.username
    assert topic.posts.get(number=2).reply_to.number == 1
    missing = client.post("/posts", {"topic_id": topic.pk, "raw": "Hello again", "reply_to_post_number": 9})
    assert missing.status_code == 400


def test_bad_input_answers_422_with_the_reason(api_as):
    category = CategoryFactory()
    client = api_as("verified")
    short = client.post("/posts.json", {"title": "Too short", "raw": "Body", "category": category.pk})
    assert short.status_code == 422
    body = short.json()
    assert body["action"] == "create_post"
    assert "at least 15 characters" in body["errors"][0]
    empty = client.post("/posts.json", {"topic_id": TopicFactory().pk, "raw": "   "})
    assert empty.status_code == 422
    assert empty.json()["errors"] == ["Write something before posting."]
    no_category = client.post("/posts.json", {"title": "A title that is long enough", "raw": "Body"})
    assert no_category.status_code == 422
    assert client.post("/posts.json", {"topic_id": "abc", "raw": "x"}).status_code == 400


def test_members_cannot_post_where_members_cannot(api_as):
    topic = TopicFactory()
    client = api_as("member")
    response = client.post("/posts.json", {"topic_id": topic.pk, "raw": "Can I say something?"})
    assert response.status_code == 403
    assert response.json()["error_type"] == "invalid_access"
    assert "Only verified officials can post" in response.json()["errors"][0]
    moderated = CategoryFactory(start_access="moderators")
    verified = api_as("verified")
    response = verified.post(
        "/posts.json", {"title": "A question in a moderated place", "raw": "Hello", "category": moderated.pk}
    )
    assert response.status_code == 403
    assert topic.posts.count() == 1
    assert not Topic.objects.filter(category=moderated).exists()


def test_replies_to_closed_topics_are_refused(api_as):
    topic = TopicFactory(status=TopicStatus.CLOSED)
    response = api_as("verified").post("/posts.json", {"topic_id": topic.pk, "raw": "Late answer"})
    assert response.status_code == 403
    assert "closed" in response.json()["errors"][0]


def test_edit_own_post_but_not_someone_elses(api_as):
    client = api_as("verified")
    mine = TopicFactory(author=client.user).posts.get(number=1)
    theirs = TopicFactory().posts.get(number=1)
    response = client.put(f"/posts/{mine.pk}.json", json.dumps({"post": {"raw": "Better words"}}),
                          content_type="application/json")  # fmt: skip
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.raw == "Better words"
    assert mine.revisions.count() == 1
    refused = client.put(
        f"/posts/{theirs.pk}", "post%5Braw%5D=Hijack", content_type="application/x-www-form-urlencoded"
    )
    assert refused.status_code == 403
    theirs.refresh_from_db()
    assert theirs.raw != "Hijack"
    missing = client.put(f"/posts/{mine.pk}", "", content_type="application/x-www-form-urlencoded")
    assert missing.status_code == 400


def test_delete_withdraws_the_post(api_as):
    client = api_as("verified")
    topic = TopicFactory()
    reply = client.post("/posts.json", {"topic_id": topic.pk, "raw": "Oops, wrong topic"}).json()
    response = client.delete(f"/posts/{reply['id']}")
    assert response.status_code == 200
    assert topic.posts.get(pk=reply["id"]).state == PostState.WITHDRAWN
    other = api_as("verified")
    first = topic.posts.get(number=1)
    assert other.delete(f"/posts/{first.pk}.json").status_code == 403
    assert topic.posts.get(number=1).state == PostState.VISIBLE


def test_like_and_unlike(api_as):
    post = TopicFactory().posts.get(number=1)
    client = api_as("verified")
    response = client.post("/post_actions", {"id": post.pk, "post_action_type_id": 2})
    assert response.status_code == 200
    assert response.json()["actions_summary"][0]["acted"] is True
    assert Like.objects.filter(user=client.user, post=post).exists()
    again = client.post("/post_actions.json", {"id": post.pk, "post_action_type_id": 2})
    assert again.status_code == 403
    post.refresh_from_db()
    assert post.like_count == 1
    response = client.delete(f"/post_actions/{post.pk}?post_action_type_id=2")
    assert response.status_code == 200
    assert not Like.objects.filter(post=post).exists()
    assert client.delete(f"/post_actions/{post.pk}.json?post_action_type_id=2").status_code == 404


def test_one_cannot_like_ones_own_post(api_as):
    client = api_as("verified")
    post = TopicFactory(author=client.user).posts.get(number=1)
    assert client.post("/post_actions", {"id": post.pk, "post_action_type_id": 2}).status_code == 403


def test_flag_types_reach_the_review_queue(api_as):
    post = TopicFactory().posts.get(number=1)
    for action, reason in ((3, "off_topic"), (4, "inappropriate"), (8, "spam")):
        client = api_as("verified")
        response = client.post("/post_actions", {"id": post.pk, "post_action_type_id": action})
        assert response.status_code == 200
        assert {"id": action, "acted": True, "can_undo": False} in response.json()["actions_summary"]
        assert Flag.objects.get(post=post, flagger=client.user).reason == reason
    item = ReviewItem.objects.get(post=post, kind=ReviewKind.FLAGGED_POST)
    assert item.state == ReviewState.PENDING and item.flags.count() == 3


def test_a_note_to_moderators_needs_a_message(api_as):
    post = TopicFactory().posts.get(number=1)
    client = api_as("verified")
    response = client.post("/post_actions.json", {"id": post.pk, "post_action_type_id": 7})
    assert response.status_code == 422
    assert response.json() == {
        "action": "flag_post",
        "errors": ["Tell the moderators what is wrong with this post."],
        "error_type": "invalid_parameters",
    }
    response = client.post(
        "/post_actions.json",
        json.dumps({"id": post.pk, "post_action_type_id": 7, "message": "This repeats the Lyon figures."}),
        content_type="application/json",
    )
    assert response.status_code == 200
    flag = Flag.objects.get(post=post, flagger=client.user)
    assert (flag.reason, flag.message) == ("notify_moderators", "This repeats the Lyon figures.")


def test_flag_once_per_post(api_as):
    post = TopicFactory().posts.get(number=1)
    client = api_as("verified")
    assert client.post("/post_actions", {"id": post.pk, "post_action_type_id": 8}).status_code == 200
    again = client.post("/post_actions", {"id": post.pk, "post_action_type_id": 4})
    assert again.status_code == 403
    assert again.json() == {"errors": ["You have already flagged this post."], "error_type": "invalid_access"}
    assert Flag.objects.filter(post=post).count() == 1


@pytest.mark.parametrize("role", ["member", "silenced", "suspended"])
def test_only_verified_officials_flag(api_as, role):
    post = TopicFactory().posts.get(number=1)
    client = api_as(role)
    response = client.post("/post_actions", {"id": post.pk, "post_action_type_id": 8})
    assert response.status_code == 403
    assert response.json()["error_type"] in {"invalid_access", "not_logged_in"}
    assert not Flag.objects.filter(post=post).exists()


def test_one_cannot_flag_ones_own_post(api_as):
    client = api_as("verified")
    post = TopicFactory(author=client.user).posts.get(number=1)
    response = client.post("/post_actions", {"id": post.pk, "post_action_type_id": 8})
    assert response.status_code == 403
    assert response.json()["errors"] == ["You cannot flag this post."]


def test_three_spam_flags_hide_the_post_at_once(api_as):
    topic = TopicFactory()
    reply = services.create_reply(OfficialFactory(), topic, "Buy cheap routers at example.com")
    for _ in range(3):
        response = api_as("verified").post("/post_actions", {"id": reply.pk, "post_action_type_id": 8})
        assert response.status_code == 200
    reply.refresh_from_db()
    assert reply.state == PostState.HIDDEN and "flags from 3 members" in reply.hidden_reason
    assert response.json()["hidden"] is True
    assert ReviewItem.objects.get(post=reply).hidden_by_flags


def test_unknown_actions_and_missing_ids_are_bad_requests(api_as):
    post = TopicFactory().posts.get(number=1)
    client = api_as("verified")
    assert client.post("/post_actions", {"id": post.pk, "post_action_type_id": 99}).status_code == 400
    assert client.post("/post_actions", {"post_action_type_id": 2}).status_code == 400
    # Flags are taken back by moderators on the review queue, not by DELETE.
    client.post("/post_actions", {"id": post.pk, "post_action_type_id": 8})
    assert client.delete(f"/post_actions/{post.pk}?post_action_type_id=8").status_code == 400


def test_topic_status_by_moderators(api_as):
    topic = TopicFactory()
    moderator = api_as("moderator")

    def put(status, enabled, **extra):
        return moderator.put(
            f"/t/{topic.pk}/status",
            f"status={status}&enabled={enabled}" + "".join(f"&{k}={v}" for k, v in extra.items()),
            content_type="application/x-www-form-urlencoded",
        )

    assert put("closed", "true").json() == {"success": "OK", "topic_status_update": None}
    topic.refresh_from_db()
    assert topic.status == TopicStatus.CLOSED
    put("closed", "false")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.OPEN
    put("pinned_globally", "true")
    topic.refresh_from_db()
    assert topic.pin_scope == PinScope.GLOBAL
    put("pinned", "true", until="2099-01-01")
    topic.refresh_from_db()
    assert topic.pin_scope == PinScope.CATEGORY
    assert topic.pinned_until.year == 2099
    put("pinned", "false")
    topic.refresh_from_db()
    assert topic.pin_scope == PinScope.NONE
    put("archived", "true")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.ARCHIVED
    assert put("visible", "false").json() == {"success": "OK", "topic_status_update": None}
    topic.refresh_from_db()
    assert topic.unlisted
    assert put("visible", "true").status_code == 200
    topic.refresh_from_db()
    assert not topic.unlisted
    assert put("exploded", "true").status_code == 400


def test_topic_status_is_for_moderators_only(api_as):
    topic = TopicFactory()
    response = api_as("verified").put(
        f"/t/{topic.pk}/status.json",
        json.dumps({"status": "closed", "enabled": True}),
        content_type="application/json",
    )
    assert response.status_code == 403
    topic.refresh_from_db()
    assert topic.status == TopicStatus.OPEN


def test_an_unlisted_topic_leaves_api_lists_for_members_only(api_as):
    topic = TopicFactory()
    services.create_reply(topic.author, topic, "Still reachable by its link.")
    moderator = api_as("moderator")
    member = api_as("verified")
    moderator.put(
        f"/t/{topic.pk}/status",
        "status=visible&enabled=false",
        content_type="application/x-www-form-urlencoded",
    )

    def listed(client, path):
        return topic.pk in [row["id"] for row in client.get(path).json()["topic_list"]["topics"]]

    for path in ("/latest.json", "/top.json", f"/c/{topic.category.slug}/{topic.category.pk}.json"):
        assert not listed(member, path)
        assert listed(moderator, path)
    assert topic.pk not in [p["topic_id"] for p in member.get("/posts.json").json()["latest_posts"]]
    reading = member.get(f"/t/{topic.pk}.json")
    assert reading.status_code == 200
    assert reading.json()["visible"] is False
    moderator.put(
        f"/t/{topic.pk}/status",
        "status=visible&enabled=true",
        content_type="application/x-www-form-urlencoded",
    )
    assert listed(member, "/latest.json")


def test_staff_create_categories(api_as):
    staff = api_as("staff")
    response = staff.post(
        "/categories.json", {"name": "Smart mobility", "color": "aa3300", "description": "Buses and bikes"}
    )
    assert response.status_code == 200
    category = Category.objects.get(slug="smart-mobility")
    assert response.json()["category"]["id"] == category.pk
    assert category.colour == "#aa3300"
    duplicate = staff.post("/categories", {"name": "Smart mobility"})
    assert duplicate.status_code == 422
    assert api_as("moderator").post("/categories", {"name": "Another place"}).status_code == 403
    assert not Category.objects.filter(slug="another-place").exists()


def test_a_staff_all_users_key_posts_as_the_person_named(key_for):
    from tests.factories import StaffFactory

    staff, official = StaffFactory(), OfficialFactory()
    topic = TopicFactory()
    client = Client(headers={"Api-Key": key_for(staff, all_users=True), "Api-Username": official.username})
    response = client.post("/posts.json", {"topic_id": topic.pk, "raw": "Posted for the official"})
    assert response.status_code == 200
    assert topic.posts.get(number=2).author == official


def test_update_a_topics_title_and_category(api_as):
    author = api_as("verified")
    topic = TopicFactory(author=author.user)
    response = author.put(
        f"/t/{topic.slug}/{topic.pk}.json",
        json.dumps({"title": "A clearer title for this question"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["basic_topic"]["title"] == "A clearer title for this question"
    topic.refresh_from_db()
    assert topic.slug == "a-clearer-title-for-this-question"
    elsewhere = CategoryFactory()
    moved = author.put(f"/t/-/{topic.pk}.json", f"category_id={elsewhere.pk}",
                       content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert moved.status_code == 403
    moderator = api_as("moderator")
    moved = moderator.put(f"/t/-/{topic.pk}", f"topic%5Bcategory_id%5D={elsewhere.pk}",
                          content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert moved.json()["basic_topic"]["category_id"] == elsewhere.pk
    other = api_as("verified")
    refused = other.put(f"/t/-/{topic.pk}.json", "title=Taken+over+by+someone+else",
                        content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert refused.status_code == 403
    short = author.put(
        f"/t/-/{topic.pk}.json", "title=Short", content_type="application/x-www-form-urlencoded"
    )
    assert short.status_code == 422
