"""Moderators schedule a topic from the composer, in their own time zone, and everyone reads the
opening time in theirs, with the zone's name."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from forum import services
from forum.models import Topic, TopicStatus
from tests.conftest import make_user
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

OPENS = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)  # 14:00 in Madrid, 08:00 in Toronto


def new_topic(client, **extra):
    data = {
        "title": "How do you open council data to every resident?",
        "raw": "Tell us what worked in your city.",
        "category": CategoryFactory().pk,
        "idempotency_key": "0d7a1c9e-6f0b-4b8e-9a57-2b3c4d5e6f70",
        **extra,
    }
    return client.post(reverse("forum:new_topic"), data)


def test_a_moderator_schedules_a_topic_from_the_composer_in_their_own_zone(client):
    moderator = make_user("moderator")
    moderator.time_zone = "Europe/Madrid"
    moderator.save(update_fields=["time_zone"])
    client.force_login(moderator)
    CategoryFactory()
    composer = client.get(reverse("forum:new_topic")).content.decode()
    assert "Open for replies at (Europe/Madrid)" in composer

    response = new_topic(client, opens_at="2030-05-17T14:00")
    assert response.status_code == 302
    topic = Topic.objects.get()
    assert topic.status == TopicStatus.SCHEDULED
    assert topic.opens_at == OPENS
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Opens for replies May 17, 2030, 2 p.m. (Europe/Madrid)" in page
    assert "Open for replies at (Europe/Madrid)" in page  # the moderator actions, same zone


def test_a_time_already_past_is_refused_and_the_text_kept(client):
    client.force_login(make_user("moderator"))
    response = new_topic(client, opens_at="2020-01-01T09:00")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a time in the future" in page
    assert "Tell us what worked in your city." in page
    assert not Topic.objects.exists()


def test_officials_have_no_schedule_field_and_cannot_schedule(client):
    client.force_login(OfficialFactory())
    CategoryFactory()
    assert 'name="opens_at"' not in client.get(reverse("forum:new_topic")).content.decode()
    assert new_topic(client, opens_at="2030-05-17T14:00").status_code == 302
    assert Topic.objects.get().status == TopicStatus.OPEN


def test_readers_see_the_opening_in_their_zone_with_one_full_stop(client):
    topic = TopicFactory()
    services.schedule_topic(topic, OPENS)
    reader = OfficialFactory(time_zone="America/Toronto")
    client.force_login(reader)
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "This topic opens for replies on May 17, 2030, 8 a.m. (America/Toronto)." in page
    assert "a.m.." not in page and "p.m.." not in page


def test_the_moderator_actions_schedule_in_the_moderators_zone(client):
    moderator = make_user("moderator")
    moderator.time_zone = "Asia/Tokyo"
    moderator.save(update_fields=["time_zone"])
    topic = TopicFactory()
    client.force_login(moderator)
    client.post(
        reverse("forum:moderate_topic", args=[topic.pk]),
        {"action": "schedule", "opens_at": "2030-05-17T21:00"},
    )
    topic.refresh_from_db()
    assert topic.opens_at == OPENS


@pytest.mark.parametrize(
    "value", ["tomorrow", "2030-13-45T25:00", "9999-12-31T23:59", "2030-05-17T14:00\x00"]
)
def test_an_impossible_time_is_a_message_not_a_crash(client, value):
    moderator = make_user("moderator")
    moderator.time_zone = "America/Toronto"
    moderator.save(update_fields=["time_zone"])
    client.force_login(moderator)
    response = new_topic(client, opens_at=value)
    assert response.status_code in (302, 400)
    if response.status_code == 302:  # the far future is a time like any other
        assert Topic.objects.get().status == TopicStatus.SCHEDULED
