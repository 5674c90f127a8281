"""The message pages: composer, boxes, participants, the header's count, flagged reads, budgets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import messages, moderation, services
from forum.models import Draft, ModerationAction, ModerationLogEntry, ReviewItem
from tests.conftest import ROLES, make_user
from tests.factories import OfficialFactory, UserFactory
from tests.forum.test_permission_matrix import LOGIN, expect

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    return OfficialFactory(username="harare"), OfficialFactory(username="toronto")


def test_write_from_a_profile_and_answer(client, pair):
    harare, toronto = pair
    client.force_login(harare)
    profile = client.get(f"/u/{toronto.username}").content.decode()
    assert f"/messages/new?to={toronto.username}" in profile
    page = client.get(f"/messages/new?to={toronto.username}").content.decode()
    assert f'value="{toronto.username}"' in page
    response = client.post(
        "/messages/new",
        {"recipients": toronto.username, "title": "Fibre tender in Toronto", "raw": "How did you run it?"},
    )
    assert response.status_code == 302
    topic = messages.box(harare, "sent").get()
    assert response["Location"] == topic.get_absolute_url()
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Participants" in page and "toronto" in page and "RSS feed of this topic" not in page

    client.force_login(toronto)
    header = client.get("/latest").content.decode()
    assert "Messages: 1 unread" in header
    inbox = client.get(f"/u/{toronto.username}/messages").content.decode()
    assert "Fibre tender in Toronto" in inbox and "Unread" in inbox
    client.get(topic.get_absolute_url())
    assert "Messages: 0 unread" in client.get("/latest").content.decode()
    response = client.post(f"/t/{topic.pk}/reply", {"raw": "Gladly: we split it in three lots."})
    assert response.status_code == 302
    assert topic.posts.count() == 2


def test_bad_input_keeps_the_text(client, pair):
    harare, _toronto = pair
    client.force_login(harare)
    response = client.post(
        "/messages/new", {"recipients": "nobody-at-all", "title": "A subject long enough", "raw": "Kept text"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nobody is called nobody-at-all here." in page and "Kept text" in page


def test_boxes_are_for_their_owner_only(client, pair):
    harare, toronto = pair
    client.force_login(harare)
    assert client.get(f"/u/{toronto.username}/messages").status_code == 404
    assert client.get(f"/u/{harare.username}/messages/sent").status_code == 200
    assert client.get(f"/u/{harare.username}/messages/archive").status_code == 200
    assert client.get(f"/u/{harare.username}/messages/other").status_code == 404
    client.logout()
    assert client.get(f"/u/{harare.username}/messages").status_code == 302


def test_participants_archive_leave_and_preferences(client, pair):
    harare, toronto = pair
    third = OfficialFactory(username="third")
    topic = messages.create_message(harare, [toronto], "Fibre tender in Toronto", "How?")
    client.force_login(toronto)
    url = f"/t/{topic.pk}/participants"
    client.post(url, {"action": "add", "names": "third"})
    assert messages.participants_of(topic)[-1] == third
    response = client.post(url, {"action": "remove", "username": "third"}, follow=True)
    assert "Only the person who started this message can remove people from it." in response.content.decode()
    client.post(url, {"action": "archive"})
    assert list(messages.box(toronto, "archive")) == [topic]
    client.post(url, {"action": "leave"})
    assert client.get(topic.get_absolute_url()).status_code == 404
    assert client.post(url, {"action": "archive"}).status_code == 404

    client.post("/messages/preferences", {"refuse_messages": "1"})
    assert messages.refuses_messages(toronto)
    client.force_login(harare)
    response = client.post(
        "/messages/new", {"recipients": "toronto", "title": "Another question for you", "raw": "Hello"}
    )
    assert response.status_code == 400 and "does not accept personal messages" in response.content.decode()


def test_members_see_why_they_cannot_write(client, pair):
    member = UserFactory()
    client.force_login(member)
    assert "/messages/new" not in client.get(f"/u/{pair[1].username}").content.decode()
    page = client.get("/messages/new").content.decode()
    assert "verified" in page.lower()


def test_a_draft_of_a_new_message_is_kept(client, pair):
    client.force_login(pair[0])
    client.post("/composer/draft", {"draft_key": "new-message", "raw": "Half a thought", "title": "Draft"})
    assert Draft.objects.get(user=pair[0], key=Draft.NEW_MESSAGE).raw == "Half a thought"
    assert "Half a thought" in client.get("/messages/new").content.decode()


def test_moderators_read_a_flagged_post_from_the_queue_and_it_is_logged(client, pair):
    harare, toronto = pair
    topic = messages.create_message(harare, [toronto], "Fibre tender in Toronto", "Secret numbers: 42")
    moderation.flag_post(toronto, topic.posts.get(number=1), "inappropriate")
    item = ReviewItem.objects.get()
    moderator = make_user("moderator")
    client.force_login(moderator)
    queue = client.get("/review/").content.decode()
    assert "Secret numbers" not in queue and "Fibre tender" not in queue
    assert f"/review/items/{item.pk}/message" in queue
    page = client.get(f"/review/items/{item.pk}/message").content.decode()
    assert "Secret numbers" not in page
    assert not ModerationLogEntry.objects.filter(action=ModerationAction.READ_MESSAGE).exists()
    page = client.post(f"/review/items/{item.pk}/message").content.decode()
    assert "Secret numbers: 42" in page
    assert ModerationLogEntry.objects.get(action=ModerationAction.READ_MESSAGE).actor == moderator
    assert client.get(topic.get_absolute_url()).status_code == 404
    client.force_login(harare)
    assert client.get(f"/review/items/{item.pk}/message").status_code in (302, 403)


def _count(client, url) -> int:
    client.get(url)  # warm caches, as a running server has them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_query_budgets_do_not_grow_with_messages(client, pair):
    harare, toronto = pair
    counts = {}
    for size in (1, 8):
        client.force_login(toronto)
        for n in range(size):
            topic = messages.create_message(harare, [toronto], f"Question number {n} for Toronto", "Hello")
            services.create_reply(toronto, topic, f"Answer {n}")
        counts[size] = {
            "inbox": _count(client, f"/u/{toronto.username}/messages"),
            "message": _count(client, topic.get_absolute_url()),
        }
    assert counts[1] == counts[8]
    # Inbox: session user, the page of messages (COUNT + rows), their participants, the preference.
    assert counts[8]["inbox"] <= 6
    # A message: the topic page's signed-in budget (test_query_budgets "topic": 7) plus the
    # participant check and the participants' list.
    assert counts[8]["message"] <= 10


# --- The permission matrix of the message and group pages ------------------------------------

# The forum matrix's table helpers and roles (tests/forum/test_permission_matrix.py).
ROLE_NAMES = ROLES


MATRIX = {
    "new_message_page": ("get", "/messages/new", None, expect(200, anonymous=LOGIN)),
    "new_message": (
        "post",
        "/messages/new",
        {"recipients": "toronto", "title": "A question about your tender", "raw": "Hello"},
        expect(400, anonymous=LOGIN, verified=302, moderator=302, staff=302),
    ),
    "inbox": ("get", "/u/{me}/messages", None, expect(200, anonymous=LOGIN)),
    "sent": ("get", "/u/{me}/messages/sent", None, expect(200, anonymous=LOGIN)),
    "someone_elses_inbox": ("get", "/u/toronto/messages", None, expect(404, anonymous=LOGIN)),
    # A message between two others: nobody else opens any part of it.
    "message": ("get", "/t/{message.slug}/{message.pk}", None, expect(404, anonymous=LOGIN)),
    "message_reply": ("post", "/t/{message.pk}/reply", {"raw": "Me too"}, expect(404, anonymous=LOGIN)),
    "message_live": ("get", "/t/{message.pk}/live/posts?after=0", None, expect(404)),
    "message_json": ("get", "/t/{message.pk}.json", None, expect(404)),
    "message_rss": ("get", "/t/{message.slug}/{message.pk}.rss", None, expect(404)),
    "message_participants": (
        "post",
        "/t/{message.pk}/participants",
        {"action": "leave"},
        expect(404, anonymous=LOGIN),
    ),
    "preferences": ("post", "/messages/preferences", {"refuse_messages": "1"}, expect(302)),
    "flagged_read": (
        "get",
        "/review/items/{item.pk}/message",
        None,
        expect(403, anonymous=LOGIN, moderator=200, staff=200),
    ),
    "groups": ("get", "/g/", None, expect(200)),
    "group": ("get", "/g/wg", None, expect(200)),
    "group_inbox": ("get", "/g/wg/messages", None, expect(404, anonymous=LOGIN)),
    "group_join": ("post", "/g/wg/act", {"action": "join"}, expect(302, anonymous=LOGIN)),
    "groups_json": ("get", "/groups.json", None, expect(200)),
    "group_json": ("get", "/groups/wg.json", None, expect(200)),
    "pm_list_json": ("get", "/topics/private-messages/toronto.json", None, expect(404, anonymous=403)),
}


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("view", list(MATRIX))
def test_permission_matrix(client, view, role):
    from groups.models import Group, JoinMode

    method, url, data, expected = MATRIX[view]
    harare, toronto = OfficialFactory(username="harare"), OfficialFactory(username="toronto")
    message = messages.create_message(harare, [toronto], "Fibre tender in Toronto", "How?")
    moderation.flag_post(toronto, message.posts.get(number=1), "inappropriate")
    Group.objects.create(name="wg", full_name="Working group", join_mode=JoinMode.OPEN)
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    url = url.format(message=message, item=ReviewItem.objects.get(), me=user.username if user else "harare")
    response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    if expected[role] == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (view, role)
    else:
        assert response.status_code == expected[role], (view, role, response.status_code)
