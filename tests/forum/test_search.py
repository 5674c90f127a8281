"""Search: stemming in three languages, accents, filters, permissions, snippets, bad input, the index.

Runs on both backends (SQLite FTS5 by default, PostgreSQL with DATABASE_URL); the few checks that
only PostgreSQL's stemmers or planner can pass are marked.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from forum import search, services
from forum.models import Post, ReadAccess
from tests.conftest import make_user
from tests.factories import (
    CategoryFactory,
    ModeratorFactory,
    OfficialFactory,
    OrganisationFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="PostgreSQL stemmers and planner"
)


def topic_ids(results) -> list[int]:
    return [hit.topic.pk for hit in results.hits]


def test_accents_are_folded_both_ways():
    spanish = services.create_topic(
        OfficialFactory(),
        CategoryFactory(),
        "La digitalización de los servicios municipales",
        "¿Cómo avanza la digitalización en su ciudad?",
        language="es",
    )
    assert topic_ids(search.search(make_user("verified"), "digitalizacion")) == [spanish.pk]
    assert topic_ids(search.search(make_user("verified"), "DIGITALIZACIÓN")) == [spanish.pk]


def test_a_spanish_plural_finds_the_singular():
    topic = services.create_topic(
        OfficialFactory(),
        CategoryFactory(),
        "Conectividad en los barrios",
        "La brecha digital en los barrios.",
        language="es",
    )
    assert topic_ids(search.search(make_user("member"), "brechas")) == [topic.pk]


def test_an_english_plural_finds_the_singular():
    topic = services.create_topic(
        OfficialFactory(),
        CategoryFactory(),
        "Connectivity at the library",
        "Our library lends one laptop per family.",
    )
    assert topic_ids(search.search(make_user("member"), "laptops")) == [topic.pk]


@postgres_only
def test_french_and_spanish_stems_on_postgresql():
    french = services.create_topic(
        OfficialFactory(),
        CategoryFactory(),
        "Inclusion numérique des habitants",
        "Nous formons les habitants aux outils numériques.",
        language="fr",
    )
    spanish = services.create_topic(
        OfficialFactory(),
        CategoryFactory(),
        "Fibra óptica para todos",
        "Las ciudades desplegaron fibra óptica en los barrios.",
        language="es",
    )
    assert topic_ids(search.search(make_user("member"), "numerique")) == [french.pk]
    assert topic_ids(search.search(make_user("member"), "ciudad")) == [spanish.pk]  # ciudades


def test_title_words_and_post_words_are_found_and_grouped_by_topic():
    topic = TopicFactory(title="Municipal broadband for schools")
    services.create_reply(OfficialFactory(), topic, "Broadband reached every school in Toronto.")
    services.create_reply(OfficialFactory(), topic, "In Harare broadband came through libraries.")
    results = search.search(make_user("member"), "broadband")
    assert topic_ids(results) == [topic.pk]  # one hit per topic: its best post
    assert results.hits[0].matches_in_topic == 3


def test_or_phrases_and_exclusions():
    fibre = TopicFactory(title="Fibre rollout in the city", raw="Optical fibre to every district.")
    wifi = TopicFactory(title="Public wifi in the parks", raw="Free wifi in every park.")
    both = TopicFactory(title="Wifi over fibre backhaul", raw="Fibre backhaul for the park wifi.")
    reader = make_user("member")
    assert set(topic_ids(search.search(reader, "fibre OR wifi"))) == {fibre.pk, wifi.pk, both.pk}
    assert set(topic_ids(search.search(reader, "fibre -wifi"))) == {fibre.pk}
    assert set(topic_ids(search.search(reader, '"every park"'))) == {wifi.pk}


def test_snippets_are_sanitised_and_highlighted():
    topic = TopicFactory(
        title="Markup in posts and replies",
        raw="Our <script>alert(1)</script> **portal** uses \ue000 markers \ue001 and <b>tags</b>.",
    )
    services.create_reply(OfficialFactory(), topic, "The portal: <img src=x onerror=alert(1)> works.")
    results = search.search(make_user("member"), "portal")
    blurbs = " ".join(str(hit.blurb_html) for hit in results.hits)
    assert "<mark>" in blurbs
    assert "<script" not in blurbs and "<img" not in blurbs and "<b>" not in blurbs
    assert "\ue000" not in blurbs and "\ue001" not in blurbs
    assert blurbs.count("<mark>") == blurbs.count("</mark>")


def test_filters():
    toronto = OrganisationFactory(name="City of Toronto", slug="toronto")
    author = ModeratorFactory(username="toronto_cio", organisation=toronto)  # may create a tag
    category = CategoryFactory(slug="smart-mobility")
    first = services.create_topic(
        author, category, "Bus data for everyone now", "Open bus data.", tags=["open-data"]
    )
    second = TopicFactory(title="Bus lanes in the centre", raw="Bus lanes downtown.")
    old = TopicFactory(title="Bus tickets on the phone", raw="Bus tickets by phone.")
    Post.objects.filter(topic=old).update(created_at=timezone.now() - timedelta(days=400))
    moderator = ModeratorFactory()
    services.close_topic(second, by=moderator)
    reader = make_user("verified")

    def found(query):
        results = search.search(reader, query)
        assert not results.error, results.error
        return set(topic_ids(results))

    assert found("bus #smart-mobility") == {first.pk}
    assert found("bus category:smart-mobility") == {first.pk}
    assert found("bus tag:open-data") == {first.pk}
    assert found("bus @toronto_cio") == {first.pk}
    assert found("bus org:toronto") == {first.pk}
    assert found("bus status:closed") == {second.pk}
    assert found("bus status:open") == {first.pk, old.pk}
    since = (timezone.now() - timedelta(days=30)).date().isoformat()
    assert found(f"bus after:{since}") == {first.pk, second.pk}
    assert found(f"bus before:{since}") == {old.pk}
    assert found(f"bus topic:{second.pk}") == {second.pk}
    assert found("data in:title") == {first.pk}
    assert found("downtown in:title") == set()
    services.toggle_bookmark(reader, second.posts.get(number=1))
    assert found("bus in:bookmarks") == {second.pk}
    # The form's fields add to what was typed.
    form = search.apply_form_filters(search.parse_query("bus"), {"status": "closed"})
    assert set(topic_ids(search.search(reader, form))) == {second.pk}


def test_unknown_filter_values_say_so():
    reader = make_user("member")
    assert "Nobody goes by @ghost" in search.search(reader, "bus @ghost").error
    assert "no category" in search.search(reader, "bus #nowhere").error
    notes = search.search(reader, "bus after:yesterday status:sleeping").notes
    assert any("YYYY-MM-DD" in note for note in notes) and any("Status can be" in note for note in notes)
    assert "Sign in" in search.search(_anonymous(), "bus in:bookmarks").error


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_results_respect_permissions():
    secret = CategoryFactory(read_access=ReadAccess.VERIFIED)
    hidden_topic = TopicFactory(category=secret, title="Procurement of streetlights")
    public = TopicFactory(title="Streetlights that dim at night")
    hidden_reply = services.create_reply(OfficialFactory(), public, "Streetlights spam spam")
    withdrawn = services.create_reply(OfficialFactory(), public, "Streetlights, wrong topic")
    services.hide_post(ModeratorFactory(), hidden_reply, "spam")
    services.withdraw_post(withdrawn.author, withdrawn)

    anonymous = search.search(_anonymous(), "streetlights")
    assert topic_ids(anonymous) == [public.pk]
    assert anonymous.hits[0].matches_in_topic == 1  # the hidden and withdrawn replies do not count
    verified = search.search(make_user("verified"), "streetlights")
    assert set(topic_ids(verified)) == {public.pk, hidden_topic.pk}
    assert "no topic number" in search.search(_anonymous(), f"streetlights topic:{hidden_topic.pk}").error


def test_bad_input_never_errors(client):
    TopicFactory(title="Digital divide in our city", raw="Words for the search.")
    reader = make_user("member")
    assert search.search(reader, "").error == "Type what you are looking for."
    assert "two letters" in search.search(reader, "a").error
    assert "punctuation" in search.search(reader, "&|!:*()").error
    assert "cannot only leave words out" in search.search(reader, "-divide").error
    long = search.search(reader, "digital " * 100)
    assert any("200 characters" in note for note in long.notes)
    assert any("quotation mark" in note for note in search.search(reader, '"digital divide').notes)
    for soup in [
        "digital & | ! :* ( ) <->",
        "divide'; DROP TABLE forum_post; --",
        "数字 divide ذكي",
        "a:b:c",
    ]:
        search.search(reader, soup)  # no exception
        assert client.get("/search", {"q": soup}).status_code == 200
        assert client.get("/search.json", {"q": soup}).status_code == 200


def test_the_search_page_and_json(client):
    topic = services.create_topic(
        OfficialFactory(),
        CategoryFactory(),
        "Fibra óptica en la ciudad",
        "La fibra óptica llegó.",
        language="es",
    )
    page = client.get("/search", {"q": "fibra optica"})
    assert page.status_code == 200 and topic.get_absolute_url() in page.content.decode()
    body = client.get("/search.json", {"q": "fibra optica"}).json()
    assert [t["id"] for t in body["topics"]] == [topic.pk]
    assert '<span class="search-highlight">' in body["posts"][0]["blurb"]
    assert body["grouped_search_result"]["term"] == "fibra optica"


def test_search_within_a_topic_from_its_page(client):
    topic = TopicFactory(title="Open data portals of cities")
    services.create_reply(OfficialFactory(), topic, "CKAN works for us.")
    page = client.get(topic.get_absolute_url()).content.decode()
    assert f'name="topic" value="{topic.pk}"' in page
    results = client.get("/search", {"q": "ckan", "topic": topic.pk}).content.decode()
    assert "CKAN" in results


def test_anonymous_searches_are_rate_limited(client):
    for _ in range(15):
        assert client.get("/search", {"q": "divide"}).status_code == 200
    limited = client.get("/search.json", {"q": "divide"})
    assert limited.status_code == 429
    assert limited.json()["extras"]["wait_seconds"] >= 1
    client.force_login(make_user("member"))
    assert client.get("/search", {"q": "divide"}).status_code == 200


def test_edits_and_renames_update_the_index():
    topic = TopicFactory(title="An old name for the topic", raw="Nothing special here.")
    first = topic.posts.get(number=1)
    services.edit_post(topic.author, first, "Now about hydrogen buses.", title="Clean transport")
    reader = make_user("member")
    assert topic_ids(search.search(reader, "hydrogen")) == [topic.pk]
    assert topic_ids(search.search(reader, "transport in:title")) == [topic.pk]
    assert topic_ids(search.search(reader, "special")) == []  # the old text is gone from the index


def test_split_posts_are_found_under_their_new_title():
    topic = TopicFactory(title="General questions")
    services.create_reply(OfficialFactory(), topic, "How do you budget for sensors?")
    new = services.split_topic(ModeratorFactory(), topic, [2], "Sensor budgets for the city")
    assert topic_ids(search.search(make_user("member"), "sensor in:title")) == [new.pk]


@postgres_only
def test_the_gin_index_serves_word_searches():
    TopicFactory(title="Index check for search", raw="Words.")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            backend = search._PostgresBackend(search.parse_query("digitalizacion"))
            plan = Post.objects.filter(backend.match()).explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "post_search" in plan, plan
