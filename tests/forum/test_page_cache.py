"""The anonymous page cache (core/page_cache.py): whole pages for readers who are not signed in.

What a reader must never notice: a stale page after a change, another language, another
person's page or CSRF token, a lost message, or an error when the cache is away.
"""

import re

import pytest
from django.test import Client, override_settings

from core import page_cache
from forum import moderation, services
from forum.models import Topic
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, StaffFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    topic = TopicFactory(title="How do cities map the digital divide?")
    services.create_reply(OfficialFactory(), topic, "We walked every district with volunteers.")
    topic.refresh_from_db()
    return topic


def cached(response) -> bool:
    return response.get("X-Page-Cache") == "hit"


def without_tokens(page: str) -> str:
    """The page less its CSRF tokens (each reader gets a fresh one)."""
    return re.sub(r"[A-Za-z0-9]{64}", "", page)


def test_the_second_anonymous_view_comes_from_the_cache(client, topic):
    first = client.get(topic.get_absolute_url())
    second = client.get(topic.get_absolute_url())
    assert first.status_code == second.status_code == 200
    assert not cached(first) and cached(second)
    assert "We walked every district" in second.content.decode()
    assert cached(client.get("/")) is False and cached(client.get("/")) is True


def test_a_new_reply_shows_on_the_next_anonymous_view(client, topic):
    client.get(topic.get_absolute_url())
    client.get("/")
    services.create_reply(OfficialFactory(), topic, "Our libraries lend laptops now.")
    page = client.get(topic.get_absolute_url())
    assert not cached(page) and "Our libraries lend laptops now." in page.content.decode()
    assert not cached(client.get("/"))


def test_a_hidden_post_disappears_at_once(client, topic):
    reply = topic.posts.get(number=2)
    assert "We walked every district" in client.get(topic.get_absolute_url()).content.decode()
    services.hide_post(ModeratorFactory(), reply, "Off topic")
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "We walked every district" not in page


def test_a_renamed_topic_shows_its_new_title_in_the_lists(client, topic):
    assert "How do cities map the digital divide?" in client.get("/").content.decode()
    services.rename_topic(topic, "Mapping who is offline, street by street", by=ModeratorFactory())
    page = client.get("/").content.decode()
    assert "Mapping who is offline, street by street" in page
    assert "How do cities map the digital divide?" not in page


def test_a_pin_and_a_new_topic_show_in_the_lists(client, topic):
    other = TopicFactory(title="Public wifi in markets: what worked")
    client.get("/")
    services.pin_topic(other, by=ModeratorFactory())
    page = client.get("/").content.decode()
    assert page.index("Public wifi in markets") < page.index("How do cities map the digital divide?")
    services.create_topic(
        OfficialFactory(), topic.category, "Digital mentors in public libraries", "Who trains them?"
    )
    assert "Digital mentors in public libraries" in client.get("/").content.decode()


def test_a_summary_and_a_category_change_show(client, topic):
    moderator = ModeratorFactory()
    client.get(topic.get_absolute_url())
    moderation.write_summary(moderator, topic, "Three cities mapped access with volunteers.")
    assert (
        "Three cities mapped access with volunteers." in client.get(topic.get_absolute_url()).content.decode()
    )
    client.get("/")
    services.create_category(StaffFactory(), "Smart city procurement", description="Buying technology well.")
    assert "Smart city procurement" in client.get("/").content.decode()


def test_languages_do_not_mix(client, topic):
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    again = client.get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert cached(again) and without_tokens(again.content.decode()) == without_tokens(spanish)
    assert 'lang="es"' in spanish and 'lang="en"' in english
    french = Client()
    french.cookies["django_language"] = "fr"
    assert 'lang="fr"' in french.get("/").content.decode()
    assert 'lang="fr"' in french.get("/").content.decode()


