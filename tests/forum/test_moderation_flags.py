"""Flags, the review queue, claiming, and the moderation log entry of each action."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from forum import moderation, services
from forum.models import (
    Flag,
    FlagReason,
    ModerationAction,
    ModerationLogEntry,
    PinScope,
    PostState,
    ReviewItem,
    ReviewKind,
    ReviewState,
)
from tests.conftest import make_user
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply():
    topic = TopicFactory()
    return services.create_reply(OfficialFactory(), topic, "Buy cheap watches at example.com")


def flag_by(post, count, reason=FlagReason.SPAM):
    for _ in range(count):
        services.flag_post(OfficialFactory(), post, reason)
    post.refresh_from_db()


def test_three_verified_flags_hide_the_post_at_once_and_tell_the_author_why(reply):
    flag_by(reply, 2)
    assert reply.state == PostState.VISIBLE
    item = ReviewItem.objects.get(post=reply)
    assert item.kind == ReviewKind.FLAGGED_POST and item.state == ReviewState.PENDING
    flag_by(reply, 1)
    assert reply.state == PostState.HIDDEN
    assert "flags from 3 members" in reply.hidden_reason
    assert ReviewItem.objects.filter(post=reply).count() == 1
    assert ModerationLogEntry.objects.filter(action=ModerationAction.AUTO_HIDE, post=reply).exists()


def test_the_threshold_is_configurable(reply, settings):
    settings.FORUM_FLAG_HIDE_THRESHOLD = 1
    flag_by(reply, 1)
    assert reply.state == PostState.HIDDEN


def test_one_flag_per_person_and_post(reply):
    person = OfficialFactory()
    services.flag_post(person, reply, FlagReason.SPAM)
    with pytest.raises(ValidationError, match="already flagged"):
        services.flag_post(person, reply, FlagReason.OFF_TOPIC)
    assert Flag.objects.filter(post=reply).count() == 1


@pytest.mark.parametrize("role", ["member", "silenced", "suspended"])
def test_who_may_not_flag(reply, role):
    with pytest.raises(PermissionDenied):
        services.flag_post(make_user(role), reply, FlagReason.SPAM)


def test_no_flagging_ones_own_post(reply):
    with pytest.raises(PermissionDenied):
        services.flag_post(reply.author, reply, FlagReason.SPAM)


def test_a_note_to_moderators_needs_text(reply):
    with pytest.raises(ValidationError, match="Tell the moderators"):
        services.flag_post(OfficialFactory(), reply, FlagReason.NOTIFY_MODERATORS, "  ")


def test_disagree_restores_the_post_and_is_logged(reply):
    flag_by(reply, 3)
    moderator = ModeratorFactory()
    item = ReviewItem.objects.get(post=reply)
    services.resolve_review(moderator, item, ReviewState.DISAGREED)
    reply.refresh_from_db()
    assert reply.state == PostState.VISIBLE and reply.hidden_reason == ""
    assert ReviewItem.objects.get(pk=item.pk).state == ReviewState.DISAGREED
    entry = ModerationLogEntry.objects.get(action=ModerationAction.FLAG_DISAGREE)
    assert entry.actor == moderator and entry.post == reply


def test_agree_keeps_it_hidden_with_the_reason_given(reply):
    flag_by(reply, 1)
    item = ReviewItem.objects.get(post=reply)
    services.resolve_review(ModeratorFactory(), item, ReviewState.AGREED, "Advertising is not allowed.")
    reply.refresh_from_db()
    assert reply.state == PostState.HIDDEN and reply.hidden_reason == "Advertising is not allowed."
    assert ModerationLogEntry.objects.filter(
        action=ModerationAction.FLAG_AGREE, reason__contains="Advert"
    ).exists()


def test_a_claimed_item_cannot_be_handled_by_another_moderator(reply):
    flag_by(reply, 1)
    item = ReviewItem.objects.get(post=reply)
    first, second = ModeratorFactory(), ModeratorFactory()
    services.claim_review(first, item)
    with pytest.raises(ValidationError, match="claimed"):
        services.claim_review(second, item)
    with pytest.raises(ValidationError, match="claimed"):
        services.resolve_review(second, item, ReviewState.IGNORED)
    services.resolve_review(first, item, ReviewState.IGNORED)
    with pytest.raises(ValidationError, match="already handled"):
        services.resolve_review(first, item, ReviewState.AGREED)
    assert ModerationLogEntry.objects.filter(action=ModerationAction.CLAIM, actor=first).exists()


def test_members_cannot_resolve(reply):
    flag_by(reply, 1)
    with pytest.raises(PermissionDenied):
        services.resolve_review(OfficialFactory(), ReviewItem.objects.get(post=reply), ReviewState.AGREED)


def test_each_topic_action_of_a_moderator_writes_its_log_entry():
    moderator = ModeratorFactory()
    topic = TopicFactory()
    post = services.create_reply(OfficialFactory(), topic, "Some answer")
    services.pin_topic(topic, PinScope.GLOBAL, by=moderator)
    services.unpin_topic(topic, by=moderator)
    services.close_topic(topic, by=moderator)
    services.open_topic(topic, by=moderator)
    services.move_topic(topic, CategoryFactory(), by=moderator)
    services.rename_topic(topic, "A clearer title for this question", by=moderator)
    services.archive_topic(topic, by=moderator)
    services.hide_post(moderator, post, "Off topic")
    services.unhide_post(moderator, post)
    services.edit_post(moderator, post, "Edited by a moderator")
    services.withdraw_post(moderator, post)
    actions = list(ModerationLogEntry.objects.filter(actor=moderator).values_list("action", flat=True))
    assert sorted(actions) == sorted(
        ["pin", "unpin", "close", "open", "move", "rename", "archive", "hide", "unhide", "edit", "withdraw"]
    )
    assert ModerationLogEntry.objects.get(action="hide").reason == "Off topic"


def test_system_actions_and_own_edits_are_not_logged():
    topic = TopicFactory()
    services.pin_topic(topic, PinScope.GLOBAL)  # the events app at a webinar's start
    services.edit_post(topic.author, topic.posts.get(number=1), "My own fix")
    assert not ModerationLogEntry.objects.exists()


def test_silence_and_suspend_need_a_reason_and_are_logged():
    moderator, person = ModeratorFactory(), OfficialFactory()
    later = timezone.now() + timedelta(days=3)
    with pytest.raises(ValidationError):
        services.silence_user(moderator, person, later, "")
    services.silence_user(moderator, person, later, "Repeated personal attacks")
    assert services.permissions.posting_block_reason(person) is not None
    services.suspend_user(moderator, person, later, "Spam")
    services.unsilence_user(moderator, person)
    services.unsuspend_user(moderator, person)
    actions = set(ModerationLogEntry.objects.filter(target_user=person).values_list("action", flat=True))
    assert actions == {"silence", "suspend", "unsilence", "unsuspend"}
    with pytest.raises(PermissionDenied):
        services.silence_user(OfficialFactory(), person, later, "No")


def test_held_first_posts_wait_for_approval(settings):
    settings.FORUM_HOLD_FIRST_POSTS = 1
    topic = TopicFactory()
    newcomer = OfficialFactory()
    post = services.create_reply(newcomer, topic, "My first contribution")
    assert moderation.after_posting(newcomer, post) is True
    post.refresh_from_db()
    assert post.state == PostState.HIDDEN and "approval" in post.hidden_reason
    item = ReviewItem.objects.get(post=post, kind=ReviewKind.HELD_POST)
    services.resolve_review(ModeratorFactory(), item, ReviewState.AGREED)
    post.refresh_from_db()
    assert post.state == PostState.VISIBLE
    second = services.create_reply(newcomer, topic, "My second contribution")
    assert moderation.after_posting(newcomer, second) is False


def test_unverified_flags_do_not_count_towards_hiding(reply, settings):
    settings.FORUM_FLAG_HIDE_THRESHOLD = 1
    # A member cannot flag at all; the rule is about verified officials and moderators.
    with pytest.raises(PermissionDenied):
        services.flag_post(UserFactory(), reply, FlagReason.SPAM)
    reply.refresh_from_db()
    assert reply.state == PostState.VISIBLE


def test_a_held_topic_is_unlisted_until_approved(client, settings):
    settings.FORUM_HOLD_FIRST_POSTS = 1
    newcomer = OfficialFactory()
    topic = services.create_topic(newcomer, CategoryFactory(), "Buy cheap routers from my shop", "Visit shop")
    assert moderation.after_posting(newcomer, topic, kind="topic") is True

    def listed(user) -> bool:
        client.logout()
        if user is not None:
            client.force_login(user)
        return topic.title in client.get("/latest").content.decode()

    assert not listed(None) and not listed(OfficialFactory())
    assert listed(newcomer) and listed(make_user("moderator"))
    assert topic.pk not in [row["id"] for row in Client().get("/latest.json").json()["topic_list"]["topics"]]
    item = ReviewItem.objects.get(post__topic=topic, kind=ReviewKind.HELD_POST)
    services.resolve_review(ModeratorFactory(), item, ReviewState.AGREED)
    assert listed(None)


def test_a_topic_whose_opening_post_is_hidden_by_flags_is_unlisted(client, settings):
    settings.FORUM_FLAG_HIDE_THRESHOLD = 1
    topic = TopicFactory(title="Spam topic about cheap routers")
    services.flag_post(OfficialFactory(), topic.posts.get(number=1), FlagReason.SPAM)
    assert topic.title not in client.get("/latest").content.decode()
    assert client.get(topic.get_absolute_url()).status_code == 200  # the address still answers


def test_the_placeholder_says_who_hid_the_post(client, reply, settings):
    """Readers are told flags hid a post automatically; "a moderator" only when one did."""
    settings.FORUM_FLAG_HIDE_THRESHOLD = 1
    flag_by(reply, 1)
    assert reply.hidden_by == "flags"
    client.force_login(OfficialFactory())
    page = client.get(reply.topic.get_absolute_url()).content.decode()
    assert "Flags from members hid this post until a moderator reviews it." in page
    assert "A moderator hid this post." not in page

    item = ReviewItem.objects.get(post=reply)
    moderation.resolve_review(make_user("moderator"), item, ReviewState.AGREED)
    reply.refresh_from_db()
    assert reply.hidden_by == "moderator"
    page = client.get(reply.topic.get_absolute_url()).content.decode()
    assert "A moderator hid this post." in page
    assert "Flags from members hid this post" not in page

    services.unhide_post(make_user("moderator"), reply)
    reply.refresh_from_db()
    assert (reply.state, reply.hidden_by) == (PostState.VISIBLE, "")
