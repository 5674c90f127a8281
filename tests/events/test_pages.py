import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from events import banner
from events.models import Event, EventStatus, Registration, Session, Speaker
from tests.conftest import ROLES
from tests.factories import EventFactory, OfficialFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

# role -> expected status for each page. Control room and editing: staff only (with MFA).
MATRIX = {
    # view name, method, anonymous, member, verified, moderator, staff, silenced, suspended
    "list": ("get", 200, 200, 200, 200, 200, 200, 200),
    "detail": ("get", 200, 200, 200, 200, 200, 200, 200),
    "ics": ("get", 200, 200, 200, 200, 200, 200, 200),
    "attendees": ("get", 200, 200, 200, 200, 200, 200, 200),
    "attendees_csv": ("get", 302, 403, 403, 403, 200, 403, 403),
    "control": ("get", 302, 403, 403, 403, 200, 403, 403),
    # Inviting attendees: moderators too (docs/accounts.md, "Invitations").
    "invite": ("get", 302, 403, 403, 200, 200, 403, 403),
    "edit": ("get", 302, 403, 403, 403, 200, 403, 403),
    "create": ("get", 302, 403, 403, 403, 200, 403, 403),
    # Registering: members are told the event is for verified officials; suspended people are refused.
    "register": ("post", 302, 403, 302, 302, 302, 302, 403),
    "live_posts": ("get", 200, 200, 200, 200, 200, 200, 200),
    "here": ("post", 200, 200, 200, 200, 200, 200, 200),
    # Without a question linked there is nothing to answer: the page says so, keeping the text.
    "live_reply": ("post", 302, 400, 400, 400, 400, 400, 400),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", list(MATRIX))
def test_permission_matrix(client_as, role, view):
    event = EventFactory()
    client = client_as(role)
    method, *expected = MATRIX[view]
    if view in ("list", "create"):
        url = reverse(f"events:{view}")
    else:
        url = reverse(f"events:{view}", args=[event.slug])
    response = getattr(client, method)(url)
    assert response.status_code == expected[ROLES.index(role)]


@pytest.mark.parametrize("role", ROLES)
def test_drafts_are_hidden_from_everyone_but_staff(client_as, role):
    draft = EventFactory(status="draft")
    response = client_as(role).get(draft.get_absolute_url())
    assert response.status_code == (200 if role == "staff" else 404)


def test_the_event_page_shows_the_events_time_and_the_viewers(client):
    official = OfficialFactory(time_zone="America/Toronto")
    start = datetime(2027, 5, 17, 13, 0, tzinfo=UTC)
    event = EventFactory(starts_at=start, ends_at=start + timedelta(minutes=90), time_zone="Europe/Madrid")
    client.force_login(official)
    page = client.get(event.get_absolute_url()).content.decode()
    assert "15:00" in page and "(Europe/Madrid)" in page
    assert "Your time (America/Toronto):" in page and "09:00" in page
    assert f'datetime="{start.isoformat()}"' in page


def test_registering_from_the_page_and_cancelling(client, mailoutbox, django_capture_on_commit_callbacks):
    official = OfficialFactory()
    event = EventFactory()
    client.force_login(official)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:register", args=[event.slug]), {"show_publicly": "on"}, follow=True
        )
    assert "You are registered." in response.content.decode()
    assert Registration.objects.get(event=event, user=official).show_publicly
    assert len(mailoutbox) == 1
    response = client.post(reverse("events:cancel", args=[event.slug]), follow=True)
    assert "Your registration is cancelled." in response.content.decode()
    assert Registration.objects.get(event=event, user=official).status == "cancelled"


def test_the_page_says_why_someone_cannot_register(client):
    event = EventFactory(registration_closes_at=timezone.now() - timedelta(hours=1))
    client.force_login(OfficialFactory())
    page = client.get(event.get_absolute_url()).content.decode()
    assert "Registration closed on" in page
    assert 'action="/events/' not in page.split("registration-heading")[1].split("</section>")[0] or (
        "Register</button>" not in page
    )
    response = client.post(reverse("events:register", args=[event.slug]))
    assert response.status_code == 403
    assert "Registration closed on" in response.content.decode()


