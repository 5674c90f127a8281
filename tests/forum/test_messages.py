"""Personal messages: who may write, read and answer them, and that no other surface shows them."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from forum import digest, insights, messages, moderation, permissions, reading, search, services
from forum import live as forum_live
from forum.models import (
    Archetype,
    ModerationAction,
    ModerationLogEntry,
    ReadAccess,
    ReviewItem,
)
from notifications.models import Notification, NotificationKind, OutboxEmail
from tests.factories import (
    CategoryFactory,
    ModeratorFactory,
    OfficialFactory,
    StaffFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "Zanzibarian budget figures for the fibre tender"


@pytest.fixture
def people():
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    moderator, staff = ModeratorFactory(username="mod"), StaffFactory(username="staffer")
    for user in (moderator, staff):  # moderation pages need MFA enrolled
        TOTP.activate(user, generate_totp_secret())
    return {
        "harare": OfficialFactory(username="harare"),
        "toronto": OfficialFactory(username="toronto"),
        "third": OfficialFactory(username="third"),
        "moderator": moderator,
        "staff": staff,
        "member": UserFactory(username="newcomer"),
    }


@pytest.fixture
def message(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        topic = messages.create_message(
            people["harare"], [people["toronto"]], f"About {SECRET}", f"Could we talk about {SECRET}?"
        )
    return topic


def test_a_message_is_a_private_topic_between_its_participants(message, people):
    assert message.archetype == Archetype.PRIVATE_MESSAGE
    assert message.category.read_access == ReadAccess.PARTICIPANTS
    assert [p.username for p in messages.participants_of(message)] == ["harare", "toronto"]
    for name in ("harare", "toronto"):
        assert permissions.can_read(people[name], message)
    for name in ("third", "moderator", "staff", "member"):
        assert not permissions.can_read(people[name], message), name
    assert not permissions.can_read(AnonymousUser(), message)


@pytest.mark.parametrize("role", ["harare", "toronto", "third", "moderator", "staff", "member", "anonymous"])
def test_no_list_filter_holds_a_message(message, people, role):
    user = AnonymousUser() if role == "anonymous" else people[role]
    assert not permissions.visible_topics(user).filter(pk=message.pk).exists()
    assert not permissions.readable_topics(user).filter(pk=message.pk).exists()
    assert not permissions.visible_categories(user).filter(pk=message.category_id).exists()
    # The categories whose figures and log moderators see: never the messages' own.
    if role == "moderator":
        assert not permissions.moderated_categories(user).filter(pk=message.category_id).exists()


@pytest.mark.parametrize("role", ["harare", "toronto", "third", "moderator", "staff"])
def test_lists_never_show_a_message(client, message, people, role):
    TopicFactory(title="A public question about open data portals")
    client.force_login(people[role])
    for url in (
        "/latest",
        "/new",
        "/unread",
        "/top?period=all",
        "/latest.rss",
        f"/u/{people['harare'].username}/activity",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url


def test_anonymous_lists_and_the_page_cache_never_hold_a_message(client, message):
    for url in ("/", "/latest", "/new", "/latest.rss"):
        for _ in range(2):  # the second one may come from the anonymous page cache
            response = client.get(url)
            assert SECRET not in response.content.decode(), url
    response = client.get(message.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(message.get_absolute_url()).status_code == 302  # nothing cached


@pytest.mark.parametrize("role", ["harare", "toronto", "third", "moderator", "staff", "anonymous"])
def test_search_never_finds_a_message(message, people, role):
    user = AnonymousUser() if role == "anonymous" else people[role]
    TopicFactory(title="Zanzibarian lessons on public fibre networks")  # the search does run
    results = search.search(user, "Zanzibarian")
    assert [hit.topic.pk for hit in results.hits] != [] or results.error
    assert message.pk not in [hit.topic.pk for hit in results.hits]
    # Not even inside the message by its id (search in a topic reads readable_topics).
    inside = search.search(user, f"Zanzibarian topic:{message.pk}")
    assert not inside.hits


def test_feeds_digest_and_insights_leave_messages_out(client, message, people):
    services.create_reply(people["toronto"], message, f"Yes, {SECRET} are ready.")
    staff = people["staff"]
    start, end = timezone.now() - timezone.timedelta(days=1), timezone.now() + timezone.timedelta(days=1)
    assert not digest.category_topics(staff, message.category, start, end, 10)
    tables = [insights.replies_per_question(start, end), insights.over_time(start, end)]
    assert all(SECRET not in str(table.rows) for table in tables)
    assert insights.over_time(start, end).rows == []  # the two posts of the message count nowhere
    assert client.get(f"/t/{message.slug}/{message.pk}.rss").status_code == 404
    client.force_login(staff)
    response = client.get("/insights/")
    assert response.status_code == 200 and SECRET not in response.content.decode()


def test_live_channels_of_a_message(message, people):
    assert forum_live.announcement_channels(message) == []
    channel = forum_live.topic_channel(message.pk)
    assert forum_live.may_read_topic_channel(people["toronto"], channel)
    for name in ("third", "moderator", "staff"):
        assert not forum_live.may_read_topic_channel(people[name], channel)
    assert not forum_live.may_read_category_channel(
        people["moderator"], forum_live.category_channel(message.category_id)
    )


def test_topic_pages_are_404_for_everyone_else(client, message, people):
    client.force_login(people["toronto"])
    response = client.get(message.get_absolute_url())
    assert response.status_code == 200 and SECRET in response.content.decode()
    first = message.posts.get(number=1)
    for name in ("third", "moderator", "staff"):
        client.force_login(people[name])
        for url in (
            message.get_absolute_url(),
            f"/t/{message.pk}/reply",
            f"/t/{message.pk}/live/posts?after=0",
            f"/posts/{first.pk}/history",
            f"/t/{message.pk}.json",
            f"/posts/{first.pk}.json",
        ):
            assert client.get(url).status_code == 404, (name, url)


def test_participants_answer_others_cannot(message, people):
    reply = services.create_reply(people["toronto"], message, "Happy to talk next week.")
    assert reply.number == 2
    with pytest.raises(PermissionDenied):
        services.create_reply(people["third"], message, "Let me in")
    with pytest.raises(PermissionDenied):
        services.create_reply(people["moderator"], message, "Moderators do not read messages")


def test_who_may_message_whom(people):
    member, official, moderator = people["member"], people["toronto"], people["moderator"]
    with pytest.raises(PermissionDenied):
        messages.create_message(member, [official], "A question from a newcomer", "Hello there")
    messages.set_refuse_messages(official, True)
    with pytest.raises(ValidationError, match="does not accept"):
        messages.create_message(people["harare"], [official], "Can we talk about fibre?", "Hello")
    # Moderators may still write (about a verification, say), and members may answer them.
    topic = messages.create_message(moderator, [official, member], "About your verification", "Hello")
    assert services.create_reply(member, topic, "Thank you, here is my evidence.").number == 2
    # A member may not answer an official's message.
    other = messages.create_message(people["harare"], [member, people["third"]], "Welcome to the forum", "Hi")
    assert permissions.reply_block_reason(member, other)
    with pytest.raises(ValidationError, match="Nobody is called"):
        messages.recipients_from_names("toronto, nobody-here")
    assert messages.recipients_from_names("@Toronto, harare") == [official, people["harare"]]
    with pytest.raises(ValidationError):
        messages.create_message(people["harare"], [], "A message to nobody at all", "Hi")


def test_add_remove_and_leave(message, people):
    harare, toronto, third = people["harare"], people["toronto"], people["third"]
    assert messages.add_participants(toronto, message, [third]) == [third]
    assert permissions.can_read(third, message)
    with pytest.raises(PermissionDenied):
        messages.remove_participant(toronto, message, third)  # only the author removes others
    messages.remove_participant(harare, message, third)
    message = type(message).objects.get(pk=message.pk)
    assert not permissions.can_read(third, message)
    messages.leave_message(toronto, message)
    message = type(message).objects.get(pk=message.pk)
    assert not permissions.can_read(toronto, message)
    assert permissions.can_read(harare, message)


def test_unread_count_inbox_and_archive(message, people, django_capture_on_commit_callbacks):
    harare, toronto = people["harare"], people["toronto"]
    assert messages.unread_count(toronto) == 1
    assert messages.unread_count(harare) == 0
    services.mark_read(toronto, message, 1)
    assert messages.unread_count(toronto) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.create_reply(harare, message, "One more thing about the tender.")
    assert messages.unread_count(toronto) == 1
    assert list(messages.box(toronto, "inbox")) == [message]
    assert list(messages.box(harare, "sent")) == [message]
    messages.set_archived(toronto, message, True)
    assert messages.unread_count(toronto) == 0
    assert list(messages.box(toronto, "archive")) == [message]
    assert not messages.box(toronto, "inbox").exists()
    services.create_reply(harare, message, "Are you there?")
    assert list(messages.box(toronto, "inbox")) == [message]  # a new post brings it back


def test_recipients_are_notified_and_emailed_at_once(message, people):
    notification = Notification.objects.get(recipient=people["toronto"])
    assert notification.kind == NotificationKind.PRIVATE_MESSAGE
    email = OutboxEmail.objects.get(notification=notification)
    assert email.send_after <= timezone.now()
    assert not Notification.objects.filter(recipient__in=[people["third"], people["moderator"]]).exists()


def test_a_mention_in_a_message_reaches_no_outsider(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        messages.create_message(
            people["harare"], [people["toronto"]], "Mentioning someone else", "Ask @third"
        )
    assert not Notification.objects.filter(recipient=people["third"]).exists()


def test_moderators_read_a_message_only_when_flagged_and_it_is_logged(message, people):
    post = message.posts.get(number=1)
    moderation.flag_post(people["toronto"], post, "inappropriate")
    item = ReviewItem.objects.get(post=post)
    with pytest.raises(PermissionDenied):
        messages.read_flagged_message(people["third"], item)
    assert messages.read_flagged_message(people["moderator"], item) == post
    entry = ModerationLogEntry.objects.get(action=ModerationAction.READ_MESSAGE)
    assert entry.actor == people["moderator"] and entry.post_id == post.pk
    # Still not the whole message.
    assert not permissions.can_read(people["moderator"], message)


def test_messages_cannot_be_moved_or_merged_out(message, people):
    public = TopicFactory()
    with pytest.raises(ValidationError):
        services.move_topic(message, public.category, by=people["moderator"])
    with pytest.raises(ValidationError):
        services.move_topic(public, message.category, by=people["moderator"])
    with pytest.raises(ValidationError):
        moderation.merge_topics(people["moderator"], message, public)
    with pytest.raises(ValidationError):
        moderation.move_posts(people["moderator"], message, [1], public)


def test_reading_lists_of_a_participant_leave_messages_out(message, people):
    toronto = people["toronto"]
    CategoryFactory()
    assert not reading.unread_topics(toronto).filter(pk=message.pk).exists()
    assert not reading.new_topics(toronto).filter(pk=message.pk).exists()
    counts = reading.list_counts(toronto, reading.all_read_at(toronto))
    assert counts.get("new", 0) == 0 and counts.get("unread", 0) == 0


def test_only_the_messages_category_is_read_by_participants(message):
    from forum.models import Category, ReadAccess
    from tests.factories import CategoryFactory

    ordinary = CategoryFactory(slug="digitalisation")
    ordinary.read_access = ReadAccess.PARTICIPANTS
    with pytest.raises(ValidationError) as refused:
        ordinary.full_clean()
    assert "read_access" in refused.value.message_dict
    Category.objects.get(slug=messages.CATEGORY_SLUG).full_clean()  # the messages' own stays valid
