"""Posting guards: rate limits (from the cache), daily caps, duplicate text, links for newcomers."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from forum import moderation, services
from tests.factories import ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


def settled():
    return OfficialFactory(verified_at=timezone.now() - timedelta(days=60))


def forget_last_post(user, kind="reply"):
    """As if the interval had passed (the counters live in the cache)."""
    cache.delete(moderation._rate_keys(user, kind)[0])


def test_one_post_per_5_seconds_then_allowed_again():
    person = settled()
    moderation.check_posting(person, "A first reply")
    moderation.record_posting(person)
    with pytest.raises(ValidationError, match="every 5 seconds"):
        moderation.check_posting(person, "A second reply")
    forget_last_post(person)
    moderation.check_posting(person, "A second reply")


def test_topics_every_15_seconds_and_tighter_for_the_newly_verified():
    person, newcomer = settled(), OfficialFactory(verified_at=timezone.now())
    for who in (person, newcomer):
        moderation.record_posting(who, "topic")
    with pytest.raises(ValidationError, match="every 15 seconds"):
        moderation.check_posting(person, "text", kind="topic")
    with pytest.raises(ValidationError, match="every 60 seconds"):
        moderation.check_posting(newcomer, "text", kind="topic")


def test_daily_cap():
    newcomer = OfficialFactory(verified_at=timezone.now())
    for _ in range(moderation.DAILY_POSTS[1]):
        moderation.record_posting(newcomer)
    forget_last_post(newcomer)
    with pytest.raises(ValidationError, match="30 times today"):
        moderation.check_posting(newcomer, "One more")


def test_same_text_within_five_minutes_is_blocked():
    person = settled()
    topic = TopicFactory()
    services.create_reply(person, topic, "Exactly the same words")
    with pytest.raises(ValidationError, match="same text a moment ago"):
        moderation.check_posting(person, "Exactly the same words")
    moderation.check_posting(person, "Different words")
    # After five minutes it may be posted again.
    person.posts.update(created_at=timezone.now() - timedelta(minutes=6))
    moderation.check_posting(person, "Exactly the same words")


def test_links_are_limited_for_the_newly_verified_only():
    text = "See https://a.example, https://b.example and www.c.example"
    with pytest.raises(ValidationError, match="at most 2 links"):
        moderation.check_posting(OfficialFactory(verified_at=timezone.now()), text)
    moderation.check_posting(settled(), text)


def test_moderators_are_exempt_and_repeated_submits_pass():
    moderator = ModeratorFactory()
    moderation.record_posting(moderator)
    moderation.check_posting(moderator, "Quick")
    person = settled()
    topic = TopicFactory()
    key = "0b9b7a4e-7a8e-4b53-9d52-7c1b1e0f5a10"
    services.create_reply(person, topic, "Once", idempotency_key=key)
    moderation.record_posting(person)
    moderation.check_posting(person, "Once", idempotency_key=key)
