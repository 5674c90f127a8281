"""The signed-in half of the page cache (core/page_cache.py): each reader's own pages.

What a signed-in reader must never notice: another person's page, a page that misses what
they just did or what was just done to them, a lost message, or a token that does not work.
"""

import re

import pytest
from django.test import Client

from forum import services
from forum.models import Topic
from notifications import services as notifications
from tests.factories import ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    topic = TopicFactory(title="How do cities open their budgets?")
    services.create_reply(OfficialFactory(), topic, "We publish every line item each quarter.")
    topic.refresh_from_db()
    return topic


def cached(response) -> bool:
    return response.get("X-Page-Cache") == "hit"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_reader_gets_their_own_page_from_the_cache_and_nobody_else_does(topic):
    amina, tomas = OfficialFactory(display_name="Amina Diallo"), OfficialFactory(display_name="Tomás Ruiz")
    first = signed_in(amina)
    second = signed_in(tomas)
    for url in ("/", topic.get_absolute_url()):
        first.get(url)  # reading the topic moves Amina's read position: that page is not kept
        first.get(url)
        page = first.get(url)
        assert cached(page) and "Amina Diallo" in page.content.decode()
        theirs = second.get(url)
        assert not cached(theirs)
        assert "Tomás Ruiz" in theirs.content.decode() and "Amina Diallo" not in theirs.content.decode()
    anonymous = Client().get(topic.get_absolute_url())
    assert "Amina Diallo" not in anonymous.content.decode()


def test_the_csrf_token_on_a_cached_page_is_fresh_and_works(topic):
    reader = OfficialFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    url = topic.get_absolute_url()
    for _ in range(3):
        page = client.get(url)
    assert cached(page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert "csrf" not in token
    reply = client.post(
        f"/t/{topic.pk}/reply",
        {"raw": "Our council votes the budget in public.", "csrfmiddlewaretoken": token},
    )
    assert reply.status_code == 302
    assert "Our council votes the budget in public." in client.get(url).content.decode()


def test_what_the_reader_does_shows_on_their_next_page(topic):
    reader = OfficialFactory()
    client = signed_in(reader)
    url = topic.get_absolute_url()
    for _ in range(3):
        page = client.get(url)
    assert cached(page)
    reply = topic.posts.get(number=2)
    assert client.post(f"/posts/{reply.pk}/bookmark").status_code in (200, 302)
    page = client.get(url)
    assert not cached(page)
    assert reader.bookmarks.filter(post=reply).exists()


def test_a_notification_someone_else_causes_shows_at_once(topic):
    reader = OfficialFactory()
    client = signed_in(reader)
    client.get("/")
    assert cached(client.get("/"))
    notifications.notify(
        reader,
        "mention",
        actor=OfficialFactory(),
        title="You were mentioned",
        url=topic.get_absolute_url(),
        dedupe_key="test:1",
    )
    page = client.get("/")
    assert not cached(page)
    assert notifications.unread_count(reader) == 1


def test_a_change_to_the_readers_account_shows_at_once(topic):
    reader = UserFactory()
    client = signed_in(reader)
    client.get("/")
    assert cached(client.get("/"))
    reader.is_moderator = True  # a staff member makes them a moderator
    reader.save()
    assert not cached(client.get("/"))


def test_a_new_reply_by_someone_else_shows_on_the_readers_next_page(topic):
    client = signed_in(OfficialFactory())
    url = topic.get_absolute_url()
    for _ in range(3):
        client.get(url)
    services.create_reply(OfficialFactory(), topic, "Participatory budgeting changed our city.")
    page = client.get(url)
    assert not cached(page) and "Participatory budgeting changed our city." in page.content.decode()


def test_a_page_with_a_message_waiting_is_neither_served_from_nor_kept_in_the_cache(topic):
    reader = OfficialFactory()
    client = signed_in(reader)
    client.get("/")
    assert cached(client.get("/"))
    reader.verification_notice = "expiring"  # shown once, as a message, on their next page
    reader.save()
    page = client.get("/")
    assert not cached(page) and "Your verification will expire soon" in page.content.decode()
    again = client.get("/")
    assert "Your verification will expire soon" not in again.content.decode()
    assert cached(client.get("/"))


def test_a_cached_topic_page_costs_one_query_and_still_counts_a_view(topic, django_assert_num_queries):
    client = signed_in(OfficialFactory())
    url = topic.get_absolute_url()
    client.get(url)
    client.get(url)
    views = Topic.objects.get(pk=topic.pk).views_count
    with django_assert_num_queries(1):  # the person (Django's own, per request; the session is cached)
        assert cached(client.get(url))
    services.flush_view_counts()
    assert Topic.objects.get(pk=topic.pk).views_count == views + 3


def test_the_signed_in_half_can_be_turned_off(topic, settings):
    settings.PAGE_CACHE_SIGNED_IN = False
    client = signed_in(ModeratorFactory())
    for _ in range(3):
        page = client.get("/")
    assert not cached(page)


def test_many_readers_move_on_at_once_and_missing_versions_start_afresh():
    """A reply watched by thousands moves each watcher's version on (one round trip on Redis)."""
    from django.core.cache import cache

    from core import page_cache

    readers = [900_001, 900_002, 900_003]
    before = [page_cache.stamp([page_cache.reader_scope(pk)]) for pk in readers]
    cache.delete(f"{page_cache.KEY_PREFIX}:v:{page_cache.reader_scope(900_004)}")  # never seen
    page_cache.changed(readers=[*readers, 900_004], lists=False)
    after = [page_cache.stamp([page_cache.reader_scope(pk)]) for pk in readers]
    assert all(old != new for old, new in zip(before, after, strict=True))
    assert cache.get(f"{page_cache.KEY_PREFIX}:v:{page_cache.reader_scope(900_004)}") is not None
