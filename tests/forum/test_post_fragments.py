"""Post heads and bodies shared by every reader (forum/fragments.py).

What a reader must never notice: another reader's view of a hidden post, a stale text after an
edit, an old name after a change of badge, another language, or an error when the cache is away.
"""

import pytest
from django.test import Client

from accounts import services as accounts_services
from forum import fragments, services
from tests.factories import ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    topic = TopicFactory(title="How do cities map the digital divide?")
    services.create_reply(OfficialFactory(display_name="Ana Reyes"), topic, "We walked every district.")
    topic.refresh_from_db()
    return topic


def signed_in(user=None) -> Client:
    client = Client()
    client.force_login(user or OfficialFactory())
    return client


def test_a_second_reader_gets_the_same_posts_without_rendering_them_again(topic, monkeypatch):
    first = signed_in().get(topic.get_absolute_url()).content.decode()
    stored = []
    original = fragments.cache.set_many
    monkeypatch.setattr(
        fragments.cache, "set_many", lambda pieces, **kw: stored.append(pieces) or original(pieces, **kw)
    )
    second = signed_in().get(topic.get_absolute_url()).content.decode()
    assert stored == []  # every piece came from the cache
    assert "We walked every district." in first and "Ana Reyes" in first
    for page in (first, second):
        reply = page[page.index('id="post-2"') : page.index("post-actions-", page.index('id="post-2"'))]
        assert "We walked every district." in reply and "Ana Reyes" in reply


def test_an_edit_shows_on_the_next_view(topic):
    reader = signed_in()
    reader.get(topic.get_absolute_url())
    reply = topic.posts.get(number=2)
    services.edit_post(reply.author, reply, "We walked every district, twice.")
    assert "We walked every district, twice." in reader.get(topic.get_absolute_url()).content.decode()


def test_a_new_name_shows_on_the_next_view(topic):
    reader = signed_in()
    reader.get(topic.get_absolute_url())
    author = topic.posts.get(number=2).author
    accounts_services.complete_signup_profile(author, display_name="Ana Reyes Soto", position="Director")
    page = reader.get(topic.get_absolute_url()).content.decode()
    assert "Ana Reyes Soto" in page and "Director" in page


def test_a_hidden_posts_text_is_for_its_author_and_moderators_only(topic):
    reply = topic.posts.get(number=2)
    services.hide_post(ModeratorFactory(), reply, "Off topic")
    author_page = signed_in(reply.author).get(topic.get_absolute_url()).content.decode()
    other_page = signed_in().get(topic.get_absolute_url()).content.decode()
    author_again = signed_in(reply.author).get(topic.get_absolute_url()).content.decode()
    assert "We walked every district." in author_page and "We walked every district." in author_again
    assert "We walked every district." not in other_page


def test_each_language_gets_its_own_pieces(topic):
    reader = signed_in()
    english = reader.get(topic.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    spanish = reader.get(topic.get_absolute_url(), headers={"Accept-Language": "es"}).content.decode()
    assert "Post 2," in english
    assert "Post 2," not in spanish and "Mensaje 2," in spanish


def test_the_page_renders_when_the_cache_is_away(topic, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache away")

    monkeypatch.setattr(fragments.cache, "get_many", broken)
    monkeypatch.setattr(fragments.cache, "set_many", broken)
    page = signed_in().get(topic.get_absolute_url())
    assert page.status_code == 200 and "We walked every district." in page.content.decode()
