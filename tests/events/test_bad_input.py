from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from events import services
from events.models import Event, EventStatus
from tests.conftest import make_user
from tests.factories import EventFactory, OfficialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return make_user("staff")


def _fields(**overrides):
    start = timezone.now() + timedelta(days=3)
    fields = {
        "title": "Digital rights in metropolitan spaces",
        "kind": "webinar",
        "status": "published",
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "time_zone": "Europe/Madrid",
    }
    fields.update(overrides)
    return fields


def test_a_good_event_is_created_with_a_slug(staff):
    event = services.create_event(staff, **_fields())
    assert event.slug == "digital-rights-in-metropolitan-spaces"
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"ends_at": timezone.now() + timedelta(days=2)}, "ends_at", "end must come after the start"),
        ({"join_url": "http://meet.jit.si/room"}, "join_url", "https://"),
        ({"stream_url": "https://www.youtube.com/embed/abc"}, "stream_url", "youtube-nocookie.com"),
        ({"stream_url": "https://evil.example/player"}, "stream_url", "youtube-nocookie.com"),
        ({"stream_url": "http://player.vimeo.com/video/1"}, "stream_url", "player.vimeo.com"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "time zone"),
        ({"kind": "in_person"}, "venue", "where the event takes place"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(staff, overrides, field, words):
    with pytest.raises(ValidationError) as error:
        services.create_event(staff, **_fields(**overrides))
    assert words in " ".join(error.value.message_dict[field])
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube-nocookie.com/embed/abc123",
        "https://player.vimeo.com/video/76979871",
        "https://meet.jit.si/MetropolisLaunch",
    ],
)
def test_streams_from_the_allowlist_are_accepted(staff, url):
    assert services.create_event(staff, **_fields(stream_url=url)).stream_url == url


def test_moving_the_end_before_the_start_keeps_the_event_as_it_was(staff):
    event = EventFactory()
    ends_at = event.ends_at
    with pytest.raises(ValidationError):
        services.update_event(event, staff, ends_at=event.starts_at - timedelta(minutes=1))
    event.refresh_from_db()
    assert event.ends_at == ends_at


def test_only_staff_create_events():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.create_event(OfficialFactory(), **_fields())


def test_registration_after_closing_is_refused():
    event = EventFactory(registration_closes_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.RegistrationRefused, match="Registration closed"):
        services.register(OfficialFactory(), event)
    assert not event.registrations.exists()


def test_registration_before_opening_is_refused():
    event = EventFactory(registration_opens_at=timezone.now() + timedelta(days=1))
    with pytest.raises(services.RegistrationRefused, match="Registration opens"):
        services.register(OfficialFactory(), event)


def test_registration_for_a_cancelled_event_is_refused():
    event = EventFactory(status=EventStatus.CANCELLED)
    with pytest.raises(services.RegistrationRefused, match="cancelled"):
        services.register(OfficialFactory(), event)


def test_members_need_verification_unless_the_event_allows_them():
    member = make_user("member")
    with pytest.raises(services.RegistrationRefused, match="verified officials"):
        services.register(member, EventFactory())
    assert services.register(member, EventFactory(allow_members=True)).status == "registered"


def test_suspended_people_cannot_register():
    with pytest.raises(services.RegistrationRefused, match="suspended"):
        services.register(make_user("suspended"), EventFactory())