def test_members_are_told_to_get_verified(client_as):
    event = EventFactory()
    page = client_as("member").get(event.get_absolute_url()).content.decode()
    assert "Ask to be verified as an official to register." in page


def test_the_join_link_shows_to_registered_people_from_30_minutes_before(client):
    event = EventFactory()
    registered = RegistrationFactory(event=event).user
    client.force_login(registered)
    with time_machine.travel(event.starts_at - timedelta(minutes=31)):
        page = client.get(event.get_absolute_url()).content.decode()
        assert event.join_url not in page
        assert "The link to join appears here from" in page
    with time_machine.travel(event.starts_at - timedelta(minutes=29)):
        assert event.join_url in client.get(event.get_absolute_url()).content.decode()
    client.force_login(OfficialFactory())
    with time_machine.travel(event.starts_at - timedelta(minutes=5)):
        assert event.join_url not in client.get(event.get_absolute_url()).content.decode()


def test_the_stream_appears_in_a_sandboxed_frame_when_live(client):
    event = EventFactory(status=EventStatus.LIVE, went_live_at=timezone.now())
    banner.refresh()
    page = client.get(event.get_absolute_url()).content.decode()
    assert f'<iframe src="{event.stream_url}"' in page
    assert 'sandbox="allow-scripts allow-same-origin allow-presentation allow-popups"' in page
    # ...and the banner across the site links to it.
    home = client.get("/").content.decode()
    assert "live-banner" in home and event.get_absolute_url() in home


def test_public_attendees_are_only_those_who_chose_it(client_as):
    event = EventFactory()
    shown = RegistrationFactory(event=event, show_publicly=True).user
    hidden = RegistrationFactory(event=event, show_publicly=False).user
    page = client_as("verified").get(reverse("events:attendees", args=[event.slug])).content.decode()
    assert shown.name in page and hidden.name not in page


