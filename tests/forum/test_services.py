"""forum.services: what each write guarantees, and the bad input it refuses without losing anything."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from forum import services
from forum.bulk import bulk_add_replies
from forum.models import Draft, Like, PinScope, Post, PostRevision, PostState, StartAccess, Topic, TopicStatus
from tests.conftest import make_user
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_topic_makes_the_first_post_and_counters():
    author = OfficialFactory()
    topic = services.create_topic(
        author,
        CategoryFactory(),
        "  How   do you   bridge the digital divide? ",
        "We start with **libraries**.",
    )
    assert topic.title == "How do you bridge the digital divide?"
    assert topic.slug == "how-do-you-bridge-the-digital-divide"
    first = topic.posts.get()
    assert first.number == 1 and "<strong>libraries</strong>" in first.cooked
    assert (topic.posts_count, topic.replies_count, topic.participants_count) == (1, 0, 1)
    assert topic.last_poster == author


@pytest.mark.parametrize(
    ("title", "raw", "field"),
    [
        ("Too short", "Body", "title"),
        ("x" * 256, "Body", "title"),
        ("A perfectly good title here", "   ", "raw"),
        ("A perfectly good title here", "x" * 32_001, "raw"),
    ],
)
def test_create_topic_refuses_bad_input_with_a_clear_message(title, raw, field):
    with pytest.raises(ValidationError) as error:
        services.create_topic(OfficialFactory(), CategoryFactory(), title, raw)
    assert field in error.value.message_dict
    assert not Topic.objects.exists()


def test_only_moderators_start_topics_in_moderated_categories():
    category = CategoryFactory(start_access=StartAccess.MODERATORS)
    with pytest.raises(PermissionDenied):
        services.create_topic(OfficialFactory(), category, "A question from an official", "Body")
    assert services.create_topic(ModeratorFactory(), category, "A question from the moderators", "Body")


@pytest.mark.parametrize("role", ["anonymous", "member", "silenced", "suspended"])
def test_people_who_may_not_post_cannot_start_topics(role):
    user = make_user(role)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        services.create_topic(user, CategoryFactory(), "A question nobody can ask", "Body")


def test_tags_at_most_five_and_only_moderators_create_new_ones():
    moderator, official = ModeratorFactory(), OfficialFactory()
    topic = services.create_topic(
        moderator, CategoryFactory(), "Tagged by a moderator", "Body", tags=["ICT", "sdg 9"]
    )
    assert sorted(topic.tags.names()) == ["ict", "sdg-9"]
    services.create_topic(official, CategoryFactory(), "Tagged with known tags", "Body", tags=["ict"])
    with pytest.raises(ValidationError, match="brand-new"):
        services.create_topic(
            official, CategoryFactory(), "Tagged with a new tag", "Body", tags=["brand new"]
        )
    with pytest.raises(ValidationError, match="at most 5"):
        services.create_topic(moderator, CategoryFactory(), "Too many tags here", "Body", tags=list("abcdef"))


def test_idempotency_key_makes_one_topic_and_one_reply():
    author, key = OfficialFactory(), uuid.uuid4()
    category = CategoryFactory()
    first = services.create_topic(
        author, category, "Submitted twice by a double click", "Body", idempotency_key=key
    )
    second = services.create_topic(
        author, category, "Submitted twice by a double click", "Body", idempotency_key=key
    )
    assert first == second and Topic.objects.count() == 1
    replier, reply_key = OfficialFactory(), str(uuid.uuid4())
    a = services.create_reply(replier, first, "Same reply", idempotency_key=reply_key)
    b = services.create_reply(replier, first, "Same reply", idempotency_key=reply_key)
    assert a == b
    first.refresh_from_db()
    assert first.posts_count == 2


def test_markdown_with_scripts_and_pixels_is_stored_as_typed_and_rendered_inert():
    raw = "Look <script>alert(1)</script> ![](http://tracker.example/p.gif) [x](javascript:alert(1))"
    post = services.create_reply(OfficialFactory(), TopicFactory(), raw)
    post.refresh_from_db()
    assert post.raw == raw
    assert "<script" not in post.cooked and "tracker.example" not in post.cooked
    assert 'href="javascript' not in post.cooked


def test_replies_are_numbered_and_counted():
    topic = TopicFactory()
    ana, bo = OfficialFactory(), OfficialFactory()
    one = services.create_reply(ana, topic, "First answer")
    two = services.create_reply(bo, topic, "Follow-up", reply_to=one)
    three = services.create_reply(ana, topic, "Another follow-up", reply_to=two)
    topic.refresh_from_db()
    assert [one.number, two.number, three.number] == [2, 3, 4]
    assert (topic.posts_count, topic.replies_count, topic.participants_count) == (4, 3, 3)
    assert topic.last_poster == ana
    one.refresh_from_db()
    assert one.reply_count == 1
    assert (three.depth, three.root_number) == (2, one.number)
    assert three.path.startswith(one.path + ".")


def test_reply_to_a_post_of_another_topic_is_refused():
    topic, other = TopicFactory(), TopicFactory()
    with pytest.raises(ValidationError, match="same topic"):
        services.create_reply(OfficialFactory(), topic, "Hello", reply_to=other.posts.get())
    assert Post.objects.filter(topic=topic).count() == 1


def test_replies_to_closed_or_archived_topics_are_refused():
    closed = TopicFactory(status=TopicStatus.CLOSED)
    archived = TopicFactory(status=TopicStatus.ARCHIVED)
    for topic in (closed, archived):
        with pytest.raises(PermissionDenied):
            services.create_reply(OfficialFactory(), topic, "Hello")
    # A moderator can still leave a closing note on a closed topic.
    assert services.create_reply(ModeratorFactory(), closed, "Closing note")


def test_scheduled_topic_opens_the_moment_opens_at_passes():
    opens_at = timezone.now() + timedelta(hours=1)
    topic = TopicFactory(status=TopicStatus.SCHEDULED, opens_at=opens_at)
    official, speaker, moderator = OfficialFactory(), OfficialFactory(), ModeratorFactory()
    services.invite_posters(topic, [speaker])
    with pytest.raises(PermissionDenied, match="opens for replies"):
        services.create_reply(official, topic, "Too early")
    assert services.create_reply(speaker, topic, "Invited speakers go first")
    assert services.create_reply(moderator, topic, "Moderators too")
    with time_machine.travel(opens_at + timedelta(seconds=1)):
        assert services.create_reply(official, topic, "Right on time")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.SCHEDULED  # nothing had to run: the clock decides


def test_edit_keeps_revisions_and_folds_quick_edits():
    post = TopicFactory().posts.get()
    author = post.author
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.edit_post(author, post, "Version two")
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        services.edit_post(author, post, "Version three")
    assert PostRevision.objects.filter(post=post).count() == 1
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        services.edit_post(author, post, "Version four")
    revisions = list(PostRevision.objects.filter(post=post))
    assert [(r.raw_before, r.raw_after) for r in revisions] == [
        ("Tell us what worked in your city, and what did not.", "Version three"),
        ("Version three", "Version four"),
    ]
    post.refresh_from_db()
    assert post.raw == "Version four" and post.version == 3


def test_only_the_author_or_a_moderator_edits():
    post = TopicFactory().posts.get()
    with pytest.raises(PermissionDenied):
        services.edit_post(OfficialFactory(), post, "Not mine")
    services.edit_post(ModeratorFactory(), post, "Fixed by a moderator")


def test_editing_the_first_post_can_rename_the_topic():
    post = TopicFactory().posts.get()
    services.edit_post(post.author, post, "New text", title="A clearer title for everyone")
    post.topic.refresh_from_db()
    assert post.topic.title == "A clearer title for everyone"


def test_withdraw_and_hide_leave_a_placeholder():
    topic = TopicFactory()
    reply = services.create_reply(OfficialFactory(), topic, "Something I regret")
    with pytest.raises(PermissionDenied):
        services.withdraw_post(OfficialFactory(), reply)
    assert services.withdraw_post(reply.author, reply).state == PostState.WITHDRAWN
    other = services.create_reply(OfficialFactory(), topic, "Spam")
    with pytest.raises(PermissionDenied):
        services.hide_post(OfficialFactory(), other)
    moderator = ModeratorFactory()
    assert services.hide_post(moderator, other, "Advertising").state == PostState.HIDDEN
    assert services.unhide_post(moderator, other).state == PostState.VISIBLE
    assert Post.objects.filter(topic=topic).count() == 3


def test_likes_toggle_and_count():
    post = TopicFactory().posts.get()
    fan = OfficialFactory()
    assert services.toggle_like(fan, post) is True
    post.refresh_from_db()
    assert post.like_count == 1 and post.topic.likes_count == 1
    assert services.toggle_like(fan, post) is False
    post.refresh_from_db()
    assert post.like_count == 0 and not Like.objects.exists()
    with pytest.raises(PermissionDenied):
        services.toggle_like(post.author, post)
    with pytest.raises(PermissionDenied):
        services.toggle_like(UserFactory(), post)


def test_bookmarks_toggle():
    post = TopicFactory().posts.get()
    member = UserFactory()
    assert services.toggle_bookmark(member, post) is True
    assert services.toggle_bookmark(member, post) is False


def test_drafts_are_saved_restored_and_cleared_by_posting():
    topic = TopicFactory()
    official = OfficialFactory()
    key = Draft.key_for_topic(topic.pk)
    services.save_draft(official, key, raw="Half a thought", reply_to_number=1)
    services.save_draft(official, key, raw="Half a thought, now whole")
    assert Draft.objects.get(user=official, key=key).raw == "Half a thought, now whole"
    services.create_reply(official, topic, "Half a thought, now whole")
    assert not Draft.objects.filter(user=official).exists()
    services.save_draft(official, Draft.NEW_TOPIC, title="A new topic", raw="")
    services.save_draft(official, Draft.NEW_TOPIC, title="", raw="")
    assert not Draft.objects.filter(user=official).exists()


def test_read_state_advances_and_keeps_the_last_visit_marker():
    topic = TopicFactory()
    reader = OfficialFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.create_reply(OfficialFactory(), topic, "One")
        services.mark_read(reader, topic, 2)
        services.mark_read(reader, topic, 1)  # never moves backwards
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        services.create_reply(OfficialFactory(), topic, "Two")
        topic.refresh_from_db()
        state = services.mark_read(reader, topic, 3)
    assert (state.last_read_number, state.last_visit_number) == (3, 0)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        services.create_reply(OfficialFactory(), topic, "Three")
        topic.refresh_from_db()
        state = services.mark_read(reader, topic, 4)
    assert (state.last_read_number, state.last_visit_number) == (4, 3)


def test_moderator_topic_actions():
    moderator, official = ModeratorFactory(), OfficialFactory()
    topic = TopicFactory()
    elsewhere = CategoryFactory()
    with pytest.raises(PermissionDenied):
        services.pin_topic(topic, PinScope.GLOBAL, by=official)
    until = timezone.now() + timedelta(days=3)
    assert (
        services.pin_topic(topic, PinScope.CATEGORY, until=until, by=moderator).pin_scope == PinScope.CATEGORY
    )
    assert services.unpin_topic(topic, by=moderator).pin_scope == PinScope.NONE
    assert services.close_topic(topic, by=moderator).status == TopicStatus.CLOSED
    assert services.open_topic(topic, by=moderator).status == TopicStatus.OPEN
    opens_at = timezone.now() + timedelta(days=1)
    assert services.schedule_topic(topic, opens_at, by=moderator).opens_at == opens_at
    assert services.move_topic(topic, elsewhere, by=moderator).category == elsewhere
    assert services.rename_topic(topic, "A renamed topic title", by=moderator).slug == "a-renamed-topic-title"
    services.retag_topic(topic, ["new-tag"], by=moderator)
    assert list(topic.tags.names()) == ["new-tag"]
    assert services.archive_topic(topic, by=moderator).status == TopicStatus.ARCHIVED
    # The system (the events app at a webinar's start) acts without a person.
    assert services.open_topic(topic).status == TopicStatus.OPEN


def test_bulk_replies_keep_numbers_and_counters_exact():
    topic = TopicFactory()
    authors = [OfficialFactory() for _ in range(3)]
    bulk_add_replies(topic, authors, 120, batch_size=50)
    topic.refresh_from_db()
    numbers = list(topic.posts.values_list("number", flat=True))
    assert numbers == list(range(1, 122))
    assert topic.posts_count == 121 and topic.replies_count == 120 and topic.highest_post_number == 121
    assert topic.participants_count == 4
    parent = Post.objects.filter(topic=topic, reply_count__gt=0).first()
    assert parent.reply_count == parent.replies.count()
    services.create_reply(authors[0], topic, "After the bulk")
    assert topic.posts.order_by("-number").first().number == 122


def test_seed_bench_makes_consistent_volume_data():
    from io import StringIO

    from django.core.management import call_command
    from django.db.models import Count, Max

    from forum.models import recent_poster_ids

    call_command("seed_bench", topics=5, posts=60, big_topic=30, verbosity=0, stdout=StringIO())
    topics = Topic.objects.filter(category__slug="bench").annotate(n=Count("posts"), top=Max("posts__number"))
    assert topics.count() == 5
    assert sorted(t.n for t in topics) == [7, 7, 8, 8, 30]
    for topic in topics:
        assert topic.posts_count == topic.n == topic.top == topic.highest_post_number
        assert topic.replies_count == topic.n - 1
        assert topic.participants_count == topic.posts.values("author").distinct().count()
        assert topic.recent_poster_ids == recent_poster_ids(topic.pk, topic.author_id)
    # Every bulk post is searchable, as if the services had written it (bench/search.py relies on it).
    from forum import search

    found = search.search(ModeratorFactory(), "librarians", per_page=10)
    assert {hit.topic.pk for hit in found.hits} == set(topics.values_list("pk", flat=True))


def test_categories_have_one_level_of_sub_categories():
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    grandchild = CategoryFactory.build(parent=child, slug="too-deep", name="Too deep")
    with pytest.raises(ValidationError):
        grandchild.full_clean()


def test_announcement_banner_in_the_readers_language(client):
    topic = TopicFactory()
    services.set_topic_announcement(
        topic,
        {"en": "Discussed live on 17 May", "es": "Se debate en directo el 17 de mayo"},
        url="/events/launch/",
    )
    english = client.get(topic.get_absolute_url()).content.decode()
    assert '<a href="/events/launch/">Discussed live on 17 May</a>' in english
    spanish = client.get(topic.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Se debate en directo el 17 de mayo" in spanish
    with pytest.raises(ValidationError):
        services.set_topic_announcement(topic, {"en": "x"}, url="javascript:alert(1)")
    with pytest.raises(PermissionDenied):
        services.set_topic_announcement(topic, {"en": "x"}, by=OfficialFactory())
    services.set_topic_announcement(topic, {})
    assert "Discussed live" not in client.get(topic.get_absolute_url()).content.decode()
