"""The search page's kept answers (forum/search_views._results_html, forum.search.cache_name).

A repeated search runs no search query; what a person must never notice is an answer kept from
before a change (a new or hidden post, a renamed topic, a group they left) or one that belongs to
somebody who may read more than they may.
"""

import re

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag

from forum import services
from forum.models import ReadAccess
from groups import services as group_services
from tests.factories import (
    CategoryFactory,
    ModeratorFactory,
    OfficialFactory,
    StaffFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/search?q=streetlights"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visit(client, url=URL) -> tuple[str, list[dict]]:
    """The page's text (highlights taken out) and the queries it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().replace("<mark>", "").replace("</mark>", ""), queries.captured_queries


def page(client, url=URL) -> str:
    return visit(client, url)[0]


def searched(client) -> bool:
    """Whether searching again ran a query on the posts (it was not kept)."""
    return any("forum_post" in query["sql"] for query in visit(client)[1])


@pytest.fixture
def public():
    return services.create_topic(
        OfficialFactory(),
        CategoryFactory(),
        "Streetlights that dim at night",
        "Sensors dim the streetlights.",
    )


def test_a_repeated_search_runs_no_search_query_and_shows_the_same_page(public):
    client = signed_in(OfficialFactory())
    first, first_queries = visit(client)
    again, again_queries = visit(client)
    assert public.title in first
    assert again == first.replace(_token(first), _token(again))
    assert len(again_queries) < len(first_queries)
    assert not searched(client)


def test_a_new_post_a_hidden_post_and_a_new_title_show_on_the_next_search(public):
    client = signed_in(OfficialFactory())
    page(client)
    newer = services.create_topic(
        OfficialFactory(), CategoryFactory(), "Streetlights in parks", "LED streetlights."
    )
    text = page(client)
    assert newer.title in text
    services.hide_post(ModeratorFactory(), newer.posts.get(number=1), "spam")
    text = page(client)
    assert newer.title not in text
    services.edit_post(
        public.author,
        public.posts.get(number=1),
        "Sensors dim the streetlights.",
        title="Lamps that dim at dawn",
    )
    text = page(client)
    assert "Streetlights that dim at night" not in text and "Lamps that dim at dawn" in text


def test_each_signed_in_person_has_their_own_copy_even_when_the_query_is_the_same(public):
    first, second = signed_in(StaffFactory()), signed_in(StaffFactory())  # both read everything
    page(first)
    page(first)
    assert searched(second)
    assert not searched(second)


def test_an_answer_is_never_shown_to_someone_who_may_read_less(public):
    secret = TopicFactory(
        category=CategoryFactory(read_access=ReadAccess.VERIFIED), title="Streetlights tender"
    )
    services.edit_post(secret.author, secret.posts.get(number=1), "Streetlights tender terms.")
    verified = signed_in(OfficialFactory())
    for _ in range(2):
        text = page(verified)
        assert "Streetlights tender" in text
    for client in (Client(), signed_in(UserFactory())):
        for _ in range(2):
            text = page(client)
            assert public.title in text and "Streetlights tender" not in text


def test_leaving_a_group_takes_its_topics_out_of_the_next_search(public):
    staff, member = StaffFactory(), OfficialFactory()
    group = group_services.create_group(staff, "lighting-wg", "Lighting working group")
    group_services.add_members(staff, group, [member])
    category = CategoryFactory(slug="lighting-wg")
    services.restrict_category(staff, category, {group: "post"})
    services.create_topic(
        member, category, "Streetlights pilot figures", "Streetlights pilot in three cities."
    )
    client = signed_in(member)
    for _ in range(2):
        assert "Streetlights pilot figures" in page(client)
    group_services.remove_member(member, group, member)
    assert "Streetlights pilot figures" not in page(client)


def test_each_language_has_its_own_answer(public):
    english = page(Client(headers={"accept-language": "en"}))
    french = page(Client(headers={"accept-language": "fr"}))
    assert "Résultats" in french
    assert "Results" in english and "Résultats" not in english


def test_a_like_or_a_vote_keeps_the_answer_and_a_rebuilt_index_drops_it(public):
    client = signed_in(OfficialFactory())
    page(client)
    services.toggle_like(OfficialFactory(), public.posts.get(number=1))  # no search shows likes
    assert not searched(client)
    call_command("search_reindex", verbosity=0)
    assert searched(client)


def test_a_tag_renamed_in_the_admin_shows_on_the_next_search():
    services.create_topic(
        ModeratorFactory(),
        CategoryFactory(),
        "Streetlights on every bridge",
        "Streetlights.",
        tags=["lighting"],
    )
    client = signed_in(OfficialFactory())
    url = "/search?q=streetlights+tag:lighting"
    for _ in range(2):
        assert "on every bridge" in page(client, url)
    tag = Tag.objects.get(name="lighting")
    tag.name = "lamps"
    tag_admin = admin.site._registry[Tag]
    tag_admin.save_model(RequestFactory().post("/admin/"), tag, None, True)
    assert "on every bridge" not in page(client, url)
    assert "on every bridge" in page(client, "/search?q=streetlights+tag:lamps")


def test_a_search_of_bookmarks_is_never_kept(public):
    reader = OfficialFactory()
    client = signed_in(reader)
    url = "/search?q=streetlights&in_bookmarks=1"
    assert public.title not in page(client, url)
    services.toggle_bookmark(reader, public.posts.get(number=1))
    assert public.title in page(client, url)


def _token(text: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
    return match.group(1) if match else ""
