"""Who gets what from every forum view: one row per view, one column per role."""

import uuid

import pytest

from forum import services
from tests.conftest import ROLES
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the sign-in page

# view: (method, url template, data, {role: expected status}); roles missing -> `default`.
A, M, V, MOD, S, SIL, SUS = ROLES


def expect(default, **overrides):
    table = dict.fromkeys(ROLES, default)
    table.update(overrides)
    return table


READ_ALL = expect(200)
MATRIX = {
    "home": ("get", "/", None, READ_ALL),
    "latest": ("get", "/latest", None, READ_ALL),
    "new": ("get", "/new", None, READ_ALL),
    "unread": ("get", "/unread", None, expect(200, anonymous=LOGIN)),
    "top": ("get", "/top?period=all", None, READ_ALL),
    "category": ("get", "/c/{category.slug}/{category.pk}", None, READ_ALL),
    "tag": ("get", "/tag/ict", None, READ_ALL),
    "topic": ("get", "/t/{topic.slug}/{topic.pk}", None, READ_ALL),
    "topic_post": ("get", "/t/{topic.slug}/{topic.pk}/2", None, READ_ALL),
    "topic_tree": ("get", "/t/{topic.slug}/{topic.pk}?view=tree", None, READ_ALL),
    # What open pages fetch after a live event (forum/live_views.py); private topics: test_live.py.
    "live_posts_after": ("get", "/t/{topic.pk}/live/posts?after=1", None, READ_ALL),
    "live_post": ("get", "/t/{topic.pk}/live/posts?number=2", None, READ_ALL),
    "live_composer": ("get", "/t/{topic.pk}/live/composer", None, READ_ALL),
    "live_new_topics": ("get", "/new-topics.json?id={topic.pk}", None, READ_ALL),
    "latest_rss": ("get", "/latest.rss", None, READ_ALL),
    "category_rss": ("get", "/c/{category.slug}/{category.pk}.rss", None, READ_ALL),
    "topic_rss": ("get", "/t/{topic.slug}/{topic.pk}.rss", None, READ_ALL),
    "reply_page": ("get", "/t/{topic.pk}/reply?to=2", None, READ_ALL),  # says why, with sign-in links
    "reply": (
        "post",
        "/t/{topic.pk}/reply",
        {"raw": "A reply"},
        expect(403, anonymous=LOGIN, verified=302, moderator=302, staff=302),
    ),
    "new_topic_page": ("get", "/new-topic", None, expect(200, anonymous=LOGIN)),
    "new_topic": (
        "post",
        "/new-topic",
        {"title": "A brand new question for everyone", "raw": "Body", "category": "{category.pk}"},
        expect(400, anonymous=LOGIN, verified=302, moderator=302, staff=302),
    ),
    "like": (
        "post",
        "/posts/{post.pk}/like",
        None,
        expect(403, anonymous=LOGIN, verified=302, moderator=302, staff=302),
    ),
    "likers": ("get", "/posts/{post.pk}/likes", None, READ_ALL),
    "bookmark": ("post", "/posts/{post.pk}/bookmark", None, expect(302, anonymous=LOGIN)),
    "replies": ("get", "/posts/{post.pk}/replies", None, expect(302)),
    "edit_page": (
        "get",
        "/posts/{post.pk}/edit",
        None,
        expect(403, anonymous=LOGIN, moderator=200, staff=200),
    ),
    "edit": (
        "post",
        "/posts/{post.pk}/edit",
        {"raw": "Changed"},
        expect(403, anonymous=LOGIN, moderator=302, staff=302),
    ),
    "history": ("get", "/posts/{post.pk}/history", None, READ_ALL),
    "withdraw_page": (
        "get",
        "/posts/{post.pk}/withdraw",
        None,
        expect(403, anonymous=LOGIN, moderator=200, staff=200),
    ),
    "withdraw": (
        "post",
        "/posts/{post.pk}/withdraw",
        None,
        expect(403, anonymous=LOGIN, moderator=302, staff=302),
    ),
    "hide": ("post", "/posts/{post.pk}/hide", None, expect(403, anonymous=LOGIN, moderator=302, staff=302)),
    "moderate": (
        "post",
        "/t/{topic.pk}/moderate",
        {"action": "close"},
        expect(403, anonymous=LOGIN, moderator=302, staff=302),
    ),
    "moderate_unlist": (
        "post",
        "/t/{topic.pk}/moderate",
        {"action": "unlist"},
        expect(403, anonymous=LOGIN, moderator=302, staff=302),
    ),
    "preview": ("post", "/composer/preview", {"raw": "**hi**"}, expect(200, anonymous=403)),
    "save_draft": (
        "post",
        "/composer/draft",
        {"draft_key": "topic:{topic.pk}", "raw": "Draft"},
        expect(200, anonymous=403),
    ),
    "mentions": ("get", "/composer/mentions?q=off", None, expect(200, anonymous=403)),
    "mark_all_read": ("post", "/mark-all-read", None, expect(302)),
    "activity": ("get", "/u/{author.username}/activity", None, READ_ALL),
    "bookmarks": ("get", "/u/{me}/bookmarks", None, expect(200, anonymous=LOGIN)),
    "my_bookmarks": ("get", "/bookmarks", None, expect(302, anonymous=LOGIN)),
    "service_worker": ("get", "/sw.js", None, READ_ALL),  # keeps composer pages for offline reloads
    # Watching levels (forum/watch_views.py): any signed-in reader chooses for themselves.
    "topic_watch_page": ("get", "/t/{topic.pk}/watch", None, expect(200, anonymous=LOGIN)),
    "topic_watch": ("post", "/t/{topic.pk}/watch", {"level": "watching"}, expect(302, anonymous=LOGIN)),
    "category_watch_page": ("get", "/c/{category.pk}/watch", None, expect(200, anonymous=LOGIN)),
    "category_watch": ("post", "/c/{category.pk}/watch", {"level": "muted"}, expect(302, anonymous=LOGIN)),
    "my_watching": ("get", "/my/watching", None, expect(200, anonymous=LOGIN)),
    # Files in posts (forum/upload_views.py; who downloads a file: tests/forum/test_uploads.py).
    "review_uploads": (
        "get",
        "/review/uploads",
        None,
        expect(403, anonymous=LOGIN, moderator=200, staff=200),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", list(MATRIX))
def test_permission_matrix(client_as, view, role):
    method, url, data, expected = MATRIX[view]
    category = CategoryFactory()
    author = OfficialFactory()
    topic = TopicFactory(category=category, author=author)
    services.retag_topic(topic, ["ict"])
    post = services.create_reply(OfficialFactory(), topic, "An answer")
    client = client_as(role)
    names = {"category": category, "topic": topic, "post": post, "author": author}
    names["me"] = client.user.username if client.user else author.username
    url = url.format(**names)
    if data:
        data = {key: value.format(**names) for key, value in data.items()}
        data.setdefault("idempotency_key", str(uuid.uuid4()))
    response = getattr(client, method)(url, data or {})
    wanted = expected[role]
    if wanted == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], response
    else:
        assert response.status_code == wanted, (view, role, response.status_code)
