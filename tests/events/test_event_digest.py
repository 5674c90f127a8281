"""The event digest: every linked question in order, then its contributions."""

import pytest

from forum import services
from tests.conftest import make_user
from tests.factories import EventFactory, OfficialFactory, OrganisationFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    event = EventFactory(title="World Telecommunication and Information Society Day")
    first = TopicFactory(title="How can local governments better leverage digitisation?")
    second = TopicFactory(title="Which are the challenges of ICTs in metropolitan spaces?")
    event.linked_topics.set([first, second])
    harare = OrganisationFactory(name="Harare", slug="harare")
    samson = OfficialFactory(
        display_name="Samson Madzokere", position="Head of ICT Division", organisation=harare
    )
    claudio = OfficialFactory(display_name="Claudio Beato", position="Municipal Secretary")
    services.highlight_post(make_user("moderator"), services.create_reply(samson, first, "Training matters."))
    services.create_reply(claudio, second, "Unequal access is the hardest challenge.")
    return event


def test_event_digest_lists_each_question_then_its_contributions(client, event):
    page = client.get(f"/events/{event.slug}/digest").content.decode()
    assert "World Telecommunication and Information Society Day" in page
    first = page.index("How can local governments better leverage digitisation?")
    samson = page.index("Samson Madzokere")
    second = page.index("Which are the challenges of ICTs in metropolitan spaces?")
    claudio = page.index("Claudio Beato")
    assert first < samson < second < claudio
    assert "Head of ICT Division" in page and "Harare" in page


def test_event_digest_as_markdown_and_linked_from_the_event(client, event):
    text = client.get(f"/events/{event.slug}/digest.md").content.decode()
    assert text.startswith("# World Telecommunication and Information Society Day")
    assert "**Samson Madzokere** — Head of ICT Division, Harare" in text
    assert "> Unequal access is the hardest challenge." in text
    assert f"/events/{event.slug}/digest" in client.get(f"/events/{event.slug}/").content.decode()


@pytest.mark.parametrize(
    "role", ["anonymous", "member", "verified", "moderator", "staff", "silenced", "suspended"]
)
def test_permission_matrix(client_as, event, role):
    assert client_as(role).get(f"/events/{event.slug}/digest").status_code == 200
    assert client_as(role).get("/events/no-such-event/digest").status_code == 404
