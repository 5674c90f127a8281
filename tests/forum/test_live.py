"""The forum's live channels: who may read them, what each write publishes (after commit only),
and the fragments open pages fetch, which show each person only what they may see."""

import pytest
from django.db import transaction

from core import live
from forum import services
from forum.models import ReadAccess, ReviewItem, ReviewKind, ReviewState, TopicStatus
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_process_broker(settings):
    settings.REDIS_URL = ""


class Recorder:
    """What was published on some channels since it started."""

    def __init__(self, *channels: str):
        self.cursors = {channel: live.last_id(channel) for channel in channels}

    def events(self, channel: str) -> list[tuple[str, dict]]:
        found, _gap = live.read_after(channel, self.cursors[channel])
        return [(event.event, event.data) for event in found]


def topic_channel(topic) -> str:
    return f"/topic/{topic.pk}"


@pytest.fixture
def topic():
    return TopicFactory()


# --- Publishing after commit ----------------------------------------------------------------


def test_a_reply_is_announced_after_commit_with_numbers_only(topic, django_capture_on_commit_callbacks):
    recorder = Recorder(topic_channel(topic))
    with django_capture_on_commit_callbacks(execute=True):
        post = services.create_reply(OfficialFactory(), topic, "Our city tried open data first.")
        assert services.after_posting(post.author, post) is False
        assert recorder.events(topic_channel(topic)) == []  # Not before the commit.
    assert recorder.events(topic_channel(topic)) == [("post_created", {"post_id": post.pk, "number": 2})]


def test_nothing_is_published_when_the_transaction_rolls_back(topic, django_capture_on_commit_callbacks):
    recorder = Recorder(topic_channel(topic))
    moderator = ModeratorFactory()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        post = services.create_reply(OfficialFactory(), topic, "A reply that never happened.")
        services.after_posting(post.author, post)
        services.close_topic(topic, by=moderator)
        raise RuntimeError("rolled back")
    assert recorder.events(topic_channel(topic)) == []


def test_a_new_topic_is_announced_in_the_lists_and_its_categories(django_capture_on_commit_callbacks):
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    channels = ["/latest", f"/category/{child.pk}", f"/category/{parent.pk}"]
    recorder = Recorder(*channels)
    author = OfficialFactory()
    with django_capture_on_commit_callbacks(execute=True):
        new = services.create_topic(author, child, "Who runs the city's open data portal?", "Tell us.")
        services.after_posting(author, new, kind="topic")
    for channel in channels:
        assert recorder.events(channel) == [("topic_created", {"topic_id": new.pk})], channel
    recorder_topic = Recorder(topic_channel(new))
    assert recorder_topic.events(topic_channel(new)) == []  # nobody could listen before it existed


def test_a_held_post_is_announced_only_when_approved(topic, settings, django_capture_on_commit_callbacks):
    settings.FORUM_HOLD_FIRST_POSTS = 5
    newcomer = OfficialFactory()
    recorder = Recorder(topic_channel(topic))
    with django_capture_on_commit_callbacks(execute=True):
        post = services.create_reply(newcomer, topic, "My very first post here.")
        assert services.after_posting(newcomer, post) is True
    assert recorder.events(topic_channel(topic)) == []

    item = ReviewItem.objects.get(post=post, kind=ReviewKind.HELD_POST)
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve_review(ModeratorFactory(), item, ReviewState.AGREED)
    assert recorder.events(topic_channel(topic)) == [("post_created", {"post_id": post.pk, "number": 2})]


def test_a_held_opening_post_announces_its_topic_when_approved(settings, django_capture_on_commit_callbacks):
    settings.FORUM_HOLD_FIRST_POSTS = 5
    category = CategoryFactory()
    recorder = Recorder("/latest", f"/category/{category.pk}")
    newcomer = OfficialFactory()
    with django_capture_on_commit_callbacks(execute=True):
        new = services.create_topic(newcomer, category, "A first question from a newcomer", "Hello.")
        services.after_posting(newcomer, new, kind="topic")
    assert recorder.events("/latest") == []
    item = ReviewItem.objects.get(post__topic=new, kind=ReviewKind.HELD_POST)
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve_review(ModeratorFactory(), item, ReviewState.AGREED)
    assert recorder.events("/latest") == [("topic_created", {"topic_id": new.pk})]
    assert recorder.events(f"/category/{category.pk}") == [("topic_created", {"topic_id": new.pk})]


