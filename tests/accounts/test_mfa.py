"""Moderators and staff reach no moderation, review or admin page before enrolling in TOTP."""

import time
from unittest import mock

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.decorators import moderator_required, staff_required
from tests.factories import DEFAULT_PASSWORD, ModeratorFactory, OfficialFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("factory", "url"),
    [
        (ModeratorFactory, "/review/verifications"),
        (StaffFactory, "/review/verifications/audit"),
        (StaffFactory, "/organisations/new"),
        (StaffFactory, "/admin/"),
    ],
)
def test_without_mfa_they_are_sent_to_enrolment_with_an_explanation(client, factory, url):
    user = factory()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    page = client.get(response["Location"], follow=True).content.decode()
    assert "must protect their account with two-factor authentication" in page

    TOTP.activate(user, generate_totp_secret())
    assert client.get(url).status_code == 200


def test_the_decorators_check_login_role_then_mfa():
    @moderator_required
    def moderation_page(request):
        return HttpResponse("ok")

    @staff_required
    def staff_page(request):
        return HttpResponse("ok")

    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.core.exceptions import PermissionDenied

    def call(view, user):
        request = RequestFactory().get("/somewhere")
        request.user = user
        request.session = {}
        request._messages = FallbackStorage(request)
        return view(request)

    assert call(moderation_page, AnonymousUser())["Location"].startswith("/accounts/login/?next=/somewhere")
    with pytest.raises(PermissionDenied):
        call(moderation_page, OfficialFactory())
    moderator = ModeratorFactory()
    assert call(moderation_page, moderator)["Location"] == "/accounts/2fa/totp/activate/"
    TOTP.activate(moderator, generate_totp_secret())
    assert call(moderation_page, moderator).content == b"ok"
    with pytest.raises(PermissionDenied):
        call(staff_page, moderator)


def test_a_fresh_sign_in_is_not_asked_to_confirm_access_again(client):
    """Signing in, then enrolling the second factor at once, asks for the password only once."""
    moderator = ModeratorFactory()
    response = client.post("/accounts/login/", {"login": moderator.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    response = client.get("/review/verifications")
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    assert "must protect their account with two-factor authentication" in response.content.decode()

    # A quarter of an hour later, allauth asks again.
    later = time.time() + 16 * 60
    with mock.patch("allauth.account.internal.flows.reauthentication.time.time", return_value=later):
        response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_a_sign_in_through_an_emailed_link_still_confirms_access(client):
    moderator = ModeratorFactory()
    client.force_login(moderator)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
