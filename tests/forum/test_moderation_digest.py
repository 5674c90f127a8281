"""The digest: each question, then its contributions with name, position and organisation."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import services
from tests.conftest import make_user
from tests.factories import OfficialFactory, OrganisationFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def question():
    topic = TopicFactory(
        title="How can local governments better leverage digitisation?",
        raw="Tell us about equity, prosperity and sustainability.",
    )
    topic.title_translations = {
        "es": "¿Cómo pueden los gobiernos locales aprovechar mejor la digitalización?"
    }
    topic.save(update_fields=["title_translations"])
    harare = OrganisationFactory(name="City of Harare", short_name="Harare", slug="harare")
    barcelona = OrganisationFactory(name="Metropolitan Area of Barcelona", slug="amb")
    samson = OfficialFactory(
        display_name="Samson Madzokere", position="Head of ICT Division", organisation=harare
    )
    nuria = OfficialFactory(
        display_name="Núria Freixas", position="Innovation Coordinator", organisation=barcelona
    )
    other = OfficialFactory(display_name="Someone Else")
    first = services.create_reply(
        samson, topic, "Digitalisation is an opportunity to make procedures efficient."
    )
    services.create_reply(other, topic, "I agree.")
    second = services.create_reply(nuria, topic, "Digital transformation is **not** about the latest device.")
    moderator = make_user("moderator")
    # Highlighted in reverse order: the digest still follows the conversation.
    services.highlight_post(moderator, second)
    services.highlight_post(moderator, first)
    return topic


def test_digest_quotes_highlighted_contributions_in_order(client, question):
    page = client.get(f"/t/{question.slug}/{question.pk}/digest").content.decode()
    assert "How can local governments better leverage digitisation?" in page
    samson = page.index("Samson Madzokere")
    nuria = page.index("Núria Freixas")
    assert samson < nuria
    assert "Head of ICT Division" in page and "Harare" in page
    assert "Innovation Coordinator" in page and "Metropolitan Area of Barcelona" in page
    assert "<strong>not</strong>" in page
    assert "Someone Else" not in page and "I agree." not in page
    assert "@media print" in Path("static/css/site.css").read_text()


def test_digest_can_show_all_replies(client, question):
    page = client.get(f"/t/{question.slug}/{question.pk}/digest?replies=all").content.decode()
    assert page.index("Samson Madzokere") < page.index("Someone Else") < page.index("Núria Freixas")


def test_digest_as_markdown(client, question):
    response = client.get(f"/t/{question.slug}/{question.pk}/digest.md")
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# How can local governments better leverage digitisation?")
    assert "**Samson Madzokere** — Head of ICT Division, Harare" in text
    assert "> Digitalisation is an opportunity to make procedures efficient." in text
    assert text.index("Samson") < text.index("Núria")


def test_digest_headings_in_the_readers_language(client, question):
    client.cookies["django_language"] = "es"
    page = client.get(f"/t/{question.slug}/{question.pk}/digest", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "¿Cómo pueden los gobiernos locales aprovechar mejor la digitalización?" in page
    assert '<html lang="es">' in page


def test_digest_costs_the_same_for_more_contributions(client, question):
    url = f"/t/{question.slug}/{question.pk}/digest?replies=all"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for n in range(10):
        services.create_reply(OfficialFactory(), question, f"Another view {n}")
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(small) == len(large) <= 4
