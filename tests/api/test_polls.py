"""Polls through the API, in the shapes of Discourse's poll plugin (api/poll_views.py)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import services
from forum.models import Poll, PollVote
from tests.factories import ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

POLLS = """Tell us.

[poll name=barrier public=true]
# Which barrier matters most?
* Cost of access
* Skills
* Devices
[/poll]

[poll name=tried type=multiple min=1 max=2 results=on_close]
* Free wifi
* Training
* Device loans
[/poll]
"""


@pytest.fixture
def poll():
    topic = TopicFactory(raw=POLLS, author=ModeratorFactory())
    return Poll.objects.get(post__topic=topic, name="barrier")


def digests(poll, *texts):
    return [poll.options.get(text=text).digest for text in texts]


def form(data: dict) -> dict:
    from urllib.parse import urlencode

    return {"data": urlencode(data, doseq=True), "content_type": "application/x-www-form-urlencoded"}


def test_post_json_carries_polls_as_discourse_renders_them(api_as, poll):
    client = api_as("verified")
    services.vote(client.user, poll, digests(poll, "Skills"))
    data = client.get(f"/t/{poll.post.topic_id}.json").json()
    first = data["post_stream"]["posts"][0]
    barrier, tried = first["polls"]
    assert barrier["name"] == "barrier" and barrier["type"] == "regular" and barrier["status"] == "open"
    assert barrier["public"] is True and barrier["results"] == "always" and barrier["voters"] == 1
    assert barrier["title"] == "Which barrier matters most?"
    assert [option["html"] for option in barrier["options"]] == ["Cost of access", "Skills", "Devices"]
    assert [option["votes"] for option in barrier["options"]] == [0, 1, 0]
    assert barrier["preloaded_voters"][digests(poll, "Skills")[0]][0]["username"] == client.user.username
    assert (tried["min"], tried["max"]) == (1, 2)
    assert all("votes" not in option for option in tried["options"])  # results=on_close, still open
    assert first["polls_votes"] == {"barrier": digests(poll, "Skills")}


def test_vote_change_and_withdraw(api_as, poll):
    client = api_as("verified")
    body = {"post_id": poll.post_id, "poll_name": "barrier", "options[]": digests(poll, "Devices")}
    response = client.put("/polls/vote", **form(body))
    assert response.status_code == 200, response.content
    assert response.json()["vote"] == digests(poll, "Devices")
    assert response.json()["poll"]["voters"] == 1
    body = {"post_id": poll.post_id, "poll_name": "barrier", "options": digests(poll, "Skills")}
    response = client.put("/polls/vote", json.dumps(body), content_type="application/json")
    assert response.json()["vote"] == digests(poll, "Skills")
    response = client.delete("/polls/vote", **form({"post_id": poll.post_id, "poll_name": "barrier"}))
    assert response.status_code == 200 and response.json()["poll"]["voters"] == 0
    assert not PollVote.objects.exists()


def test_refusals_in_discourse_error_shapes(api_as, poll):
    client = api_as("verified")
    wrong = client.put("/polls/vote", **form({"post_id": poll.post_id, "poll_name": "barrier"}))
    assert wrong.status_code == 422 and wrong.json()["errors"] == ["Choose an option before voting."]
    missing = client.put("/polls/vote", **form({"post_id": poll.post_id, "poll_name": "nope"}))
    assert missing.status_code == 404
    member = api_as("member")
    body = {"post_id": poll.post_id, "poll_name": "barrier", "options[]": digests(poll, "Skills")}
    assert member.put("/polls/vote", **form(body)).status_code == 403
    closed = client.put(
        "/polls/toggle_status", **form({"post_id": poll.post_id, "poll_name": "barrier", "status": "closed"})
    )
    assert closed.status_code == 403
    moderator = api_as("moderator")
    closed = moderator.put(
        "/polls/toggle_status", **form({"post_id": poll.post_id, "poll_name": "barrier", "status": "closed"})
    )
    assert closed.status_code == 200 and closed.json()["poll"]["status"] == "closed"
    late = client.put("/polls/vote", **form(body))
    assert late.status_code == 403 and late.json()["errors"] == ["This poll is closed."]


def test_voters_of_public_polls_only(api_as, poll):
    voter = OfficialFactory()
    services.vote(voter, poll, digests(poll, "Cost of access"))
    client = api_as("verified")
    data = client.get(f"/polls/voters.json?post_id={poll.post_id}&poll_name=barrier").json()
    assert [user["username"] for user in data["voters"][digests(poll, "Cost of access")[0]]] == [
        voter.username
    ]
    assert data["voters"][digests(poll, "Skills")[0]] == []
    assert data["voters"][digests(poll, "Cost of access")[0]][0]["official"]["organisation"]["name"]
    private = client.get(f"/polls/voters.json?post_id={poll.post_id}&poll_name=tried")
    assert private.status_code == 403


def test_a_topic_with_polls_costs_three_queries_more(api_as):
    """Polls with their options, the reader's votes, the first voters of public polls."""
    client = api_as("verified")
    plain = TopicFactory()
    with_polls = TopicFactory(raw=POLLS)
    poll = Poll.objects.get(post__topic=with_polls, name="barrier")
    services.vote(client.user, poll, digests(poll, "Skills"))
    counts = {}
    for name, topic in (("plain", plain), ("polls", with_polls)):
        client.get(f"/t/{topic.pk}.json")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/t/{topic.pk}.json").status_code == 200
        counts[name] = len(queries)
    assert counts["polls"] == counts["plain"] + 3