def test_each_change_to_a_post_is_published(topic, django_capture_on_commit_callbacks):
    author, reader, moderator = OfficialFactory(), OfficialFactory(), ModeratorFactory()
    post = services.create_reply(author, topic, "Version one of my answer.")
    data = {"post_id": post.pk, "number": post.number}
    recorder = Recorder(topic_channel(topic))
    with django_capture_on_commit_callbacks(execute=True):
        services.edit_post(author, post, "Version two of my answer.")
        services.toggle_like(reader, post)
        services.toggle_like(reader, post)
        services.hide_post(moderator, post, "Off topic")
        services.unhide_post(moderator, post)
        services.withdraw_post(author, post)
    assert recorder.events(topic_channel(topic)) == [
        ("post_edited", data),
        ("post_liked", {**data, "like_count": 1}),
        ("post_liked", {**data, "like_count": 0}),
        ("post_hidden", data),
        ("post_shown", data),
        ("post_withdrawn", data),
    ]


def test_flags_and_reviews_publish_what_they_decide(topic, settings, django_capture_on_commit_callbacks):
    settings.FORUM_FLAG_HIDE_THRESHOLD = 1
    post = services.create_reply(OfficialFactory(), topic, "Something people will flag.")
    data = {"post_id": post.pk, "number": post.number}
    recorder = Recorder(topic_channel(topic))
    with django_capture_on_commit_callbacks(execute=True):
        services.flag_post(OfficialFactory(), post, "off_topic")
    item = ReviewItem.objects.get(post=post, kind=ReviewKind.FLAGGED_POST)
    with django_capture_on_commit_callbacks(execute=True):
        services.resolve_review(ModeratorFactory(), item, ReviewState.DISAGREED)
    assert recorder.events(topic_channel(topic)) == [("post_hidden", data), ("post_shown", data)]


def test_highlights_refresh_the_post(topic, django_capture_on_commit_callbacks):
    post = services.create_reply(OfficialFactory(), topic, "A key contribution.")
    moderator = ModeratorFactory()
    recorder = Recorder(topic_channel(topic))
    with django_capture_on_commit_callbacks(execute=True):
        services.highlight_post(moderator, post)
        services.unhighlight_post(moderator, post)
    assert [name for name, _data in recorder.events(topic_channel(topic))] == ["post_edited", "post_edited"]


def test_topic_state_changes_are_published(topic, django_capture_on_commit_callbacks):
    from django.utils import timezone

    moderator = ModeratorFactory()
    recorder = Recorder(topic_channel(topic))
    with django_capture_on_commit_callbacks(execute=True):
        services.close_topic(topic, by=moderator)
        services.open_topic(topic, by=moderator)
        services.schedule_topic(topic, timezone.now() + timezone.timedelta(hours=1))
        services.open_topic(topic)  # the system, at an event's start
        services.archive_topic(topic, by=moderator)
    assert recorder.events(topic_channel(topic)) == [
        ("topic_state", {"topic_id": topic.pk, "status": status})
        for status in [
            TopicStatus.CLOSED,
            TopicStatus.OPEN,
            TopicStatus.SCHEDULED,
            TopicStatus.OPEN,
            TopicStatus.ARCHIVED,
        ]
    ]


def test_merging_tells_both_topics_pages(django_capture_on_commit_callbacks):
    source, target = TopicFactory(), TopicFactory()
    recorder = Recorder(topic_channel(source), topic_channel(target))
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_topics(ModeratorFactory(), source, target)
    assert recorder.events(topic_channel(source)) == [("topic_changed", {"topic_id": source.pk})]
    assert recorder.events(topic_channel(target)) == [("topic_changed", {"topic_id": target.pk})]


