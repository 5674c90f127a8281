from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from events import services, tasks
from events.models import EventStatus
from forum import permissions as forum_permissions
from forum import services as forum_services
from forum.models import PinScope, StartAccess, Topic, TopicStatus
from notifications.models import Notification
from tests.conftest import make_user
from tests.factories import (
    CategoryFactory,
    EventFactory,
    OfficialFactory,
    RegistrationFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

START = datetime(2027, 5, 17, 13, 0, tzinfo=UTC)
BEFORE = START - timedelta(days=2)


@pytest.fixture
def launch():
    """The launch webinar with its three questions in a category that opens with it."""
    with time_machine.travel(BEFORE, tick=False):
        staff = make_user("staff")
        category = CategoryFactory(slug="digitalisation", name="Digitalisation")
        questions = [TopicFactory(category=category, author=staff) for _ in range(3)]
        event = EventFactory(starts_at=START, ends_at=START + timedelta(minutes=90), is_launch=True)
        speaker = OfficialFactory(position="Head of ICT Division")
        invitee = OfficialFactory()
        services.add_speaker(event, staff, user=speaker)
        services.link_forum(event, staff, topics=questions, launch_categories=[category], invitees=[invitee])
    return {
        "event": event,
        "staff": staff,
        "category": category,
        "questions": questions,
        "speaker": speaker,
        "invitee": invitee,
    }


def _reload(topics):
    return [Topic.objects.get(pk=topic.pk) for topic in topics]


def test_before_the_launch_members_are_refused_while_invited_officials_post(launch):
    question = Topic.objects.get(pk=launch["questions"][0].pk)
    with time_machine.travel(START - timedelta(hours=1), tick=False):
        assert question.status == TopicStatus.SCHEDULED and question.opens_at == START
        with pytest.raises(PermissionDenied, match="opens for replies"):
            forum_services.create_reply(OfficialFactory(), question, "An answer from a city official.")
        speaker_post = forum_services.create_reply(launch["speaker"], question, "Harare has started with...")
        invitee_post = forum_services.create_reply(launch["invitee"], question, "In Montevideo we learnt...")
        assert speaker_post.number == 2 and invitee_post.number == 3
        # The category is read-only: nobody but moderators starts a topic in it.
        category = launch["category"]
        category.refresh_from_db()
        assert category.start_access == StartAccess.MODERATORS
        assert not forum_permissions.can_start_topic(OfficialFactory(), category)


def test_at_the_start_the_periodic_task_opens_and_pins_the_topics_exactly_once(
    launch, django_capture_on_commit_callbacks, mailoutbox
):
    event = launch["event"]
    with time_machine.travel(BEFORE, tick=False):
        RegistrationFactory.create_batch(2, event=event)
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_schedule()["started"] == 1
        assert tasks.run_schedule()["started"] == 0
    questions = _reload(launch["questions"])
    assert {(q.status, q.pin_scope) for q in questions} == {(TopicStatus.OPEN, PinScope.GLOBAL)}
    assert Notification.objects.filter(kind="event_live", title__startswith="Live now").count() == 2
    category = launch["category"]
    category.refresh_from_db()
    assert category.start_access == StartAccess.VERIFIED
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        post = forum_services.create_reply(OfficialFactory(), questions[0], "Now everyone can answer.")
    assert post.pk


def test_moving_the_launch_moves_the_opening(launch):
    new_start = START + timedelta(days=1)
    with time_machine.travel(BEFORE, tick=False):
        services.update_event(
            launch["event"], launch["staff"], starts_at=new_start, ends_at=new_start + timedelta(hours=1)
        )
    assert {q.opens_at for q in _reload(launch["questions"])} == {new_start}


def test_ending_returns_global_pins_to_category_pins_and_topics_stay_open(
    launch, django_capture_on_commit_callbacks, mailoutbox
):
    event = launch["event"]
    with time_machine.travel(BEFORE, tick=False):
        RegistrationFactory(event=event)
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.go_live(event, launch["staff"])
    mailoutbox.clear()
    with time_machine.travel(event.ends_at, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.end_event(event, launch["staff"])
    questions = _reload(launch["questions"])
    assert {(q.status, q.pin_scope) for q in questions} == {(TopicStatus.OPEN, PinScope.CATEGORY)}
    (follow_up,) = mailoutbox
    assert questions[0].get_absolute_url() in follow_up.body


def test_the_live_page_shows_replies_newest_first_and_takes_a_reply(launch, client):
    event = launch["event"]
    official = OfficialFactory()
    with time_machine.travel(START, tick=False):
        services.go_live(event, launch["staff"])
    questions = _reload(launch["questions"])
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        forum_services.create_reply(OfficialFactory(), questions[0], "First answer from Quito.")
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        forum_services.create_reply(OfficialFactory(), questions[1], "Second answer from Seoul.")
    client.force_login(official)
    page = client.get(event.get_absolute_url()).content.decode()
    assert page.index("Second answer from Seoul.") < page.index("First answer from Quito.")
    assert '<span data-counter="replies">2</span> replies since the start' in page

    response = client.post(
        reverse("events:live_reply", args=[event.slug]),
        {"topic": questions[2].pk, "raw": "Lisbon's answer, posted in place."},
        follow=True,
    )
    assert "answer, posted in place." in response.content.decode()
    assert questions[2].posts.filter(author=official).exists()


def test_a_refused_live_reply_keeps_the_text(launch, client_as):
    event = launch["event"]
    client = client_as("member")
    with time_machine.travel(START, tick=False):
        services.go_live(event, launch["staff"])
    response = client.post(
        reverse("events:live_reply", args=[event.slug]),
        {"topic": launch["questions"][0].pk, "raw": "A member's thoughtful answer."},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Only verified officials can post" in page
    assert "A member&#x27;s thoughtful answer." in page


def test_the_control_room_checklist_counts_the_topics(launch, client):
    client.force_login(launch["staff"])
    page = client.get(reverse("events:control", args=[launch["event"].slug])).content.decode()
    assert "Question topics linked" in page and "3 of 3" in page


def test_an_event_without_linked_topics_still_goes_live(django_capture_on_commit_callbacks):
    event = EventFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.go_live(event, make_user("staff"))
    event.refresh_from_db()
    assert event.status == EventStatus.LIVE


@pytest.mark.parametrize("replies", [2, 12])
def test_the_live_page_has_a_fixed_query_budget(launch, client, django_assert_num_queries, replies):
    event = launch["event"]
    with time_machine.travel(START, tick=False):
        services.go_live(event, launch["staff"])
    questions = _reload(launch["questions"])
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        for i in range(replies):
            forum_services.create_reply(
                OfficialFactory(), questions[i % 3], f"Answer number {i} from a city."
            )
    client.force_login(OfficialFactory())
    # 11, +1: the polls of the questions (forum.polls.blocks_for_topics; none here),
    # +1 for the header's unread messages on a cold cache (forum/messages.py; 0 once cached)
    with django_assert_num_queries(13):
        assert client.get(event.get_absolute_url()).status_code == 200


def test_a_moderators_only_category_stays_so_after_the_launch(launch, django_capture_on_commit_callbacks):
    from forum.models import Category

    with time_machine.travel(BEFORE, tick=False):
        moderated = CategoryFactory(slug="announcements", start_access=StartAccess.MODERATORS)
        TopicFactory(category=moderated, author=launch["staff"])
        services.link_forum(
            launch["event"], launch["staff"], launch_categories=[launch["category"], moderated]
        )
        # Linking again (or moving the event) holds them again without forgetting the original rule.
        services.link_forum(
            launch["event"], launch["staff"], launch_categories=[launch["category"], moderated]
        )
    with time_machine.travel(START, tick=False):
        services.go_live(launch["event"])
    access = dict(Category.objects.values_list("slug", "start_access"))
    assert access["announcements"] == StartAccess.MODERATORS
    assert access["digitalisation"] == StartAccess.VERIFIED


def test_a_category_unlinked_from_the_launch_opens_again(launch):
    with time_machine.travel(BEFORE, tick=False):
        services.link_forum(launch["event"], launch["staff"], launch_categories=[])
        category = launch["category"]
        category.refresh_from_db()
        assert category.start_access == StartAccess.VERIFIED
        assert {q.status for q in _reload(launch["questions"])} == {TopicStatus.OPEN}


def test_a_reply_from_the_live_page_reaches_other_open_live_pages(
    launch, client, live_backend, django_capture_on_commit_callbacks
):
    from core import live

    event = launch["event"]
    with time_machine.travel(START, tick=False):
        services.go_live(event, launch["staff"])
    channel = f"/event/{event.pk}"
    start = live.last_id(channel)
    client.force_login(OfficialFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:live_reply", args=[event.slug]),
            {"topic": launch["questions"][0].pk, "raw": "Bogotá's answer, for everyone watching."},
        )
    assert response.status_code == 302
    events, _gap = live.read_after(channel, start)
    assert [(item.event, item.data["topic_id"]) for item in events] == [
        ("post_created", launch["questions"][0].pk)
    ]


def test_the_live_page_follows_only_channels_some_app_answers_for(launch, client):
    from core import live

    event = launch["event"]
    with time_machine.travel(START, tick=False):
        services.go_live(event, launch["staff"])
    client.force_login(OfficialFactory())
    page = client.get(event.get_absolute_url()).content.decode()
    topic_channels = [f"/topic/{q.pk}" for q in launch["questions"]]
    expected = [f"/event/{event.pk}"] + topic_channels
    assert f'data-live-channels="{" ".join(expected)}"' in page
    # Every channel the page asks for can be followed by this person, so the stream opens.
    user = OfficialFactory()
    assert all(live.can_subscribe(user, channel) for channel in expected)


def test_a_held_live_reply_says_it_waits_for_approval(launch, client, monkeypatch):
    from forum import moderation

    event = launch["event"]
    with time_machine.travel(START, tick=False):
        services.go_live(event, launch["staff"])
    monkeypatch.setattr(moderation, "needs_approval", lambda user: True)
    client.force_login(OfficialFactory())
    response = client.post(
        reverse("events:live_reply", args=[event.slug]),
        {"topic": launch["questions"][1].pk, "raw": "A first post, checked by a moderator."},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "waits for a moderator&#x27;s approval" in page
    assert "A first post, checked by a moderator." not in page


def test_the_questions_close_the_chosen_number_of_days_after_the_end_once(launch):
    event = launch["event"]
    with time_machine.travel(BEFORE, tick=False):
        services.update_event(event, launch["staff"], close_topics_after_days=7)
    with time_machine.travel(START, tick=False):
        tasks.run_schedule()
    end = event.ends_at
    with time_machine.travel(end, tick=False):
        assert tasks.run_schedule() == {"started": 0, "ended": 1, "closed": 0}
    with time_machine.travel(end + timedelta(days=6, hours=23), tick=False):
        assert tasks.run_schedule()["closed"] == 0
    assert {q.status for q in _reload(launch["questions"])} == {TopicStatus.OPEN}
    with time_machine.travel(end + timedelta(days=7), tick=False):
        assert tasks.run_schedule()["closed"] == 1
        assert tasks.run_schedule()["closed"] == 0
    assert {q.status for q in _reload(launch["questions"])} == {TopicStatus.CLOSED}
    with pytest.raises(PermissionDenied):
        forum_services.create_reply(OfficialFactory(), _reload(launch["questions"])[0], "Too late now.")


def test_without_a_closing_delay_the_questions_stay_open(launch):
    event = launch["event"]
    with time_machine.travel(START, tick=False):
        tasks.run_schedule()
    with time_machine.travel(event.ends_at + timedelta(days=400), tick=False):
        tasks.run_schedule()
        assert tasks.run_schedule()["closed"] == 0
    assert {q.status for q in _reload(launch["questions"])} == {TopicStatus.OPEN}


def test_the_event_page_says_until_when_the_questions_take_replies(launch, client):
    event = launch["event"]
    with time_machine.travel(BEFORE, tick=False):
        services.update_event(event, launch["staff"], close_topics_after_days=3)
    with time_machine.travel(START, tick=False):
        tasks.run_schedule()
    with time_machine.travel(event.ends_at, tick=False):
        tasks.run_schedule()
    page = client.get(event.get_absolute_url()).content.decode()
    assert "The questions take replies until May 20, 2027." in page


def test_an_event_with_many_questions_asks_for_no_more_channels_than_a_stream_takes():
    from core import live
    from core.live_views import MAX_CHANNELS
    from events import linked

    event = EventFactory()
    channels = linked.live_channels(event, list(range(1, 30)))
    assert len(channels) == MAX_CHANNELS and channels[0] == f"/event/{event.pk}"
    assert live.valid_channel(channels[-1])
