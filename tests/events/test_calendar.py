from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse

from events import calendar as ical
from events import services
from tests.conftest import make_user
from tests.factories import EventFactory, OfficialFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

START = datetime(2027, 5, 17, 13, 0, tzinfo=UTC)


def _parse(response) -> icalendar.Calendar:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def test_the_event_file_carries_its_times_in_its_own_zone(client):
    event = EventFactory(
        starts_at=START, ends_at=START + timedelta(minutes=90), venue="Online", time_zone="Europe/Madrid"
    )
    calendar = _parse(client.get(reverse("events:ics", args=[event.slug])))
    (entry,) = calendar.events
    assert entry.start == datetime(2027, 5, 17, 15, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    assert entry.start == START
    assert entry.end == START + timedelta(minutes=90)
    assert entry.get("dtstart").params["TZID"] == "Europe/Madrid"
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Madrid"]
    assert str(entry.get("summary")) == event.title
    assert str(entry.get("url")).endswith(f"/events/{event.slug}/")


def test_a_moved_event_gets_a_higher_sequence(client):
    event = EventFactory(starts_at=START, ends_at=START + timedelta(hours=1))
    services.update_event(
        event,
        make_user("staff"),
        starts_at=START + timedelta(days=1),
        ends_at=START + timedelta(days=1, hours=1),
    )
    (entry,) = _parse(client.get(reverse("events:ics", args=[event.slug]))).events
    assert entry.get("sequence") == 1
    assert entry.start == START + timedelta(days=1)


def test_the_public_feed_lists_published_events_not_drafts(client):
    tokyo = EventFactory(time_zone="Asia/Tokyo", title="Tokyo session")
    EventFactory(time_zone="America/Toronto", title="Toronto session")
    EventFactory(status="draft", title="Secret draft")
    calendar = _parse(client.get(reverse("events:calendar")))
    assert sorted(str(e.get("summary")) for e in calendar.events) == ["Tokyo session", "Toronto session"]
    assert {tz.tz_name for tz in calendar.timezones} == {"Asia/Tokyo", "America/Toronto"}
    entry = next(e for e in calendar.events if str(e.get("summary")) == "Tokyo session")
    assert entry.start.tzinfo == ZoneInfo("Asia/Tokyo")
    assert entry.start == tokyo.starts_at


def test_the_personal_feed_holds_ones_own_registrations_at_a_secret_url(client):
    official = OfficialFactory()
    mine = RegistrationFactory(user=official).event
    RegistrationFactory(user=official, status="cancelled")
    EventFactory(title="Not registered")
    url = reverse("events:personal_feed", args=[ical.feed_token(official)])
    calendar = _parse(client.get(url))
    assert [str(e.get("summary")) for e in calendar.events] == [mine.title]


def test_someone_elses_cancellation_leaves_the_event_in_ones_personal_feed(client):
    official, other = OfficialFactory(), OfficialFactory()
    event = RegistrationFactory(user=official).event
    RegistrationFactory(user=other, event=event, status="cancelled")
    url = reverse("events:personal_feed", args=[ical.feed_token(official)])
    assert [str(e.get("summary")) for e in _parse(client.get(url)).events] == [event.title]
    # ...and the one who cancelled no longer sees it.
    url = reverse("events:personal_feed", args=[ical.feed_token(other)])
    assert _parse(client.get(url)).events == []


def test_a_forged_personal_feed_token_finds_nothing(client):
    official = OfficialFactory()
    token = ical.feed_token(official)
    forged = f"{official.pk + 1}-" + token.split("-", 1)[1]
    assert client.get(reverse("events:personal_feed", args=[forged])).status_code == 404
    assert client.get(reverse("events:personal_feed", args=["1-nonsense"])).status_code == 404


def test_a_drafts_file_is_not_found(client):
    draft = EventFactory(status="draft")
    assert client.get(reverse("events:ics", args=[draft.slug])).status_code == 404
