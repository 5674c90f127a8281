"""Insights for the secretariat: figures, small-group suppression, CSV, query budget, the map."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import insights, services
from tests.conftest import make_user
from tests.factories import OfficialFactory, OrganisationFactory, TopicFactory

pytestmark = pytest.mark.django_db


def participate(count: int, gender: str = "", organisation=None, topic=None):
    topic = topic or TopicFactory()
    for _ in range(count):
        person = OfficialFactory(gender=gender, **({"organisation": organisation} if organisation else {}))
        services.create_reply(person, topic, "My city's view")
    return topic


def test_gender_groups_under_five_are_suppressed():
    topic = participate(5, "woman")
    participate(2, "man", topic=topic)
    participate(3, "", topic=topic)  # not stated: never counted
    table = insights.gender_balance(*insights.period_from(None, None))
    assert table.rows == [["Woman", 5]]
    assert "fewer than 5" in table.note


def test_page_shows_figures_by_organisation_and_country(client):
    harare = OrganisationFactory(
        name="City of Harare", slug="harare", country="Zimbabwe", latitude=-17.83, longitude=31.05
    )
    participate(3, organisation=harare)
    client.force_login(make_user("staff"))
    page = client.get("/insights/").content.decode()
    assert "City of Harare" in page and "Zimbabwe" in page
    assert "Posts per day" in page and '<title id="chart-organisation-title">By organisation</title>' in page
    assert "<circle" in page  # Harare on the map
    # The country outlines come from npm's world-atlas (package.json), drawn server-side.
    assert '<path d="M' in page and "Country outlines are not installed" not in page


def test_map_without_world_atlas_says_so(client, monkeypatch, caplog):
    monkeypatch.setattr(insights, "WORLD_ATLAS", "node_modules/world-atlas/absent.json")
    client.force_login(make_user("staff"))
    page = client.get("/insights/").content.decode()
    assert '<path d="M' not in page
    assert "Country outlines are not installed (npm package world-atlas)" in page
    assert "absent.json" in caplog.text


def test_world_atlas_is_a_dependency():
    from pathlib import Path

    from django.conf import settings

    manifest = json.loads((Path(settings.BASE_DIR) / "package.json").read_text())
    assert "world-atlas" in manifest["dependencies"]  # `npm ci --omit=dev` in the image ships it
    assert insights.world_outline().count("M") > 100  # the 110m file: every country, decoded


def test_hourly_during_a_short_period():
    start, end = insights.period_from("2026-05-17", "2026-05-17")
    assert insights.over_time(start, end).title == "Posts per hour"


def test_csv_export(client):
    participate(2)
    client.force_login(make_user("staff"))
    response = client.get("/insights.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "label", "value", "value 2"]
    assert ["totals", "posts", "3", ""] in rows  # the opening post and two replies
    assert any(row[0] == "organisation" for row in rows)


def test_query_budget_does_not_grow(client):
    client.force_login(make_user("staff"))
    participate(2)
    client.get("/insights/")
    with CaptureQueriesContext(connection) as small:
        client.get("/insights/")
    participate(12)
    with CaptureQueriesContext(connection) as large:
        client.get("/insights/")
    assert len(small) == len(large) <= 14


def test_topojson_outline_is_decoded(tmp_path):
    topology = {
        "type": "Topology",
        "transform": {"scale": [1, 1], "translate": [-180, -90]},
        "arcs": [[[0, 90], [180, 0], [0, 45], [-180, 0], [0, -45]]],
        "objects": {
            "countries": {"type": "GeometryCollection", "geometries": [{"type": "Polygon", "arcs": [[0]]}]}
        },
    }
    path = tmp_path / "atlas.json"
    path.write_text(json.dumps(topology))
    d = insights.world_outline(path)
    assert d.startswith("M0.0,180.0L360.0,180.0L360.0,90.0") and d.endswith("Z")
    assert insights.world_outline(tmp_path / "missing.json") == ""


@pytest.mark.parametrize(
    "role", ["anonymous", "member", "verified", "moderator", "staff", "silenced", "suspended"]
)
@pytest.mark.parametrize("url", ["/insights/", "/insights.csv"])
def test_permission_matrix(client_as, role, url):
    response = client_as(role).get(url)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == (200 if role in ("moderator", "staff") else 403)


def test_moderators_see_the_figures_of_the_categories_they_moderate(client, monkeypatch):
    from forum import permissions
    from tests.factories import CategoryFactory

    theirs, other = CategoryFactory(), CategoryFactory()
    participate(2, topic=TopicFactory(category=theirs))
    participate(3, topic=TopicFactory(category=other))
    moderator = make_user("moderator")
    monkeypatch.setattr(
        permissions, "visible_categories", lambda user: type(theirs).objects.filter(pk=theirs.pk)
    )
    assert insights.insights(categories=permissions.moderated_categories(moderator))["headline"]["posts"] == 3
    client.force_login(moderator)
    page = client.get("/insights/").content.decode()
    assert "The figures of the categories you moderate." in page
    client.force_login(make_user("staff"))
    assert (
        insights.insights(categories=permissions.moderated_categories(make_user("staff")))["headline"][
            "posts"
        ]
        == 7
    )
    assert "categories you moderate" not in client.get("/insights/").content.decode()


def test_a_moderator_has_the_same_query_budget(client):
    client.force_login(make_user("moderator"))
    participate(2)
    client.get("/insights/")
    with CaptureQueriesContext(connection) as small:
        client.get("/insights/")
    participate(12)
    with CaptureQueriesContext(connection) as large:
        client.get("/insights/")
    assert len(small) == len(large) <= 14
