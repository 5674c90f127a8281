"""Invitations: a moderator invites by email (one or a CSV); the invitee's link creates an account
that is already a verified official (route "invitation"); used, expired and revoked links say so."""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from accounts import invitations, services
from accounts.models import Invitation, InvitationState, User, VerificationEvent, VerificationMethod
from forum.models import ModerationAction, ModerationLogEntry
from notifications.models import OutboxMessage, OutboxState
from tests.conftest import make_user
from tests.factories import OfficialFactory, OrganisationDomainFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def committed(func, *args, **kwargs):
    """Call and commit: the outbox sends and the moderation log writes after commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return func(*args, **kwargs)


LINK = re.compile(r"http://[^\s]+/invites/([\w-]+)")


@pytest.fixture
def moderator():
    return make_user("moderator")


@pytest.fixture
def harare():
    return OrganisationFactory(name="City of Harare", short_name="Harare", slug="harare", language="fr")


def token_in(message) -> str:
    return LINK.search(message.body).group(1)


def test_invite_one_sends_one_email_in_the_invitees_language(moderator, harare):
    occasion = invitations.Occasion(
        key="event:7",
        titles={"en": "Launch webinar", "es": "Seminario de lanzamiento"},
        starts_at=timezone.now() + timedelta(days=1),
        time_zone="Europe/Madrid",
        landing_url="/events/launch/",
    )
    invitation = committed(
        invitations.invite_one,
        moderator,
        "Ana@Harare.example",
        organisation=harare,
        name="Ana",
        language="es",
        occasion=occasion,
    )
    assert invitation.email == "ana@harare.example"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@harare.example"]
    assert "Seminario de lanzamiento" in message.subject
    assert moderator.name in message.subject
    assert "Europe/Madrid" in message.body
    token = token_in(message)
    assert invitation.token_hash == invitations.hash_token(token) and token not in invitation.token_hash
    row = OutboxMessage.objects.get(kind="invitation")
    assert row.state == OutboxState.SENT and invitation.last_message_id == row.pk
    # The moderation log says who invited whom.
    entry = ModerationLogEntry.objects.get(action=ModerationAction.INVITE)
    assert entry.actor == moderator and entry.target_label == "ana@harare.example"


def test_language_falls_back_to_the_organisations(moderator, harare):
    invitation = committed(invitations.invite_one, moderator, "luc@mail.example", organisation=harare)
    assert invitation.language == "fr"


def test_accepting_creates_a_verified_official_and_lands_on_the_event(client, moderator, harare, settings):
    invitation = committed(
        invitations.invite_one,
        moderator,
        "ana@mail.example",
        organisation=harare,
        position="Head of ICT Division",
        occasion=invitations.Occasion(key="event:1", titles={"en": "Launch"}, landing_url="/events/launch/"),
    )
    token = token_in(mail.outbox[0])
    page = client.get(f"/invites/{token}")
    assert page.status_code == 200
    assert 'value="Head of ICT Division"' in page.text  # position prefilled
    response = committed(
        client.post,
        f"/invites/{token}",
        {"display_name": "Ana Moyo", "position": "Head of ICT Division", "password": "a-long-password-42"},
    )
    assert response.status_code == 302 and response["Location"] == "/events/launch/"
    user = User.objects.get(email="ana@mail.example")
    assert (
        user.display_name == "Ana Moyo"
        and user.organisation == harare
        and user.check_password("a-long-password-42")
    )
    assert user.is_verified_official and user.verification_method == VerificationMethod.INVITATION
    days = settings.VERIFICATION_VALID_DAYS["invitation"]
    assert abs((user.verification_expires_at - user.verified_at) - timedelta(days=days)) < timedelta(
        seconds=5
    )
    assert EmailAddress.objects.get(user=user).verified
    event = VerificationEvent.objects.get(subject=user, action="verify")
    assert event.actor == moderator and event.method == "invitation" and moderator.username in event.reason
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.ACCEPTED and invitation.accepted_by == user
    assert client.session["_auth_user_id"] == str(user.pk)
    # The link worked once.
    client.logout()
    again = client.get(f"/invites/{token}")
    assert again.status_code == 410 and "already been used" in again.text
    assert "/sign-in-link" in again.text


def test_no_password_means_sign_in_links(client, moderator, harare):
    committed(invitations.invite_one, moderator, "bo@mail.example", organisation=harare)
    token = token_in(mail.outbox[0])
    committed(client.post, f"/invites/{token}", {"display_name": "Bo", "position": "", "password": ""})
    user = User.objects.get(email="bo@mail.example")
    assert not user.has_usable_password() and user.is_verified_official
    client.logout()
    mail.outbox.clear()
    assert committed(client.post, "/sign-in-link", {"email": "BO@mail.example"}).status_code == 200
    link = re.search(r"http://[^\s]+(/sign-in-link/[^\s]+)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200  # a button: mail scanners do not sign in
    assert "_auth_user_id" not in client.session
    assert committed(client.post, link).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    assert committed(client.post, link)["Location"] == "/sign-in-link"  # used up


def test_weak_password_keeps_the_form(client, moderator, harare):
    committed(invitations.invite_one, moderator, "cy@mail.example", organisation=harare, name="Cy")
    token = token_in(mail.outbox[0])
    response = committed(client.post, f"/invites/{token}", {"display_name": "Cy", "password": "123"})
    assert response.status_code == 400 and 'value="Cy"' in response.text
    assert not User.objects.filter(email="cy@mail.example").exists()


def test_official_domain_verifies_by_the_domain_rule(client, moderator):
    domain = OrganisationDomainFactory(domain="toronto.example")
    invitation = committed(invitations.invite_one, moderator, "jo@toronto.example")
    assert invitation.organisation == domain.organisation
    committed(
        client.post,
        f"/invites/{token_in(mail.outbox[0])}",
        {"display_name": "Jo", "password": "a-long-password-42"},
    )
    user = User.objects.get(email="jo@toronto.example")
    assert (
        user.verification_method == VerificationMethod.EMAIL_DOMAIN
        and user.verification_domain == "toronto.example"
    )


def test_expired_and_revoked_links_say_so(client, moderator, harare):
    committed(invitations.invite_one, moderator, "old@mail.example", organisation=harare)
    old_token = token_in(mail.outbox[0])
    late = committed(invitations.invite_one, moderator, "late@mail.example", organisation=harare)
    late_token = token_in(mail.outbox[1])
    committed(invitations.revoke, Invitation.objects.get(email="old@mail.example"), actor=moderator)
    revoked = client.get(f"/invites/{old_token}")
    assert revoked.status_code == 410 and "withdrawn" in revoked.text
    assert ModerationLogEntry.objects.filter(action=ModerationAction.REVOKE_INVITATION).count() == 1
    with time_machine.travel(late.expires_at + timedelta(minutes=1)):
        expired = client.get(f"/invites/{late_token}")
        assert (
            expired.status_code == 410 and "expired" in expired.text and "Ask for a new link" in expired.text
        )
        mail.outbox.clear()
        committed(client.post, f"/invites/{late_token}/new-link")
        assert [m.to for m in mail.outbox] == [["late@mail.example"]]
        committed(client.post, f"/invites/{late_token}/new-link")  # at most once an hour
        assert len(mail.outbox) == 1
    assert client.get("/invites/not-a-token").status_code == 404


def test_csv_report(moderator, harare):
    UserFactory(email="member@mail.example")
    committed(invitations.invite_one, moderator, "pending@mail.example", organisation=harare)
    text = (
        "email,name,position,organisation,language,groups\n"
        "a@mail.example,A,Mayor,Harare,es,ict;launch\n"
        "not-an-email,B,,Harare,,\n"
        "c@mail.example,C,,Atlantis,,\n"
        "A@mail.example,A again,,harare,,\n"
        "member@mail.example,M,,Harare,,\n"
        "pending@mail.example,P,,Harare,,\n"
        "d@mail.example,D,,Harare,xx,\n"
        ",,,,,\n"
        "e@mail.example,E,,city of harare,,\n"
    )
    rows, problems = invitations.parse_csv(text)
    report = committed(invitations.invite_many, moderator, rows)
    assert [i.email for i in report.invited] == ["a@mail.example", "e@mail.example"]
    assert report.invited[0].group_names == ["ict", "launch"] and report.invited[0].language == "es"
    assert [(p.line, p.email) for p in report.problems] == [
        (3, "not-an-email"),
        (4, "c@mail.example"),
        (8, "d@mail.example"),
    ]
    assert "Atlantis" in report.problems[1].reason
    assert [p.line for p in report.duplicates] == [5, 7]
    assert [p.email for p in report.members] == ["member@mail.example"]


def test_daily_limit(moderator, harare, settings):
    settings.INVITATIONS_PER_DAY = 2
    rows = [
        invitations.InviteRow(email=f"p{n}@mail.example", organisation_obj=harare, line=n) for n in range(3)
    ]
    report = committed(invitations.invite_many, moderator, rows)
    assert len(report.invited) == 2 and "daily limit" in report.problems[0].reason
    with pytest.raises(invitations.InvitationError):
        committed(invitations.resend, report.invited[0], actor=moderator)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        committed(invitations.resend, report.invited[0], actor=moderator)


def test_resend_kills_the_old_link(client, moderator, harare):
    invitation = committed(invitations.invite_one, moderator, "re@mail.example", organisation=harare)
    first = token_in(mail.outbox[0])
    committed(invitations.resend, invitation, actor=moderator)
    second = token_in(mail.outbox[1])
    assert client.get(f"/invites/{first}").status_code == 404
    assert client.get(f"/invites/{second}").status_code == 200
    assert OutboxMessage.objects.filter(kind="invitation").count() == 2


def test_members_cannot_invite(harare):
    with pytest.raises(invitations.InvitationError):
        committed(invitations.invite_one, OfficialFactory(), "x@mail.example", organisation=harare)


def test_review_pages(client, moderator, harare):
    client.force_login(moderator)
    upload = SimpleUploadedFile(
        "list.csv",
        b"email,name,organisation\nn1@mail.example,N1,Harare\nbad,,Harare\n",
        content_type="text/csv",
    )
    page = committed(client.post, "/review/invitations/new", {"action": "invite_csv", "attendees": upload})
    assert page.status_code == 200
    assert "1 invitation sent" in page.text and "“bad” is not a valid email address" in page.text
    response = committed(
        client.post,
        "/review/invitations/new",
        {"action": "invite_one", "email": "n2@mail.example", "organisation": harare.pk},
    )
    assert response.status_code == 302
    invitations.invite_one(
        moderator,
        "n3@mail.example",
        organisation=harare,
        occasion=invitations.Occasion(key="event:3", titles={"en": "Launch", "fr": "Lancement"}),
    )
    assert "Lancement" in client.get("/review/invitations", HTTP_ACCEPT_LANGUAGE="fr").text
    listing = client.get("/review/invitations?status=pending")
    assert "n1@mail.example" in listing.text and "n2@mail.example" in listing.text
    invitation = Invitation.objects.get(email="n2@mail.example")
    committed(client.post, f"/review/invitations/{invitation.pk}", {"action": "revoke"})
    client.get("/review/invitations")  # shows the "revoked" message
    assert "<td>n2@mail.example" not in client.get("/review/invitations?status=pending").text
    assert "<td>n2@mail.example" in client.get("/review/invitations?status=revoked").text
    OutboxMessage.objects.filter(to="n1@mail.example").update(state=OutboxState.FAILED)
    assert "n1@mail.example" in client.get("/review/invitations?status=bounced").text
    exported = b"".join(client.get("/review/invitations.csv").streaming_content).decode()
    assert "n1@mail.example" in exported and "revoked" in exported


def test_invitation_link_renews_no_one_else(moderator, harare):
    # An invitation to an address that meanwhile signed up is refused at acceptance.
    committed(invitations.invite_one, moderator, "late@mail.example", organisation=harare)
    token = token_in(mail.outbox[0])
    UserFactory(email="late@mail.example")
    with pytest.raises(invitations.InvitationError):
        invitations.accept(token, name="X", position="")
    assert services.find_domain("late@mail.example") is None


def test_the_sign_in_page_offers_the_emailed_link(client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and 'href="/sign-in-link"' in page.text


def test_sign_in_links_skip_no_second_factor_and_do_not_flood(client):
    moderator = make_user("moderator")  # has a second factor
    assert client.post("/sign-in-link", {"email": moderator.email}).status_code == 200
    assert mail.outbox == []
    member = UserFactory()
    committed(client.post, "/sign-in-link", {"email": member.email})
    committed(client.post, "/sign-in-link", {"email": member.email})
    assert len(mail.outbox) == 1
    # A link made before the person enrolled a second factor stops working.
    path = services.sign_in_link_path(moderator)
    assert client.post(path)["Location"] == "/sign-in-link"
    assert "_auth_user_id" not in client.session