def test_renaming_or_moving_a_topic_tells_its_pages(django_capture_on_commit_callbacks):
    topic, moderator = TopicFactory(), ModeratorFactory()
    recorder = Recorder(topic_channel(topic))
    with django_capture_on_commit_callbacks(execute=True):
        services.rename_topic(topic, "A clearer title for this shared question", by=moderator)
        services.move_topic(topic, CategoryFactory(), by=moderator)
    assert recorder.events(topic_channel(topic)) == [("topic_changed", {"topic_id": topic.pk})] * 2


# --- Who may read the channels --------------------------------------------------------------


def test_channel_permissions_follow_the_forum_rules():
    public = TopicFactory()
    private_category = CategoryFactory(read_access=ReadAccess.VERIFIED)
    private = TopicFactory(category=private_category)
    member, official = UserFactory(), OfficialFactory()

    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    for user in (anonymous, member, official):
        assert live.can_subscribe(user, f"/topic/{public.pk}")
        assert live.can_subscribe(user, "/latest")
        assert live.can_subscribe(user, f"/category/{public.category_id}")
    for user in (anonymous, member):
        assert not live.can_subscribe(user, f"/topic/{private.pk}")
        assert not live.can_subscribe(user, f"/category/{private_category.pk}")
    assert live.can_subscribe(official, f"/topic/{private.pk}")
    assert live.can_subscribe(official, f"/category/{private_category.pk}")
    for channel in ["/topic/999999", "/topic/abc", "/topic/1/2", "/latest/secret", "/category/x"]:
        assert not live.can_subscribe(official, channel), channel


def test_a_private_topic_channel_is_refused_by_both_endpoints(client):
    private = TopicFactory(category=CategoryFactory(read_access=ReadAccess.SIGNED_IN))
    assert client.get("/live/poll", {"channel": f"/topic/{private.pk}"}).status_code == 403
    assert client.get("/live/stream", {"channel": f"/topic/{private.pk}"}).status_code == 403
    client.force_login(UserFactory())
    assert client.get("/live/poll", {"channel": f"/topic/{private.pk}"}).status_code == 200


# --- The fragments pages fetch --------------------------------------------------------------


