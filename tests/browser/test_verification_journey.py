"""A newcomer signs up, confirms their email, is told why they cannot post, and asks to be verified."""

import re

import pytest
from django.core import mail

from accounts import services
from accounts.models import User, VerificationRequest
from tests.browser_fixtures import audit
from tests.factories import ModeratorFactory, OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase-42"


def test_sign_up_confirm_and_request_verification(page):
    OrganisationFactory(name="City of Harare", slug="harare")

    page.goto("/accounts/signup/")
    audit(page)
    page.get_by_label("Email").fill("someone@gmail.com")
    page.get_by_label("Username").fill("someone")
    page.get_by_label("Your name").fill("Rudo Chikwanha")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    audit(page)

    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    audit(page)
    page.get_by_role("button", name="Confirm").click()

    page.goto("/verification/")
    assert "Only verified officials can post" in page.content()
    audit(page)
    page.get_by_label("Your organisation").select_option(label="City of Harare")
    page.get_by_label("Your position").fill("Head of ICT Division")
    page.get_by_label("Link to an official page that names you").fill("https://harare.example/ict")
    page.get_by_label("Message to the moderators").fill("I lead the ICT division.")
    page.get_by_role("button", name="Send my request").click()
    page.get_by_text("A moderator will review your request.").wait_for()
    audit(page)

    request = VerificationRequest.objects.get(user__username="someone")
    services.approve_verification_request(
        request, moderator=ModeratorFactory(), organisation=request.organisation, position=request.position
    )
    page.reload()
    assert "You are a verified official of City of Harare" in page.content()
    assert User.objects.get(username="someone").is_verified_official


def test_directory_and_profile_at_360_px(phone_page):
    from tests.factories import OfficialFactory

    person = OfficialFactory(display_name="Tendai Moyo", organisation=OrganisationFactory(name="Harare"))
    person.expertise.add("digital inclusion")
    phone_page.goto("/u/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(phone_page)
    phone_page.goto(f"/u/{person.username}")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(phone_page)
    phone_page.goto("/organisations/")
    audit(phone_page)


def test_staff_are_sent_to_enrolment_then_work_the_queue(page):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory

    staff = StaffFactory(email="staff@metropolis.example")
    city = OrganisationFactory(name="City of Quito", slug="quito")
    services.request_verification(
        UserFactory(display_name="Rosa Andrade"),
        position="Data officer",
        organisation=city,
        evidence=services.Evidence(url="https://quito.example/staff"),
    )
    page.goto("/accounts/login/")
    audit(page)
    page.locator("#id_login").fill(staff.email)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    page.goto("/review/verifications")
    # Signed in seconds ago: enrolment opens with no "Confirm access" (password) step in between.
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    assert "must protect their account with two-factor authentication" in page.content()
    audit(page)

    TOTP.activate(staff, generate_totp_secret())
    page.goto("/review/verifications")
    assert "Rosa Andrade" in page.content()
    audit(page)
    page.get_by_role("button", name="Approve").first.click()
    page.get_by_text("Rosa Andrade is now a verified official.").wait_for()
    for url in (
        "/review/verifications/audit",
        "/organisations/quito/edit",
        "/profile/edit",
        "/organisations/new",
    ):
        page.goto(url)
        audit(page)


def test_verification_page_is_usable_at_360_px(phone_page):
    from tests.factories import DEFAULT_PASSWORD, UserFactory

    member = UserFactory(email="member@gmail.com")
    OrganisationFactory(name="Metropolitan Area of Barcelona (AMB)")
    phone_page.goto("/accounts/login/")
    phone_page.locator("#id_login").fill(member.email)
    phone_page.locator("#id_password").fill(DEFAULT_PASSWORD)
    phone_page.get_by_role("button", name="Sign In").click()
    phone_page.wait_for_url(lambda url: "/accounts/login/" not in url)
    phone_page.goto("/verification/")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(phone_page)
    # Bad input: the page says what is wrong and keeps what was typed.
    phone_page.get_by_label("Your position").fill("Head of Smart City")
    phone_page.get_by_label("Link to an official page that names you").fill("javascript:alert(1)")
    phone_page.get_by_role("button", name="Send my request").click()
    phone_page.get_by_text("Enter a link that starts with http:// or https://.").first.wait_for()
    assert phone_page.get_by_label("Your position").input_value() == "Head of Smart City"
    audit(phone_page)