def test_organisers_export_every_attendee_as_csv(client):
    organiser = OfficialFactory()
    event = EventFactory()
    event.organisers.add(organiser)
    RegistrationFactory(event=event, show_publicly=True)
    RegistrationFactory(event=event, user=OfficialFactory(display_name="=HYPERLINK(1)"), status="waitlisted")
    client.force_login(organiser)
    response = client.get(reverse("events:attendees_csv", args=[event.slug]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["Name", "Email"]
    assert len(rows) == 3
    assert "'=HYPERLINK(1)" in [row[0] for row in rows]
    assert "On the waiting list" in [row[4] for row in rows]


def test_staff_create_an_event_with_times_in_its_own_zone(client_as):
    client = client_as("staff")
    response = client.post(
        reverse("events:create"),
        {
            "title": "City Managers Days",
            "kind": "in_person",
            "status": "published",
            "time_zone": "Europe/Madrid",
            "starts_at": "2027-11-20T09:00",
            "ends_at": "2027-11-21T18:00",
            "venue": "Metropolis headquarters",
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302 and response["Location"] == event.get_absolute_url()
    assert event.starts_at == datetime(2027, 11, 20, 8, 0, tzinfo=UTC)
    assert event.slug == "city-managers-days"


def test_bad_input_in_the_form_keeps_what_was_typed(client_as):
    client = client_as("staff")
    response = client.post(
        reverse("events:create"),
        {
            "title": "Webinar with a bad link",
            "kind": "webinar",
            "status": "draft",
            "time_zone": "Europe/Madrid",
            "starts_at": "2027-05-17T15:00",
            "ends_at": "2027-05-17T14:00",
            "join_url": "http://zoom.example/room",
            "stream_url": "https://www.youtube.com/watch?v=1",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The end must come after the start." in page
    assert "The link must start with https://." in page
    assert "youtube-nocookie.com" in page
    assert 'value="Webinar with a bad link"' in page and 'value="http://zoom.example/room"' in page
    assert not Event.objects.exists()


def test_the_control_room_goes_live_and_messages_registered_people(
    client_as, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_as("staff")
    event = EventFactory()
    RegistrationFactory.create_batch(2, event=event)
    page = client.get(reverse("events:control", args=[event.slug])).content.decode()
    assert "Checklist" in page and "Go live now" in page
    client.post(reverse("events:control", args=[event.slug]), {"action": "go_live"})
    assert Event.objects.get(pk=event.pk).status == EventStatus.LIVE
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("events:control", args=[event.slug]),
            {"action": "message", "subject": "Slides are online", "body": "See the materials."},
        )
    assert response.status_code == 302
    assert [m.subject for m in mailoutbox] == ["Slides are online"] * 2
    client.post(reverse("events:control", args=[event.slug]), {"action": "end"})
    assert Event.objects.get(pk=event.pk).status == EventStatus.ENDED


def test_staff_without_mfa_are_asked_to_set_it_up(client):
    client.force_login(OfficialFactory(is_staff=True))
    response = client.get(reverse("events:control", args=[EventFactory().slug]))
    assert response.status_code == 302 and "totp" in response["Location"]


def _agenda(event, n):
    speaker = Speaker.objects.create(event=event, name="Alexander Heichlinger", organisation="EIPA")
    for i in range(n):
        session = Session.objects.create(
            event=event,
            title=f"Session {i}",
            starts_at=event.starts_at + timedelta(hours=i),
            ends_at=event.starts_at + timedelta(hours=i, minutes=45),
            venue="Metropolis headquarters" if i % 2 else "AMB",
        )
        session.speakers.add(speaker)


@pytest.mark.parametrize("size", [1, 8])
def test_the_event_list_has_a_fixed_query_budget(client, django_assert_num_queries, size):
    official = OfficialFactory()
    for _ in range(size):
        RegistrationFactory(user=official)
        EventFactory(starts_at=timezone.now() - timedelta(days=30), status="ended")
    client.force_login(official)
    # session, user, unread notifications, upcoming, past, my registrations (the banner is cached);
    # +1 for the header's unread messages on a cold cache (forum/messages.py; 0 once cached)
    with django_assert_num_queries(6):
        assert client.get(reverse("events:list")).status_code == 200


@pytest.mark.parametrize("size", [1, 8])
def test_the_event_page_has_a_fixed_query_budget(client, django_assert_num_queries, size):
    official = OfficialFactory()
    event = EventFactory(kind="hybrid", venue="AMB")
    _agenda(event, size)
    RegistrationFactory.create_batch(size, event=event, show_publicly=True)
    client.force_login(official)
    # +1 for the header's unread messages on a cold cache (forum/messages.py; 0 once cached)
    with django_assert_num_queries(11):
        assert client.get(event.get_absolute_url()).status_code == 200


def test_the_home_page_announces_the_next_event(client):
    launch = EventFactory(is_launch=True, title="Launch of the peer learning forum")
    EventFactory(starts_at=launch.starts_at - timedelta(days=1), ends_at=launch.starts_at)
    banner.refresh()
    page = client.get(reverse("events:list")).content.decode()
    assert "Coming up:" in page and launch.get_absolute_url() in page.split("Coming up:")[1][:300]


def test_going_live_puts_the_banner_up_and_ending_takes_it_down(client, django_capture_on_commit_callbacks):
    from events import services
    from tests.conftest import make_user

    event = EventFactory()
    staff = make_user("staff")
    with django_capture_on_commit_callbacks(execute=True):
        services.go_live(event, staff)
    assert "Live now" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.end_event(event, staff)
    assert "live-banner" not in client.get("/").content.decode()


def test_open_live_pages_are_counted(client):
    event = EventFactory(status=EventStatus.LIVE, went_live_at=timezone.now())
    for _ in range(3):
        response = client.post(reverse("events:here", args=[event.slug]))
    assert response.json() == {"present": 3, "label": "3 people on this page"}
    page = client.get(event.get_absolute_url()).content.decode()
    assert '<span data-counter="present">3 people on this page</span>' in page
    other = EventFactory(status=EventStatus.LIVE, went_live_at=timezone.now())
    assert client.post(reverse("events:here", args=[other.slug])).json()["label"] == "1 person on this page"


def test_staff_link_questions_add_speakers_and_sessions_in_the_control_room(client_as):
    from tests.factories import CategoryFactory, TopicFactory

    client = client_as("staff")
    event = EventFactory(
        is_launch=True, starts_at=(timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    )
    event.ends_at = event.starts_at + timedelta(hours=8)
    event.save()
    category = CategoryFactory(slug="digitalisation")
    first, second = TopicFactory(category=category), TopicFactory(category=category)
    invitee = OfficialFactory(username="harare_ict")
    url = reverse("events:control", args=[event.slug])

    response = client.post(
        url,
        {
            "action": "links",
            "topics": f"{first.get_absolute_url()}\n{second.pk}",
            "launch_categories": [category.pk],
            "invitees": "@harare_ict",
        },
    )
    assert response.status_code == 302
    assert set(event.linked_topics.all()) == {first, second}
    assert list(event.invitees.all()) == [invitee]
    assert first.invited_posters.filter(pk=invitee.pk).exists()

    response = client.post(url, {"action": "links", "topics": "/t/nothing/999999", "invitees": "nobody_here"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "No topic with the number 999999." in page and "Nobody is called nobody_here." in page
    assert "/t/nothing/999999" in page

    client.post(url, {"action": "speaker", "name": "Luis Bettencourt", "organisation": "Mansueto Institute"})
    assert event.speakers.get().display_name == "Luis Bettencourt"

    local = event.starts_at.astimezone(event.zone)
    response = client.post(
        url,
        {
            "action": "session",
            "title": "City Managers Community session",
            "starts_at": (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "venue": "Metropolis headquarters",
        },
    )
    assert response.status_code == 302
    assert event.sessions.get().starts_at == event.starts_at + timedelta(hours=1)
    response = client.post(
        url,
        {
            "action": "session",
            "title": "Too late",
            "starts_at": (local + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert "A session must take place during the event." in response.content.decode()


@pytest.mark.parametrize(
    ("answer", "done", "words"),
    [
        (200, True, "The player answered (HTTP 200)."),
        (404, False, "The player answered HTTP 404."),
        (OSError("Name or service not known"), False, "Not reachable: Name or service not known"),
    ],
)
def test_the_control_room_checks_that_the_stream_is_reachable(client_as, monkeypatch, answer, done, words):
    from django.core.cache import cache

    from events import stream_check

    def fetch(url):
        assert url == "https://player.vimeo.com/video/76979871"
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(stream_check, "_fetch_status", fetch)
    cache.clear()
    client = client_as("staff")
    event = EventFactory(stream_url="https://player.vimeo.com/video/76979871")
    url = reverse("events:control", args=[event.slug])
    assert "Not checked yet" in client.get(url).content.decode()
    response = client.post(url, {"action": "check_stream"}, follow=True)
    page = response.content.decode()
    assert words in page
    item = "check-done" if done else "check-todo"
    assert (
        f'<li class="{item}"><span aria-hidden="true">{"✔" if done else "✖"}</span> <strong>Stream reachable'
        in page
    )
    # A new link needs a new check.
    Event.objects.filter(pk=event.pk).update(stream_url="https://meet.jit.si/AnotherRoom")
    assert "Not checked yet" in client.get(url).content.decode()


def test_only_staff_check_the_stream(client_as):
    event = EventFactory(stream_url="https://player.vimeo.com/video/1")
    response = client_as("verified").post(
        reverse("events:control", args=[event.slug]), {"action": "check_stream"}
    )
    assert response.status_code in (302, 403)
