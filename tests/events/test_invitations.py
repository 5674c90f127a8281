"""Inviting an event's attendees: from its invitation page (one, a CSV, every registrant not yet
verified), the control room's counts, and the insights table of invitations accepted per event."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.invitations import InviteRow, invite_many
from accounts.models import Invitation, InvitationState, VerificationMethod
from events import services
from events.models import EventStatus
from forum import insights
from tests.conftest import make_user
from tests.factories import (
    EventFactory,
    OfficialFactory,
    OrganisationFactory,
    RegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://[^\s]+(/invites/[\w-]+)")


def committed(func, *args, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return func(*args, **kwargs)


@pytest.fixture
def event():
    return EventFactory(
        slug="launch", title="Launch webinar", title_es="Seminario", status=EventStatus.PUBLISHED
    )


def test_csv_from_the_event_names_it_and_lands_on_its_page(client, event):
    OrganisationFactory(name="Harare", slug="harare")
    moderator = make_user("moderator")
    client.force_login(moderator)
    upload = SimpleUploadedFile(
        "attendees.csv",
        b"email,name,organisation,language\nana@mail.example,Ana,Harare,es\n",
        content_type="text/csv",
    )
    page = committed(client.post, "/events/launch/invite", {"action": "invite_csv", "attendees": upload})
    assert page.status_code == 200 and "1 invitation sent" in page.text
    invitation = Invitation.objects.get()
    assert invitation.occasion == f"event:{event.pk}" and invitation.landing_url == "/events/launch/"
    assert "Seminario" in mail.outbox[0].subject
    client.logout()
    path = LINK.search(mail.outbox[0].body).group(1)
    response = committed(client.post, path, {"display_name": "Ana", "password": "a-long-password-42"})
    assert response["Location"] == "/events/launch/"
    table = insights.invitations_per_event(*insights.period_from(None, None))
    assert table.rows == [["Launch webinar", 1, 1]]


def test_invite_every_unverified_registrant(client, event):
    city = OrganisationFactory()
    member = UserFactory(organisation=city)
    lost = UserFactory()  # no organisation, no official domain: reported
    RegistrationFactory(event=event, user=member)
    RegistrationFactory(event=event, user=lost)
    RegistrationFactory(event=event, user=OfficialFactory())  # already verified: not listed
    moderator = make_user("moderator")
    client.force_login(moderator)
    page = client.get("/events/launch/invite")
    assert "2 registered members are not verified officials yet" in page.text
    page = committed(client.post, "/events/launch/invite", {"action": "invite_registrants"})
    assert "1 invitation sent" in page.text and "Name the person" in page.text
    assert [m.to for m in mail.outbox] == [[member.email]]
    path = LINK.search(mail.outbox[0].body).group(1)
    # Signed in as someone else: asked to sign in with the invited account.
    assert "Sign in with it to accept" in client.get(path).text
    client.force_login(member)
    response = committed(client.post, path)
    assert response["Location"] == "/events/launch/"
    member.refresh_from_db()
    assert member.is_verified_official and member.verification_method == VerificationMethod.INVITATION
    assert member.organisation == city
    assert Invitation.objects.get(email=member.email).state == InvitationState.ACCEPTED


def test_control_room_counts(client, event):
    staff = make_user("staff")
    client.force_login(staff)
    page = client.get("/events/launch/control")
    assert "0 invitations sent" in page.text and "/events/launch/invite" in page.text


def count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_invite_page_and_control_room_budgets(client, event, django_assert_num_queries):
    staff = make_user("staff")
    client.force_login(staff)
    RegistrationFactory(event=event, user=UserFactory())
    invite_page, control = count(client, "/events/launch/invite"), count(client, "/events/launch/control")
    for _ in range(5):
        RegistrationFactory(event=event, user=UserFactory())
    rows = [
        InviteRow(email=f"p{n}@mail.example", organisation_obj=OrganisationFactory(), line=n)
        for n in range(5)
    ]
    invite_many(staff, rows, occasion=services.invitation_occasion(event))
    with django_assert_num_queries(invite_page):
        client.get("/events/launch/invite")
    with django_assert_num_queries(control):
        client.get("/events/launch/control")
    assert invite_page <= 8


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_no_invitation_to_an_event_nobody_can_see(client, status):
    EventFactory(slug="hidden", status=status)
    client.force_login(make_user("staff"))
    assert "Upload and invite" not in client.get("/events/hidden/invite").text
    response = client.post("/events/hidden/invite", {"action": "invite_one", "email": "x@mail.example"})
    assert response.status_code == 400 and not Invitation.objects.exists()
