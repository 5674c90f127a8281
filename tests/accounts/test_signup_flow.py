"""Sign-up through allauth's real views: confirmation email, then verification by domain."""

import re

import pytest
from django.core import mail

from accounts.models import User, VerificationEvent, VerificationMethod, VerificationState
from notifications.models import OutboxMessage, OutboxState
from tests.factories import OrganisationDomainFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-42"


def sign_up_and_confirm(client, email, username, capture, position=""):
    # allauth's email is owed in the outbox with the sign-up and sent after commit.
    with capture(execute=True):
        response = client.post(
            "/accounts/signup/",
            {
                "email": email,
                "username": username,
                "password1": PASSWORD,
                "password2": PASSWORD,
                "display_name": username.title(),
                "position": position,
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get(to=email).state == OutboxState.SENT
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mail.outbox[0].body).group(1)
    assert client.get(link).status_code == 200
    with capture(execute=True):
        response = client.post(link)
    assert response.status_code == 302
    return User.objects.get(username=username)


def test_signing_up_on_an_official_domain_makes_a_verified_official(
    client, django_capture_on_commit_callbacks
):
    toronto = OrganisationFactory(
        name="City of Toronto", short_name="Toronto", slug="toronto"
    )  # badge: short name
    OrganisationDomainFactory(organisation=toronto, domain="toronto.example")

    user = sign_up_and_confirm(
        client,
        "someone@toronto.example",
        "someone",
        django_capture_on_commit_callbacks,
        position="Open Data Lead",
    )

    assert user.verification_state == VerificationState.VERIFIED
    assert user.verification_method == VerificationMethod.EMAIL_DOMAIN
    assert user.organisation == toronto
    assert user.verification_expires_at is not None
    event = VerificationEvent.objects.get(subject=user)
    assert (event.from_state, event.to_state, event.method) == ("unverified", "verified", "email_domain")
    assert event.ip_address == "127.0.0.1"
    assert mail.outbox[-1].subject.endswith("You are now a verified official")
    assert "City of Toronto" in mail.outbox[-1].body
    # Signed in on confirmation; the profile shows the badge.
    page = client.get(f"/u/{user.username}").content.decode()
    assert "Verified official" in page
    assert "Open Data Lead, Toronto" in page


def test_subdomains_count_only_when_the_domain_says_so(client, django_capture_on_commit_callbacks):
    harare = OrganisationFactory(name="City of Harare", slug="harare")
    OrganisationDomainFactory(organisation=harare, domain="harare.example", include_subdomains=True)
    OrganisationDomainFactory(domain="toronto.example", include_subdomains=False)

    official = sign_up_and_confirm(client, "a@ict.harare.example", "ana", django_capture_on_commit_callbacks)
    assert official.verification_state == VerificationState.VERIFIED
    assert official.organisation == harare

    client.logout()
    mail.outbox.clear()
    other = sign_up_and_confirm(client, "b@parks.toronto.example", "ben", django_capture_on_commit_callbacks)
    assert other.verification_state == VerificationState.UNVERIFIED


def test_signing_up_elsewhere_leaves_a_member_who_is_told_why(client, django_capture_on_commit_callbacks):
    OrganisationDomainFactory(domain="toronto.example")
    user = sign_up_and_confirm(client, "someone@gmail.com", "someone", django_capture_on_commit_callbacks)
    assert user.verification_state == VerificationState.UNVERIFIED
    assert not VerificationEvent.objects.exists()
    page = client.get("/verification/").content.decode()
    assert "Only verified officials can post" in page


def test_an_email_already_in_use_does_not_reveal_the_account(client, django_capture_on_commit_callbacks):
    OrganisationDomainFactory(domain="toronto.example")
    from tests.factories import UserFactory

    UserFactory(email="taken@toronto.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {
                "email": "taken@toronto.example",
                "username": "newname",
                "display_name": "New Name",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    # Same answer as a fresh address (no enumeration); the owner gets a warning instead.
    assert response.status_code == 302
    assert not User.objects.filter(username="newname", emailaddress__verified=True).exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["taken@toronto.example"]


def test_a_domain_verified_official_adds_their_position(client, django_capture_on_commit_callbacks):
    OrganisationDomainFactory(domain="toronto.example")
    user = sign_up_and_confirm(
        client, "someone@toronto.example", "someone", django_capture_on_commit_callbacks
    )
    assert "Add your position to your profile" in client.get("/verification/").content.decode()
    client.post(
        "/profile/edit",
        {"display_name": "Sam One", "username": "someone", "position": "Open Data Lead", "time_zone": "UTC"},
    )
    user.refresh_from_db()
    assert user.position == "Open Data Lead"
    assert "Open Data Lead" in client.get("/u/someone").content.decode()
