"""Polls at an event: on the live page, in the control room, in the digest and in /insights/."""

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import EventStatus
from forum import services
from forum.models import ModerationAction, ModerationLogEntry, Poll, PollStatus
from tests.factories import EventFactory, ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

POLL = """Before we start:

[poll name=barrier]
# Which barrier matters most in your city?
* Cost of access
* Skills
* Devices
[/poll]
"""


@pytest.fixture
def event():
    event = EventFactory(status=EventStatus.LIVE, went_live_at=timezone.now())
    question = TopicFactory(title="Which barriers does your city meet first?")
    event.linked_topics.set([question])
    services.create_reply(ModeratorFactory(), question, POLL)
    return event


def poll_of(event) -> Poll:
    return Poll.objects.get(post__topic__in=event.linked_topics.all(), name="barrier")


def test_officials_vote_on_the_live_page(client, event):
    poll = poll_of(event)
    official = OfficialFactory()
    client.force_login(official)
    page = client.get(event.get_absolute_url()).content.decode()
    assert "Which barrier matters most in your city?" in page
    assert f'action="/posts/{poll.post_id}/polls/barrier/vote"' in page
    skills = poll.options.get(text="Skills").digest
    response = client.post(
        f"/posts/{poll.post_id}/polls/barrier/vote", {"options": skills}, HTTP_HX_REQUEST="true"
    )
    assert "1 vote, 100%" in response.content.decode()
    page = client.get(event.get_absolute_url()).content.decode()
    assert "Change my vote" in page and "js/polls.js" in page


def test_the_live_page_fetches_the_polls_when_a_post_with_one_arrives(
    client, event, settings, django_capture_on_commit_callbacks
):
    from core import live

    settings.REDIS_URL = ""
    question = event.linked_topics.get()
    channel = f"/topic/{question.pk}"
    cursor = live.last_id(channel)
    with django_capture_on_commit_callbacks(execute=True):
        post = services.create_reply(ModeratorFactory(), question, POLL.replace("name=barrier", "name=more"))
        services.after_posting(post.author, post)
    found, _gap = live.read_after(channel, cursor)
    assert [(e.event, e.data) for e in found] == [
        ("post_created", {"post_id": post.pk, "number": post.number, "polls": True})
    ]
    client.force_login(OfficialFactory())
    fragment = client.get(f"/events/{event.slug}/live-polls").content.decode()
    assert fragment.count('<section class="poll"') == 2 and 'id="live-polls"' in fragment


def test_the_control_room_lists_polls_and_closes_them(client_as, event):
    client = client_as("staff")
    url = reverse("events:control", args=[event.slug])
    page = client.get(url).content.decode()
    poll = poll_of(event)
    assert "Which barrier matters most in your city?" in page
    assert f"/polls/barrier/present?post={poll.post.number}" in page
    response = client.post(url, {"action": "poll_status", "poll": poll.pk, "status": "closed"}, follow=True)
    assert "The poll is closed." in response.content.decode()
    assert Poll.objects.get(pk=poll.pk).status == PollStatus.CLOSED
    assert ModerationLogEntry.objects.filter(action=ModerationAction.POLL_CLOSE, actor=client.user).exists()
    other = TopicFactory(raw=POLL)
    foreign = Poll.objects.get(post__topic=other)
    response = client.post(
        url, {"action": "poll_status", "poll": foreign.pk, "status": "closed"}, follow=True
    )
    assert "That poll is not in this event" in response.content.decode()
    assert Poll.objects.get(pk=foreign.pk).status == PollStatus.OPEN


def test_the_event_digest_shows_each_polls_final_result(client, event):
    poll = poll_of(event)
    for text in ("Skills", "Skills", "Devices"):
        services.vote(OfficialFactory(), poll, [poll.options.get(text=text).digest])
    services.set_poll_status(poll, PollStatus.CLOSED, by=ModeratorFactory())
    page = client.get(f"/events/{event.slug}/digest").content.decode()
    assert "Which barrier matters most in your city?" in page
    assert "3 voters, closed" in page
    assert "Skills: 2 votes, 67%" in " ".join(page.split()).replace("</li>", "").replace("<li>", "")
    text = client.get(f"/events/{event.slug}/digest.md").content.decode()
    assert "**Poll: Which barrier matters most in your city?** (3 voters, closed)" in text
    assert "- Skills: 2 (67%)" in text


def test_insights_count_participation_in_polls(client_as, event):
    poll = poll_of(event)
    for _ in range(2):
        services.vote(OfficialFactory(), poll, [poll.options.first().digest])
    page = client_as("staff").get("/insights/").content.decode()
    assert "Participation in polls" in page
    assert "Which barrier matters most in your city? (Which barriers does your city meet first?)" in page


def test_the_live_page_costs_the_same_with_one_poll_or_several(client, event):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    official = OfficialFactory()
    client.force_login(official)
    question = event.linked_topics.get()
    counts = []
    for more in range(2):
        if more:
            services.create_reply(ModeratorFactory(), question, POLL.replace("name=barrier", "name=second"))
            services.create_reply(ModeratorFactory(), question, POLL.replace("name=barrier", "name=third"))
        for poll in Poll.objects.all():
            services.vote(official, poll, [poll.options.first().digest])
        client.get(event.get_absolute_url())
        with CaptureQueriesContext(connection) as queries:
            page = client.get(event.get_absolute_url()).content.decode()
        counts.append(len(queries))
    assert page.count('<section class="poll"') == 3
    assert counts[0] == counts[1]
