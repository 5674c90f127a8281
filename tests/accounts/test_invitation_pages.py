"""What the invitation pages cost (their rows of the permission matrix are in test_permissions_matrix)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import invitations
from tests.conftest import make_user
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def invite(inviter, n, start=0):
    organisation = OrganisationFactory()
    rows = [
        invitations.InviteRow(email=f"p{i}@mail.example", organisation_obj=organisation, line=i)
        for i in range(start, start + n)
    ]
    return invitations.invite_many(inviter, rows)


def test_invitation_list_budget(client, django_assert_num_queries):
    moderator = make_user("moderator")
    client.force_login(moderator)
    invite(moderator, 2)
    small = count(client, "/review/invitations")
    pending = count(client, "/review/invitations?status=pending")
    invite(moderator, 10, start=2)
    with django_assert_num_queries(small):
        client.get("/review/invitations")
    with django_assert_num_queries(pending):
        client.get("/review/invitations?status=pending")
    assert small <= 12


def test_accept_page_budget(client, django_assert_num_queries):
    moderator = make_user("moderator")
    report = invite(moderator, 1)
    token, token_hash = invitations.new_token()
    report.invited[0].token_hash = token_hash
    report.invited[0].save(update_fields=["token_hash"])
    small = count(client, f"/invites/{token}")
    assert small <= 4


def test_invite_page_budget(client, django_assert_num_queries):
    moderator = make_user("moderator")
    client.force_login(moderator)
    small = count(client, "/review/invitations/new")
    OrganisationFactory.create_batch(10)
    invite(moderator, 5)
    with django_assert_num_queries(small):
        client.get("/review/invitations/new")
    assert small <= 8