def test_new_posts_fragment_shows_the_posts_after_a_number(client, topic):
    author = OfficialFactory()
    for n in range(3):
        services.create_reply(author, topic, f"Answer number {n}")
    response = client.get(f"/t/{topic.pk}/live/posts", {"after": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert response["X-Highest-Number"] == "4"
    assert 'id="post-3"' in html and 'id="post-4"' in html and 'id="post-2"' not in html
    assert "<html" not in html  # a fragment, not a page


def test_a_hidden_post_fragment_shows_the_placeholder_to_others(client, topic):
    post = services.create_reply(OfficialFactory(), topic, "Something a moderator will hide.")
    services.hide_post(ModeratorFactory(), post, "Off topic")
    html = client.get(f"/t/{topic.pk}/live/posts", {"number": post.number}).content.decode()
    assert "Something a moderator will hide" not in html
    assert "A moderator hid this post." in html
    client.force_login(post.author)
    assert (
        "Something a moderator will hide"
        in client.get(f"/t/{topic.pk}/live/posts", {"number": post.number}).content.decode()
    )


def test_fragments_of_a_private_topic_are_refused(client):
    private = TopicFactory(category=CategoryFactory(read_access=ReadAccess.VERIFIED))
    client.force_login(UserFactory())
    assert client.get(f"/t/{private.pk}/live/posts", {"after": 0}).status_code == 403
    assert client.get(f"/t/{private.pk}/live/composer").status_code == 403
    public = TopicFactory()
    assert client.get(f"/t/{public.pk}/live/posts").status_code == 404  # neither after nor number
    assert client.get(f"/t/{public.pk}/live/posts", {"number": 99}).status_code == 404


def test_the_composer_fragment_follows_the_topic_state(client, topic):
    client.force_login(OfficialFactory())
    html = client.get(f"/t/{topic.pk}/live/composer").content.decode()
    assert 'data-can-reply="true"' in html and 'name="raw"' in html
    services.close_topic(topic, by=ModeratorFactory())
    html = client.get(f"/t/{topic.pk}/live/composer").content.decode()
    assert 'data-can-reply="false"' in html
    assert "This topic is closed to new replies." in html
    assert "data-composer-kept" in html  # where the page keeps the text being typed


def test_new_topics_count_only_what_the_reader_may_see(client):
    public = TopicFactory()
    child = TopicFactory(category=CategoryFactory(parent=public.category))
    private = TopicFactory(category=CategoryFactory(read_access=ReadAccess.VERIFIED))
    ids = {"id": [public.pk, child.pk, private.pk]}
    body = client.get("/new-topics.json", ids).json()
    assert body == {"count": 2, "label": "2 new topics: show them"}
    client.force_login(OfficialFactory())
    assert client.get("/new-topics.json", ids).json()["count"] == 3
    in_category = client.get("/new-topics.json", {**ids, "category": public.category_id}).json()
    assert in_category == {"count": 2, "label": "2 new topics: show them"}
    services.retag_topic(public, ["budget"])
    assert client.get("/new-topics.json", {**ids, "tag": "budget"}).json()["label"] == "1 new topic: show it"
    assert client.get("/new-topics.json").json() == {"count": 0, "label": ""}
    assert client.get("/new-topics.json", {"id": ["x", "-1"]}).json()["count"] == 0


def test_pages_subscribe_to_their_channels(client, topic):
    services.close_topic(topic, by=ModeratorFactory())  # an event before the page is rendered
    page = client.get(topic.get_absolute_url()).content.decode()
    assert f'data-live-channels="/topic/{topic.pk}"' in page
    # Replay starts where the page was rendered, so nothing falls between render and connect.
    assert f'data-live-since="/topic/{topic.pk}={live.last_id(topic_channel(topic))}"' in page
    assert 'id="new-replies-bar" hidden' in page
    assert 'data-live-channels="/latest"' in client.get("/latest").content.decode()
    category = topic.category
    assert (
        f'data-live-channels="/category/{category.pk}"'
        in client.get(category.get_absolute_url()).content.decode()
    )


# --- Query budgets: independent of the topic's size -----------------------------------------

LIVE_BUDGETS = {
    # topic with its category, the posts, highlights; signed in: session and user (the reader's
    # likes and bookmarks come with the posts).
    "live_posts_after": (3, 4),
    "live_post": (3, 4),
    # topic with its category; signed in: session and user, the saved draft.
    "live_composer": (1, 3),
    "live_new_topics": (1, 2),
}


def _live_urls(data) -> dict[str, str]:
    topic = data["topic"]
    return {
        "live_posts_after": f"/t/{topic.pk}/live/posts?after={topic.highest_post_number - 3}",
        "live_post": f"/t/{topic.pk}/live/posts?number=5",
        "live_composer": f"/t/{topic.pk}/live/composer",
        "live_new_topics": f"/new-topics.json?id={topic.pk}&id={topic.pk + 1}&category={data['category'].pk}",
    }


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_live_fragments_cost_the_same_for_small_and_large_topics(client, signed_in):
    from tests.forum.test_query_budgets import build_forum, count_queries

    small, large = build_forum(2), build_forum(40)
    measured = {}
    for name in LIVE_BUDGETS:
        counts = []
        for data in (small, large):
            client.logout()
            if signed_in:
                client.force_login(data["reader"])
            counts.append(count_queries(client, _live_urls(data)[name]))
        measured[name] = counts
    expected = {name: [budgets[1 if signed_in else 0]] * 2 for name, budgets in LIVE_BUDGETS.items()}
    assert measured == expected


@pytest.mark.redis
def test_the_topic_page_renders_when_the_live_broker_is_unreachable(client, topic, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(topic.get_absolute_url())
    assert response.status_code == 200
    assert "data-live-since" not in response.content.decode()
