"""Moderation pages: what moderators, officials and the suspended see and can do."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from forum import services
from forum.models import FlagReason, ModerationLogEntry, PostState, ReviewItem
from tests.conftest import make_user
from tests.factories import DEFAULT_PASSWORD, ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_flag_page_flags_once_and_says_so(client):
    topic = TopicFactory()
    post = services.create_reply(OfficialFactory(), topic, "Something odd")
    client.force_login(OfficialFactory())
    page = client.get(f"/posts/{post.pk}/flag")
    assert page.status_code == 200 and "Spam or advertising" in page.content.decode()
    response = client.post(f"/posts/{post.pk}/flag", {"reason": "notify_moderators", "message": ""})
    assert response.status_code == 400
    assert "Tell the moderators" in response.content.decode()
    response = client.post(f"/posts/{post.pk}/flag", {"reason": "off_topic"})
    assert response.status_code == 302
    again = client.get(f"/posts/{post.pk}/flag")
    assert "You have already flagged this post" in again.content.decode()


def test_review_queue_shows_flags_and_a_moderator_restores_the_post(client):
    topic = TopicFactory()
    post = services.create_reply(OfficialFactory(), topic, "Cheap watches")
    flaggers = [OfficialFactory(display_name=f"Flagger {n}") for n in range(3)]
    for person in flaggers:
        services.flag_post(person, post, FlagReason.SPAM)
    moderator = make_user("moderator")
    client.force_login(moderator)
    page = client.get("/review/").content.decode()
    assert "Cheap watches" in page and "Flagger 0: Spam or advertising" in page
    item = ReviewItem.objects.get(post=post)
    response = client.post(f"/review/items/{item.pk}", {"action": "disagree"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == PostState.VISIBLE
    assert "Nothing is waiting for review." in client.get("/review/").content.decode()


def test_review_queue_lists_waiting_verification_requests(client):
    from accounts.models import VerificationRequest
    from tests.factories import UserFactory

    newcomer = UserFactory(display_name="Nuria Freixas")
    VerificationRequest.objects.create(user=newcomer, position="Innovation Coordinator")
    client.force_login(make_user("moderator"))
    page = client.get("/review/").content.decode()
    assert "Nuria Freixas" in page and "/review/verifications" in page


def test_log_page_filters_and_exports_csv(client):
    moderator = ModeratorFactory(username="mod-anna")
    topic = TopicFactory(title="Digital divide in Harare and elsewhere")
    services.close_topic(topic, by=moderator)
    services.pin_topic(topic, by=moderator)
    client.force_login(make_user("staff"))
    page = client.get("/review/log?action=close").content.decode()
    assert "Digital divide in Harare" in page and "Closed" in page and "Pinned</td>" not in page
    response = client.get("/review/log.csv?actor=mod-anna")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["time (UTC)", "actor", "action"]
    assert sorted(row[2] for row in rows[1:]) == ["close", "pin"]


def test_silence_from_the_person_page_keeps_typed_text_on_error(client):
    person = OfficialFactory()
    client.force_login(make_user("moderator"))
    response = client.post(
        f"/review/people/{person.username}", {"action": "silence", "until": "", "reason": "Insults"}
    )
    assert response.status_code == 400 and 'value="Insults"' in response.content.decode()
    until = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/review/people/{person.username}", {"action": "silence", "until": until, "reason": "Insults"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.silenced_reason == "Insults"


def test_silenced_person_sees_the_reason_where_they_would_post(client):
    person = make_user("silenced")
    topic = TopicFactory()
    client.force_login(person)
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "silenced your account" in page and "The reason given: Cooling off" in page


def test_suspended_person_cannot_sign_in_and_sees_why(client):
    person = make_user("suspended")
    response = client.post("/accounts/login/", {"login": person.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Your account is suspended" in body and "Abuse" in body
    assert "_auth_user_id" not in client.session


def test_highlight_and_summary_show_above_the_posts(client):
    topic = TopicFactory()
    official = OfficialFactory(display_name="Samson Madzokere", position="Head of ICT Division")
    post = services.create_reply(official, topic, "Training citizens in ICT is key.")
    client.force_login(make_user("moderator"))
    assert client.post(f"/posts/{post.pk}/highlight").status_code == 302
    response = client.post(f"/t/{topic.pk}/summary", {"raw": "Officials agree training matters."})
    assert response.status_code == 302
    client.post(f"/t/{topic.pk}/summary", {"raw": "Officials agree training and access matter."})
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Key contributions" in page and "Samson Madzokere" in page
    assert "Key contribution</span>" in page
    assert "training and access matter" in page
    history = client.get(f"/t/{topic.pk}/summary").content.decode()
    assert "Version 1" in history and "Version 2" in history
    actions = list(ModerationLogEntry.objects.values_list("action", flat=True))
    assert actions.count("summary") == 2 and "highlight" in actions


def test_reply_rate_limit_and_duplicate_block_keep_the_text(client):
    topic = TopicFactory()
    official = OfficialFactory(verified_at=timezone.now() - timedelta(days=30))
    client.force_login(official)
    url = f"/t/{topic.pk}/reply"
    first = client.post(url, {"raw": "First thought", "idempotency_key": str(uuid.uuid4())})
    assert first.status_code == 302
    second = client.post(url, {"raw": "Second thought, typed fast", "idempotency_key": str(uuid.uuid4())})
    assert second.status_code == 400
    body = second.content.decode()
    assert "You can post every 5 seconds" in body and "Second thought, typed fast" in body


def _count(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _flag_posts(count):
    topic = TopicFactory()
    for n in range(count):
        post = services.create_reply(OfficialFactory(), topic, f"Reply {n}")
        services.flag_post(OfficialFactory(), post, FlagReason.SPAM)
        services.flag_post(OfficialFactory(), post, FlagReason.OFF_TOPIC)


def test_review_queue_query_budget_does_not_grow(client):
    client.force_login(make_user("moderator"))
    _flag_posts(2)
    small = _count(client, "/review/")
    _flag_posts(8)
    assert _count(client, "/review/") == small <= 10


def test_log_and_person_pages_query_budget_does_not_grow(client):
    moderator = ModeratorFactory()
    client.force_login(make_user("staff"))
    person = OfficialFactory()
    topic = TopicFactory()
    services.close_topic(topic, by=moderator)
    small = _count(client, "/review/log")
    small_person = _count(client, f"/review/people/{person.username}")
    for _ in range(10):
        services.open_topic(topic, by=moderator)
        services.unsilence_user(moderator, person)
    assert _count(client, "/review/log") == small <= 8
    assert _count(client, f"/review/people/{person.username}") == small_person <= 8
