"""One row per view and role: who may open each accounts page, and what the others get."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import invitations, services
from accounts.models import Invitation
from tests.conftest import ROLES, make_user
from tests.factories import OfficialFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the sign-in page
ADMIN_LOGIN = "admin-login"
EVERYONE = dict.fromkeys(ROLES, 200)
SIGNED_IN = {**dict.fromkeys(ROLES, 200), "anonymous": LOGIN}
MODERATORS = {**dict.fromkeys(ROLES, 403), "anonymous": LOGIN, "moderator": 200, "staff": 200}
STAFF = {**MODERATORS, "moderator": 403}


def expect(table, **overrides):
    return {**table, **overrides}


MATRIX = [
    ("get", "/u/", EVERYONE),
    ("get", "/u/{official}", EVERYONE),
    ("get", "/letter_avatar/{official}/48/x.svg", EVERYONE),
    ("post", "/u/{official}/revoke", expect(MODERATORS, moderator=302, staff=302)),
    ("get", "/profile/edit", SIGNED_IN),
    ("get", "/verification/", SIGNED_IN),
    ("post", "/verification/renewal", expect(SIGNED_IN, **dict.fromkeys(ROLES[1:], 302))),
    ("get", "/verification/renew/{token}/", EVERYONE),
    ("get", "/review/verifications", MODERATORS),
    ("post", "/review/verifications/{request}/decide", expect(MODERATORS, moderator=302, staff=302)),
    ("get", "/review/verifications/{request}/evidence", MODERATORS),
    ("get", "/review/verifications/audit", STAFF),
    ("get", "/review/verifications/audit.csv", STAFF),
    ("get", "/organisations/", EVERYONE),
    ("get", "/organisations/{organisation}/", EVERYONE),
    ("get", "/review/invitations", MODERATORS),
    ("get", "/review/invitations.csv", MODERATORS),
    ("get", "/review/invitations/new", MODERATORS),
    ("post", "/review/invitations/{invitation}", expect(MODERATORS, moderator=302, staff=302)),
    ("get", "/invites/{invite_token}", EVERYONE),
    ("get", "/invites/not-a-token", dict.fromkeys(ROLES, 404)),
    ("post", "/invites/{invite_token}/new-link", dict.fromkeys(ROLES, 302)),
    ("get", "/sign-in-link", EVERYONE),
    ("get", "/sign-in-link/not-a-token", dict.fromkeys(ROLES, 302)),
    ("get", "/organisations/new", STAFF),
    ("get", "/organisations/{organisation}/edit", STAFF),
    (
        "get",
        "/admin/",
        {**dict.fromkeys(ROLES, ADMIN_LOGIN), "staff": 200},
    ),
]


@pytest.fixture
def objects():
    official = OfficialFactory()
    request = services.request_verification(
        UserFactory(),
        position="Clerk",
        organisation=official.organisation,
        evidence=services.Evidence(file=SimpleUploadedFile("a.pdf", b"%PDF-1.4 test")),
    )
    invite_token, token_hash = invitations.new_token()
    invitation = invitations.invite_one(
        make_user("moderator"), "guest@mail.example", organisation=official.organisation
    )
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=token_hash)
    return {
        "invitation": invitation.pk,
        "invite_token": invite_token,
        "official": official.username,
        "request": request.pk,
        "organisation": OrganisationFactory().slug,
        "token": services.renewal_token(official),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, _e in MATRIX])
def test_permission_matrix(client_as, objects, role, method, url, expected):
    client = client_as(role)
    response = getattr(client, method)(url.format(**objects))
    want = expected[role]
    if want == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif want == ADMIN_LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == want
