"""The digest of a category over a period: each question with contributions in it, then those."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import services
from forum.models import Post, ReadAccess, Topic
from tests.conftest import make_user
from tests.factories import CategoryFactory, OfficialFactory, OrganisationFactory, TopicFactory

pytestmark = pytest.mark.django_db

MARCH = "from=2026-03-01&to=2026-03-31"


def at(day: int, hour: int = 12, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def reply(author, topic, text, when):
    post = services.create_reply(author, topic, text)
    Post.objects.filter(pk=post.pk).update(created_at=when)
    return post


def question(category, title, when, **fields):
    topic = TopicFactory(category=category, title=title, **fields)
    Topic.objects.filter(pk=topic.pk).update(created_at=when)
    return topic


@pytest.fixture
def people():
    harare = OrganisationFactory(name="City of Harare", short_name="Harare", slug="harare")
    return {
        "samson": OfficialFactory(
            display_name="Samson Madzokere", position="Head of ICT Division", organisation=harare
        ),
        "nuria": OfficialFactory(display_name="Núria Freixas", position="Innovation Coordinator"),
        "other": OfficialFactory(display_name="Someone Else"),
    }


@pytest.fixture
def category(people):
    category = CategoryFactory(slug="digital", name="Digital cities")
    child = CategoryFactory(slug="ict", name="ICT", parent=category)
    older = question(category, "How can local governments better leverage digitisation?", at(1, month=2))
    newer = question(child, "Which are the challenges of ICTs in metropolitan spaces?", at(2, month=2))
    reply(people["samson"], older, "Digitalisation makes procedures efficient.", at(1, 0))
    reply(people["other"], older, "Before the period.", at(28, 23, month=2))
    reply(people["nuria"], newer, "Digital transformation is **not** about devices.", at(31, 23))
    reply(people["other"], newer, "After the period.", at(1, 0, month=4))
    quiet = question(category, "A question nobody answered in March", at(3, month=2))
    reply(people["other"], quiet, "Only in February.", at(10, month=2))
    return category


def url(category, query="", md=False):
    return f"/c/{category.slug}/{category.pk}/digest{'.md' if md else ''}?{query}"


def test_each_question_then_its_contributions_in_the_period(client, category):
    response = client.get(url(category, MARCH + "&replies=all"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Digital cities" in page
    older = page.index("How can local governments better leverage digitisation?")
    samson = page.index("Samson Madzokere")
    newer = page.index("Which are the challenges of ICTs in metropolitan spaces?")  # in the sub-category
    nuria = page.index("Núria Freixas")
    assert older < samson < newer < nuria
    assert "Head of ICT Division" in page and "Harare" in page and "Innovation Coordinator" in page
    assert "<strong>not</strong>" in page
    # Both edges are included; days just outside are not; questions without contributions are left out.
    assert "Before the period." not in page and "After the period." not in page
    assert "A question nobody answered in March" not in page
    assert "From 2026-03-01 to 2026-03-31 inclusive (UTC)." in page
    assert "dates are in UTC" in page


def test_highlighted_contributions_by_default_when_a_question_has_any(client, category, people):
    older = Topic.objects.get(title__startswith="How can local")
    moderator = make_user("moderator")
    extra = reply(people["other"], older, "A highlighted view.", at(15))
    services.highlight_post(moderator, extra)
    page = client.get(url(category, MARCH)).content.decode()
    assert "A highlighted view." in page and "Digitalisation makes procedures efficient." not in page
    assert (
        "Digital transformation is <strong>not</strong> about devices." in page
    )  # no highlights: all replies
    page = client.get(url(category, MARCH + "&replies=highlighted")).content.decode()
    assert "A highlighted view." in page and "Which are the challenges" not in page
    page = client.get(url(category, MARCH + "&replies=all")).content.decode()
    assert page.index("Digitalisation makes") < page.index("A highlighted view.")


def test_the_period_is_read_in_the_readers_time_zone(client, category):
    reader = OfficialFactory(time_zone="America/Toronto")
    client.force_login(reader)
    # 2026-03-01 00:00 UTC is still 28 February in Toronto; 31 March 23:00 UTC is 31 March there.
    page = client.get(url(category, MARCH + "&replies=all")).content.decode()
    assert "Digitalisation makes procedures efficient." not in page
    assert "Núria Freixas" in page
    assert "America/Toronto" in page


def test_markdown(client, category):
    response = client.get(url(category, MARCH + "&replies=all", md=True))
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# Digital cities")
    assert "From 2026-03-01 to 2026-03-31 inclusive (UTC)." in text
    assert "## How can local governments better leverage digitisation?" in text
    assert "**Samson Madzokere** — Head of ICT Division, Harare" in text
    assert "> Digital transformation is **not** about devices." in text
    assert text.index("Samson") < text.index("Núria")
    empty = client.get(url(category, "from=2020-01-01&to=2020-01-31", md=True)).content.decode()
    assert "No contributions in this period." in empty


def test_headings_in_the_readers_language(client, category):
    topic = Topic.objects.get(title__startswith="How can local")
    topic.title_translations = {
        "es": "¿Cómo pueden los gobiernos locales aprovechar mejor la digitalización?"
    }
    topic.save(update_fields=["title_translations"])
    client.cookies["django_language"] = "es"
    page = client.get(url(category, MARCH), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "¿Cómo pueden los gobiernos locales aprovechar mejor la digitalización?" in page
    assert '<html lang="es">' in page


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=someday&to=2026-03-31", "is not a date"),
        ("from=2026-02-30&to=2026-03-31", "is not a date"),
        ("from=2026-04-01&to=2026-03-01", "comes after the last day"),
        ("from=2025-01-01&to=2026-03-31", "at most 366 days"),
    ],
)
def test_bad_dates_are_explained_and_kept(client, category, query, message):
    response = client.get(url(category, query + "&replies=all"))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and 'role="alert"' in page
    typed_from = query.split("&")[0].removeprefix("from=")
    assert f'value="{typed_from}"' in page
    assert '<option value="all" selected>' in page
    assert "Samson Madzokere" not in page
    markdown = client.get(url(category, query, md=True))
    assert markdown.status_code == 400 and message in markdown.content.decode()


def test_a_full_year_and_the_default_period(client, category):
    assert client.get(url(category, "from=2025-04-01&to=2026-03-31")).status_code == 200  # 366 days
    page = client.get(url(category)).content.decode()
    assert "inclusive (UTC)" in page and "No contributions in this period." in page


def test_readers_only(client_as, category):
    closed = CategoryFactory(slug="closed", name="Closed", read_access=ReadAccess.VERIFIED)
    assert client_as("member").get(url(closed)).status_code == 404
    assert client_as("verified").get(url(closed)).status_code == 200


def test_a_hidden_sub_category_stays_out(client_as, category, people):
    secret = CategoryFactory(slug="secret", name="Secret", parent=category, read_access=ReadAccess.VERIFIED)
    topic = question(secret, "A question only officials read", at(1, month=2))
    reply(people["nuria"], topic, "Officials only.", at(5))
    assert "Officials only." not in client_as("member").get(url(category, MARCH)).content.decode()
    assert "Officials only." in client_as("verified").get(url(category, MARCH)).content.decode()


def test_old_slug_redirects_and_the_category_page_links_here(client, category):
    response = client.get(f"/c/old-name/{category.pk}/digest?{MARCH}")
    assert response.status_code == 302 and response["Location"] == url(category, MARCH)
    page = client.get(f"/c/{category.slug}/{category.pk}").content.decode()
    assert f"/c/{category.slug}/{category.pk}/digest" in page


@pytest.mark.parametrize("replies", ["", "all", "highlighted"])
def test_query_budget_does_not_grow_with_topics(client, people, replies):
    moderator = make_user("moderator")

    def build(slug: str, n: int):
        category = CategoryFactory(slug=slug)
        for i in range(n):
            topic = question(category, f"Question {slug} {i} about open data", at(1, month=2))
            first = reply(people["samson"], topic, f"Answer {i}", at(5))
            reply(people["nuria"], topic, f"Another answer {i}", at(6))
            if i % 2:
                services.highlight_post(moderator, first)
        return category

    counts = []
    for category in (build("small", 2), build("large", 20)):
        address = url(category, f"{MARCH}&replies={replies}")
        client.get(address)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(address).content.decode()
        assert "Samson Madzokere" in page
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6, counts


def test_at_most_so_many_questions_and_the_reader_is_told(client, category, people, monkeypatch):
    from forum import moderation_views

    monkeypatch.setattr(moderation_views, "CATEGORY_DIGEST_TOPICS", 1)
    page = client.get(url(category, MARCH + "&replies=all")).content.decode()
    assert "How can local governments" in page and "Which are the challenges" not in page
    assert "Only the first 1 question is shown" in page


def test_a_question_opened_in_the_period_without_replies_is_left_out(client, category):
    opened = TopicFactory(category=category, title="Opened in March, no answer yet")
    Topic.objects.filter(pk=opened.pk).update(created_at=at(10))
    Post.objects.filter(topic=opened).update(created_at=at(10))
    page = client.get(url(category, MARCH + "&replies=all")).content.decode()
    assert "Opened in March, no answer yet" not in page
