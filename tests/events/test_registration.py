import threading

import icalendar
import pytest
from django.core import mail
from django.db import connection, connections

from events import services
from events.models import Registration, RegistrationStatus
from tests.factories import EventFactory, OfficialFactory


@pytest.mark.django_db
def test_registering_sends_a_confirmation_with_the_calendar_file(django_capture_on_commit_callbacks):
    official = OfficialFactory()
    event = EventFactory()
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.register(official, event, show_publicly=True)
    assert registration.status == RegistrationStatus.REGISTERED
    assert registration.show_publicly
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [official.email]
    assert "You are registered" in message.subject
    name, content, mimetype = message.attachments[0]
    assert name == f"{event.slug}.ics" and mimetype == "text/calendar"
    parsed = icalendar.Calendar.from_ical(content)
    assert parsed.events[0].start == event.starts_at


@pytest.mark.django_db
def test_registering_twice_keeps_one_registration(django_capture_on_commit_callbacks):
    official = OfficialFactory()
    event = EventFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.register(official, event)
        services.register(official, event)
    assert Registration.objects.filter(event=event).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_full_event_waitlists_and_a_cancellation_promotes_the_first_in_line(
    django_capture_on_commit_callbacks,
):
    event = EventFactory(capacity=1)
    first, second, third = OfficialFactory(), OfficialFactory(), OfficialFactory()
    with django_capture_on_commit_callbacks(execute=True):
        seated = services.register(first, event)
        waiting = services.register(second, event)
        services.register(third, event)
    assert waiting.status == RegistrationStatus.WAITLISTED
    assert "waiting list" in mail.outbox[1].subject
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.cancel_registration(seated, first)
    assert promoted.user == second
    statuses = dict(event.registrations.values_list("user__username", "status"))
    assert statuses == {
        first.username: RegistrationStatus.CANCELLED,
        second.username: RegistrationStatus.REGISTERED,
        third.username: RegistrationStatus.WAITLISTED,
    }
    assert [m.to for m in mail.outbox] == [[second.email]]
    assert "A seat freed up" in mail.outbox[0].subject
    assert mail.outbox[0].attachments


@pytest.mark.django_db
def test_cancelling_and_registering_again_goes_to_the_back_of_the_queue():
    event = EventFactory(capacity=1)
    first, second = OfficialFactory(), OfficialFactory()
    registration = services.register(first, event)
    services.register(second, event)
    services.cancel_registration(registration, first)
    again = services.register(first, event)
    assert again.pk == registration.pk
    assert again.status == RegistrationStatus.WAITLISTED


@pytest.mark.django_db
def test_nobody_cancels_someone_elses_registration():
    from django.core.exceptions import PermissionDenied

    registration = services.register(OfficialFactory(), EventFactory())
    with pytest.raises(PermissionDenied):
        services.cancel_registration(registration, OfficialFactory())


def _run_at_once(count: int, work) -> list:
    """Run work(i) in ``count`` threads released together; return what each raised (or None)."""
    barrier = threading.Barrier(count)
    errors: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            work(i)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_twenty_people_registering_at_once_for_ten_seats():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so there is no race to test")
    event = EventFactory(capacity=10)
    people = [OfficialFactory() for _ in range(20)]

    errors = _run_at_once(20, lambda i: services.register(people[i], event))

    assert errors == [None] * 20
    statuses = list(event.registrations.values_list("status", flat=True))
    assert statuses.count(RegistrationStatus.REGISTERED) == 10
    assert statuses.count(RegistrationStatus.WAITLISTED) == 10


@pytest.mark.django_db(transaction=True)
def test_cancellations_at_once_never_overfill_the_event():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so there is no race to test")
    event = EventFactory(capacity=5)
    people = [OfficialFactory() for _ in range(12)]
    registrations = [services.register(person, event) for person in people]

    errors = _run_at_once(5, lambda i: services.cancel_registration(registrations[i], people[i]))

    assert errors == [None] * 5
    statuses = list(event.registrations.values_list("status", flat=True))
    assert statuses.count(RegistrationStatus.REGISTERED) == 5
    assert statuses.count(RegistrationStatus.WAITLISTED) == 2
