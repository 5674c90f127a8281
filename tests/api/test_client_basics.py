"""What Discourse's own clients ask first (/about.json, /site/basic-info.json), notifications,
watching levels, and posting limits as Discourse's 429 (issue 20)."""

import pytest
from django.test import Client

from forum import watching
from forum.models import TopicWatch, WatchLevel
from notifications import services as notification_services
from notifications.models import Notification, NotificationKind
from tests.factories import OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_about_names_the_site_and_its_staff(api_as):
    staff = api_as("staff")
    moderator = api_as("moderator")
    TopicFactory()
    body = Client().get("/about.json").json()["about"]
    assert body["title"] == "Metropolis Peer Learning Forum"
    assert staff.user.pk in body["admin_ids"]
    assert moderator.user.pk in body["moderator_ids"]
    assert body["stats"]["topic_count"] == 1
    assert all("email" not in person for person in body["admins"] + body["moderators"])


def test_site_basic_info(client):
    response = client.get("/site/basic-info.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["title"] == "Metropolis Peer Learning Forum"
    assert body["login_required"] is False
    assert body["locale"] == "en"


def _notify(recipient, topic, kind=NotificationKind.REPLY, actor=None, key="1"):
    post = topic.posts.get(number=1)
    return notification_services.notify(
        recipient,
        kind,
        actor=actor or topic.author,
        title=f"Someone replied in “{topic.title}”",
        url=post.get_absolute_url(),
        data={"topic_id": topic.pk, "post_id": post.pk, "post_number": 1, "excerpt": "Tell us"},
        dedupe_key=f"test:{key}",
    )


def test_read_and_clear_notifications(api_as):
    client = api_as("verified")
    topic = TopicFactory()
    first = _notify(client.user, topic, key="a")
    _notify(client.user, topic, kind=NotificationKind.LIKE, key="b")
    _notify(OfficialFactory(), topic, key="someone-else")

    body = client.get("/notifications.json").json()
    assert body["total_rows_notifications"] == 2
    rows = body["notifications"]
    assert {row["notification_type"] for row in rows} == {2, 5}
    row = next(row for row in rows if row["id"] == first.pk)
    assert row["topic_id"] == topic.pk and row["slug"] == topic.slug and row["post_number"] == 1
    assert row["read"] is False
    assert row["data"]["topic_title"] == topic.title
    assert row["data"]["original_post_id"] == topic.posts.get(number=1).pk
    assert row["created_at"].endswith("Z")

    one = client.put("/notifications/mark-read.json", {"id": first.pk}, content_type="application/json")
    assert one.json() == {"success": "OK"}
    assert Notification.objects.get(pk=first.pk).read_at is not None
    assert client.get("/notifications.json?filter=unread").json()["total_rows_notifications"] == 1

    assert client.put("/notifications/mark-read.json").status_code == 200
    assert not Notification.objects.filter(recipient=client.user, read_at__isnull=True).exists()
    # The other person's stay unread: the service only touches one's own.
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_notifications_need_a_person(client):
    response = client.get("/notifications.json")
    assert response.status_code == 403
    assert response.json()["error_type"] == "not_logged_in"


def test_a_notification_about_a_topic_one_can_no_longer_read_keeps_no_topic(api_as):
    client = api_as("member")
    topic = TopicFactory(category__read_access="verified")
    _notify(client.user, topic)
    row = client.get("/notifications.json").json()["notifications"][0]
    assert row["topic_id"] is None and row["slug"] is None
    assert row["fancy_title"] is None
    # The line itself stays as the bell shows it.
    assert row["data"]["message"] == row["data"]["topic_title"]


def test_topic_watch_level(api_as):
    client = api_as("verified")
    topic = TopicFactory()
    response = client.post(f"/t/{topic.pk}/notifications.json", {"notification_level": "3"})
    assert response.json() == {"success": "OK"}
    assert TopicWatch.objects.get(user=client.user, topic=topic).level == WatchLevel.WATCHING
    client.post(f"/t/{topic.pk}/notifications", {"notification_level": 0})
    assert watching.topic_levels(client.user, topic)[0] == WatchLevel.MUTED
    bad = client.post(f"/t/{topic.pk}/notifications.json", {"notification_level": "7"})
    assert bad.status_code == 400


def test_topic_watch_level_of_an_unreadable_topic(api_as):
    client = api_as("member")
    topic = TopicFactory(category__read_access="verified")
    response = client.post(f"/t/{topic.pk}/notifications.json", {"notification_level": "3"})
    assert response.status_code == 403
    assert not TopicWatch.objects.filter(user=client.user).exists()


# --- Posting limits: 429 in the API, the friendly message on the pages ----------------------


def test_posting_too_fast_is_a_429_clients_wait_on(api_as):
    client = api_as("verified")  # newly verified: one post per 20 seconds
    topic = TopicFactory()
    assert client.post("/posts.json", {"topic_id": topic.pk, "raw": "First thought"}).status_code == 200
    response = client.post("/posts.json", {"topic_id": topic.pk, "raw": "Second thought"})
    assert response.status_code == 429
    body = response.json()
    assert body["error_type"] == "rate_limit"
    assert 1 <= body["extras"]["wait_seconds"] <= 20
    assert response["Retry-After"] == str(body["extras"]["wait_seconds"])
    assert "You can post every 20 seconds" in body["errors"][0]
    assert topic.posts.count() == 2


def test_starting_topics_too_fast_is_a_429(api_as):
    client = api_as("verified")
    category = TopicFactory().category
    data = {"title": "Open data portals compared", "raw": "Which one?", "category": category.pk}
    assert client.post("/posts.json", data).status_code == 200
    again = client.post("/posts.json", {**data, "title": "Smart street lighting pilots", "raw": "Results?"})
    assert again.status_code == 429
    assert 1 <= again.json()["extras"]["wait_seconds"] <= 60


def test_the_daily_cap_is_a_429_until_tomorrow(api_as, settings):
    from django.core.cache import cache

    from forum import moderation

    client = api_as("verified")
    topic = TopicFactory()
    _last, day_key = moderation._rate_keys(client.user, "reply")
    cache.set(day_key, moderation.DAILY_POSTS[1])
    response = client.post("/posts.json", {"topic_id": topic.pk, "raw": "One more"})
    assert response.status_code == 429
    assert 1 <= response.json()["extras"]["wait_seconds"] <= 24 * 3600 + 1


def test_the_reply_page_keeps_its_friendly_message(client):
    person = OfficialFactory()
    topic = TopicFactory()
    client.force_login(person)
    first = client.post(f"/t/{topic.pk}/reply", {"raw": "A first reply from the page"})
    assert first.status_code in (200, 302)
    second = client.post(f"/t/{topic.pk}/reply", {"raw": "A second reply, too fast"})
    assert second.status_code != 429
    assert "You can post every 20 seconds" in second.content.decode()
    assert "A second reply, too fast" in second.content.decode()


def test_an_anonymous_search_limit_carries_retry_after(client, monkeypatch):
    from forum import search_views

    monkeypatch.setattr(search_views, "ANONYMOUS_SEARCHES_PER_MINUTE", 0)
    response = client.get("/search.json?q=divide")
    assert response.status_code == 429
    body = response.json()
    assert body["error_type"] == "rate_limit"
    assert response["Retry-After"] == str(body["extras"]["wait_seconds"])


# --- Never a page where JSON is expected -----------------------------------------------------


def test_unknown_json_paths_answer_json_404_under_debug(client, settings):
    settings.DEBUG = True
    response = client.get("/no/such/thing.json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["error_type"] == "not_found"


def test_admin_users_list_answers_json(api_as):
    staff = api_as("staff")
    OfficialFactory(username="harare_ict")
    response = staff.get("/admin/users/list/active.json")
    assert response.status_code == 200
    people = response.json()
    assert "harare_ict" in [person["username"] for person in people]
    assert all("email" not in person for person in people)
    refused = api_as("verified").get("/admin/users/list/active.json")
    assert refused.status_code == 403
    assert refused.json()["error_type"] == "invalid_access"
    anonymous = Client().get("/admin/users/list/active.json")
    assert anonymous.status_code == 403
    assert anonymous["Content-Type"] == "application/json; charset=utf-8"


def test_search_dates_read_as_every_other_endpoint(db):
    TopicFactory(title="Broadband for every school", raw="Fibre to every school by 2030.")
    body = Client().get("/search.json?q=fibre").json()
    assert body["posts"] and body["posts"][0]["created_at"].endswith("Z")
    assert body["topics"][0]["created_at"].endswith("Z") and body["topics"][0]["bumped_at"].endswith("Z")
