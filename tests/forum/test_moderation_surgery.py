"""Topic surgery: merge, split and move posts keep numbers and counters exact; old links resolve."""

import pytest
from django.core.exceptions import ValidationError

from forum import services
from forum.models import ModerationLogEntry, Post, Topic
from tests.factories import ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


def make_topic(replies: int, authors=None):
    authors = authors or [OfficialFactory() for _ in range(2)]
    topic = TopicFactory(author=authors[0])
    posts = [topic.posts.get(number=1)]
    for n in range(replies):
        reply_to = posts[-1] if n % 2 else None
        posts.append(
            services.create_reply(authors[n % len(authors)], topic, f"Reply {n + 2}", reply_to=reply_to)
        )
    topic.refresh_from_db()
    return topic


def assert_exact(topic: Topic):
    """Counters equal what the rows say; numbers unique; replies counted."""
    topic.refresh_from_db()
    posts = list(topic.posts.order_by("number"))
    assert topic.posts_count == len(posts)
    assert topic.replies_count == len(posts) - 1
    assert topic.participants_count == len({p.author_id for p in posts})
    assert topic.highest_post_number >= max(p.number for p in posts)
    assert len({p.number for p in posts}) == len(posts)
    for post in posts:
        assert post.reply_count == Post.objects.filter(reply_to=post).count()
        if post.reply_to_id:
            assert post.reply_to.topic_id == topic.pk


def test_merge_appends_posts_in_order_and_deletes_the_source(client):
    moderator = ModeratorFactory()
    target, source = make_topic(3), make_topic(2)
    source_texts = list(source.posts.order_by("number").values_list("raw", flat=True))
    merged = services.merge_topics(moderator, source, target, "Same question")
    assert not Topic.objects.filter(pk=source.pk).exists()
    assert merged.posts_count == 7 and merged.highest_post_number == 7
    assert (
        list(merged.posts.filter(number__gt=4).order_by("number").values_list("raw", flat=True))
        == source_texts
    )
    assert_exact(merged)
    entry = ModerationLogEntry.objects.get(action="merge")
    assert entry.actor == moderator and entry.details["posts"] == 3
    # Old addresses lead to the new place.
    response = client.get(f"/t/{source.slug}/{source.pk}")
    assert response.status_code == 301 and response["Location"] == merged.get_absolute_url()
    response = client.get(f"/t/{source.slug}/{source.pk}/2")
    assert response.status_code == 301 and response["Location"].endswith(f"/{merged.pk}/6#post-6")


def test_split_makes_a_new_topic_numbered_from_one(client):
    topic = make_topic(5)  # posts 1..6
    new = services.split_topic(ModeratorFactory(), topic, [4, 5, 6], "A question of its own, split off")
    assert list(new.posts.order_by("number").values_list("raw", flat=True)) == [
        "Reply 4",
        "Reply 5",
        "Reply 6",
    ]
    assert new.posts_count == 3 and new.highest_post_number == 3
    assert_exact(new)
    assert_exact(topic)
    topic.refresh_from_db()
    assert topic.posts_count == 3 and topic.highest_post_number == 6  # numbers are never reused
    # 5 answered 4: the answer keeps its parent in the new topic.
    assert new.posts.get(number=2).reply_to.number == 1
    response = client.get(f"/t/{topic.slug}/{topic.pk}/5")
    assert response.status_code == 301 and response["Location"].endswith(f"/{new.pk}/2#post-2")
    assert ModerationLogEntry.objects.filter(action="split", topic=topic).exists()


def test_split_refuses_the_opening_post_and_unknown_numbers():
    topic = make_topic(2)
    moderator = ModeratorFactory()
    with pytest.raises(ValidationError):
        services.split_topic(moderator, topic, [1, 2], "A question of its own, split off")
    with pytest.raises(ValidationError):
        services.split_topic(moderator, topic, [9], "A question of its own, split off")
    assert_exact(topic)


def test_move_posts_to_another_topic(client):
    source, target = make_topic(4), make_topic(1)
    services.move_posts(ModeratorFactory(), source, [2, 5], target)
    target.refresh_from_db()
    assert list(target.posts.filter(number__gt=1).order_by("number").values_list("number", "raw")) == [
        (2, "Reply 2"),
        (3, "Reply 2"),
        (4, "Reply 5"),
    ]
    assert_exact(source)
    assert_exact(target)
    # Moving a post on again updates its old redirect too.
    third = make_topic(0)
    services.move_posts(ModeratorFactory(), target, [4], third)
    response = client.get(f"/t/{source.slug}/{source.pk}/5")
    assert response["Location"].endswith(f"/{third.pk}/2#post-2")


def test_surgery_page_keeps_input_on_error_and_splits(client):
    from tests.conftest import make_user

    topic = make_topic(3)
    client.force_login(make_user("moderator"))
    response = client.post(
        f"/t/{topic.pk}/surgery", {"action": "split", "posts": "2-x", "title": "Kept title for the split"}
    )
    assert response.status_code == 400
    assert "Write post numbers such as 4, 6-8." in response.content.decode()
    assert "Kept title for the split" in response.content.decode()
    response = client.post(
        f"/t/{topic.pk}/surgery", {"action": "split", "posts": "3-4", "title": "Kept title for the split"}
    )
    assert response.status_code == 302
    assert Topic.objects.filter(title="Kept title for the split").get().posts_count == 2


def test_a_reply_left_behind_answers_the_topic_when_its_parent_moves():
    topic = make_topic(2)  # 3 answers 2
    services.split_topic(ModeratorFactory(), topic, [2], "The parent goes to a topic of its own")
    left = topic.posts.get(number=3)
    assert left.reply_to_id is None and left.depth == 0 and left.root_number == 3
    assert_exact(topic)
