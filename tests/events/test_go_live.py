import pytest
from django.core import mail
from django.db import connection

from events import services
from events.models import Event, EventStatus
from tests.conftest import make_user
from tests.events.test_registration import _run_at_once
from tests.factories import EventFactory, RegistrationFactory


@pytest.mark.django_db
def test_go_live_twice_changes_nothing_the_second_time(django_capture_on_commit_callbacks):
    event = EventFactory()
    RegistrationFactory.create_batch(3, event=event)
    staff = make_user("staff")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.go_live(event, staff) is True
        first_stamp = Event.objects.get(pk=event.pk).went_live_at
        assert services.go_live(event, staff) is False
    event.refresh_from_db()
    assert event.status == EventStatus.LIVE
    assert event.went_live_at == first_stamp
    assert len([m for m in mail.outbox if m.subject.startswith("Live now")]) == 3


@pytest.mark.django_db
def test_only_staff_go_live_and_end():
    from django.core.exceptions import PermissionDenied

    event = EventFactory()
    with pytest.raises(PermissionDenied):
        services.go_live(event, make_user("moderator"))
    assert Event.objects.get(pk=event.pk).status == EventStatus.PUBLISHED


@pytest.mark.django_db
def test_ending_needs_a_live_event_and_happens_once(django_capture_on_commit_callbacks):
    event = EventFactory(recording_url="https://player.vimeo.com/video/1")
    RegistrationFactory(event=event)
    staff = make_user("staff")
    assert services.end_event(event, staff) is False
    with django_capture_on_commit_callbacks(execute=True):
        services.go_live(event, staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.end_event(event, staff) is True
        assert services.end_event(event, staff) is False
    assert len(mail.outbox) == 1
    assert "https://player.vimeo.com/video/1" in mail.outbox[0].body
    assert Event.objects.get(pk=event.pk).status == EventStatus.ENDED


@pytest.mark.django_db(transaction=True)
def test_go_live_run_twice_at_once_notifies_each_person_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so there is no race to test")
    event = EventFactory()
    people = [r.user for r in RegistrationFactory.create_batch(4, event=event)]
    results = []

    errors = _run_at_once(2, lambda i: results.append(services.go_live(Event.objects.get(pk=event.pk))))

    assert errors == [None, None]
    assert sorted(results) == [False, True]
    live = [m.to[0] for m in mail.outbox if m.subject.startswith("Live now")]
    assert sorted(live) == sorted(person.email for person in people)


@pytest.mark.django_db
def test_going_live_and_ending_are_published_on_the_event_channel(
    live_backend, django_capture_on_commit_callbacks
):
    from core import live

    event = EventFactory()
    channel = f"/event/{event.pk}"
    start = live.last_id(channel)
    staff = make_user("staff")
    with django_capture_on_commit_callbacks(execute=True):
        services.go_live(event, staff)
        services.go_live(event, staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.end_event(event, staff)
    events, _gap = live.read_after(channel, start)
    assert [item.event for item in events] == ["live", "ended"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "member", "staff"])
def test_who_may_follow_an_event_channel(role):
    from core import live
    from tests.conftest import make_user as make

    user = make(role)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    published, draft = EventFactory(), EventFactory(status="draft")
    assert live.can_subscribe(user, f"/event/{published.pk}")
    assert live.can_subscribe(user, f"/event/{draft.pk}") is (role == "staff")
    assert not live.can_subscribe(user, "/event/999999")
