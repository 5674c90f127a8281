"""Tags carry a display name per language; the slug (in URLs and the API) never changes."""

import pytest
from django.utils import translation
from taggit.models import Tag

from forum import services
from forum.models import ModerationLogEntry, TagLabel, tag_label
from forum.seed import seed_forum
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def test_a_tag_reads_in_the_readers_language_with_english_and_slug_as_fallbacks():
    tag = Tag.objects.create(name="digital-divide", slug="digital-divide")
    assert tag_label(Tag.objects.select_related("forum_label").get(pk=tag.pk)) == "digital-divide"
    services.set_tag_names(tag, {"en": "Digital divide", "es": "Brecha digital", "fr": ""})
    tag = Tag.objects.select_related("forum_label").get(pk=tag.pk)
    for language, expected in (("en", "Digital divide"), ("es", "Brecha digital"), ("fr", "Digital divide")):
        with translation.override(language):
            assert tag_label(tag) == expected
    assert tag.name == "digital-divide"


def test_lists_and_topic_pages_show_the_label_and_keep_the_slug_in_links(client):
    Tag.objects.create(name="digital-divide", slug="digital-divide")
    topic = TopicFactory(tags=["digital-divide"])
    services.set_tag_names(
        Tag.objects.get(name="digital-divide"), {"en": "Digital divide", "es": "Brecha digital"}
    )
    client.cookies["django_language"] = "es"
    for url in ("/latest", topic.get_absolute_url(), "/tag/digital-divide"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
        assert '<a class="tag" href="/tag/digital-divide">#Brecha digital</a>' in page, url
    page = client.get("/tag/digital-divide", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<h1>" in page and "Brecha digital</h1>" in page
    # The API keeps Discourse's tag names (slugs).
    data = client.get("/latest.json").json()
    assert data["topic_list"]["topics"][0]["tags"] == ["digital-divide"]


def test_moderators_name_a_tag_and_it_is_logged(client_as):
    Tag.objects.create(name="equity", slug="equity")
    TopicFactory(tags=["equity"])
    client = client_as("moderator")
    page = client.get("/tag/equity/names")
    assert page.status_code == 200 and 'name="name_fr"' in page.content.decode()
    response = client.post(
        "/tag/equity/names", {"name_en": "Equity", "name_es": "Equidad", "name_fr": "Équité"}
    )
    assert response.status_code == 302
    label = TagLabel.objects.get(tag__name="equity")
    assert (label.name_en, label.name_es, label.name_fr) == ("Equity", "Equidad", "Équité")
    entry = ModerationLogEntry.objects.get(action="tag_names")
    assert entry.target_label == "#equity" and entry.actor == client.user
    assert client.get("/tag/equity").content.decode().count('href="/tag/equity/names"') == 1
    assert client.get("/tag/nope/names").status_code == 404


def test_the_seed_names_its_tags_in_three_languages_once():
    seed_forum()
    label = TagLabel.objects.get(tag__name="digital-divide")
    assert (label.name_es, label.name_fr) == ("Brecha digital", "Fracture numérique")
    services.set_tag_names(label.tag, {"en": "The divide"})
    seed_forum()
    assert TagLabel.objects.get(tag__name="digital-divide").name_en == "The divide"


def test_the_tag_names_page_has_a_fixed_query_budget(client_as, django_assert_num_queries):
    Tag.objects.create(name="digital-divide", slug="digital-divide")
    client = client_as("moderator")
    url = "/tag/digital-divide/names"
    assert client.get(url).status_code == 200  # warm caches as a running server has them
    with django_assert_num_queries(
        4
    ):  # the moderator, their second factor (staff pages), the tag, its labels
        assert client.get(url).status_code == 200