def test_signed_in_readers_never_get_the_anonymous_page(client, topic):
    client.get(topic.get_absolute_url())
    client.get(topic.get_absolute_url())
    reader = OfficialFactory(display_name="Amina Diallo")
    client.force_login(reader)
    page = client.get(topic.get_absolute_url())
    assert not cached(page) and "Amina Diallo" in page.content.decode()
    client.logout()
    assert "Amina Diallo" not in client.get(topic.get_absolute_url()).content.decode()


def test_each_reader_gets_a_csrf_token_of_their_own_that_works(topic):
    url = topic.get_absolute_url()
    Client().get(url)  # fills the cache
    tokens = []
    for _ in range(2):
        reader = Client(enforce_csrf_checks=True)
        page = reader.get(url)
        assert cached(page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
        assert "csrf" not in token
        tokens.append(token)
        switched = reader.post(
            "/i18n/setlang/", {"language": "fr", "next": url, "csrfmiddlewaretoken": token}
        )
        assert switched.status_code == 302
    assert tokens[0] != tokens[1]


def test_pages_with_a_message_or_a_session_are_not_served_from_the_cache(client, topic):
    url = topic.get_absolute_url()
    client.get(url)
    assert cached(client.get(url))
    client.cookies["messages"] = "anything"
    assert not cached(client.get(url))
    del client.cookies["messages"]
    client.cookies["sessionid"] = "someone"
    assert not cached(client.get(url))


def test_only_plain_page_numbers_are_cached(client, topic):
    client.get("/?page=1")
    assert cached(client.get("/?page=1"))
    client.get("/?page=1&utm=x")
    assert not cached(client.get("/?page=1&utm=x"))
    client.get(topic.get_absolute_url() + "?view=tree")
    assert not cached(client.get(topic.get_absolute_url() + "?view=tree"))


def test_cached_pages_cost_no_query_and_still_count_a_view(client, topic, django_assert_num_queries):
    category = topic.category
    for url in ("/", "/latest", f"/c/{category.slug}/{category.pk}"):
        client.get(url)
        with django_assert_num_queries(0):
            assert cached(client.get(url))
    client.get(topic.get_absolute_url())
    views = Topic.objects.get(pk=topic.pk).views_count
    with django_assert_num_queries(0):
        assert cached(client.get(topic.get_absolute_url()))
    services.flush_view_counts()  # views are buffered and reach the database in a batch
    assert Topic.objects.get(pk=topic.pk).views_count == views + 2


def test_a_restricted_category_is_never_cached_for_anonymous_readers(client):
    hidden = TopicFactory(category=CategoryFactory(read_access="signed_in"))
    assert client.get(hidden.get_absolute_url()).status_code == 302
    assert client.get(hidden.get_absolute_url()).status_code == 302


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
)
def test_a_cache_that_is_down_means_the_page_renders_and_writes_succeed(rf, topic):
    """The page cache's own part (the rest of a page without Redis is core/ and events/' business)."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    rendered = []

    @page_cache.cached_page(lambda request: [page_cache.LISTS])
    def view(request):
        rendered.append(request)
        return HttpResponse("<p>the list</p>")

    request = rf.get("/")
    request.user = AnonymousUser()
    assert view(request).content == b"<p>the list</p>" and len(rendered) == 1
    services.create_reply(OfficialFactory(), topic, "Still answering while the cache is away.")
    page_cache.changed(topic_ids=[topic.pk], site=True)
    assert topic.posts.filter(raw="Still answering while the cache is away.").exists()


def test_the_cached_number_of_topics_follows_a_new_topic(client):
    category = CategoryFactory()
    for i in range(30):
        TopicFactory(category=category, title=f"Peer question number {i:02d} for the cities")
    author = OfficialFactory()
    client.force_login(author)
    assert "page=2" not in client.get("/").content.decode()
    assert "page=2" not in client.get("/").content.decode()  # the count now comes from the cache
    services.create_topic(author, category, "One more question for the cities", "Who else?")
    assert "page=2" in client.get("/").content.decode()
