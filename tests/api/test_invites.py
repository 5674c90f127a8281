"""POST /invites.json and POST /invites/upload_csv in Discourse's shapes, with the pages' rules."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from accounts.models import Invitation
from tests.conftest import ROLES
from tests.factories import OrganisationDomainFactory, OrganisationFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def committed(func, *args, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return func(*args, **kwargs)


def test_invite_to_a_topic(api_as):
    city = OrganisationFactory(name="Lyon", slug="lyon")
    topic = TopicFactory()
    moderator = api_as("moderator")
    response = committed(
        moderator.post,
        "/invites.json",
        {
            "email": "Eve@mail.example",
            "topic_id": topic.pk,
            "group_names": "ict,launch",
            "custom_message": "Join us",
            "organisation": "lyon",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["email"] == "eve@mail.example" and body["emailed"] is True and body["expired"] is False
    assert body["topics"] == [{"id": topic.pk, "title": topic.title}]
    assert body["groups"] == [{"name": "ict"}, {"name": "launch"}]
    assert "link" not in body and "invite_key" not in body
    invitation = Invitation.objects.get()
    assert invitation.organisation == city and invitation.landing_url == topic.get_absolute_url()
    assert len(mail.outbox) == 1 and "Join us" in mail.outbox[0].body
    # The same address again: 422 with the reason, nothing sent.
    again = committed(moderator.post, "/invites.json", {"email": "eve@mail.example", "organisation": city.pk})
    assert again.status_code == 422 and "resend" in again.json()["errors"][0]
    assert len(mail.outbox) == 1


def test_invite_refusals(api_as):
    assert api_as("verified").post("/invites.json", {"email": "x@mail.example"}).status_code == 403
    assert api_as("anonymous").post("/invites.json", {"email": "x@mail.example"}).status_code == 403
    moderator = api_as("moderator")
    assert moderator.post("/invites.json", {}).status_code == 400
    response = moderator.post("/invites.json", {"email": "x@mail.example", "organisation": "Atlantis"})
    assert response.status_code == 400 and "Atlantis" in response.json()["errors"][0]
    assert not Invitation.objects.exists()


def test_upload_csv_in_discourses_columns(api_as):
    OrganisationFactory(name="Lyon", slug="lyon")
    topic = TopicFactory()
    UserFactory(email="member@mail.example")
    moderator = api_as("moderator")
    text = f"a@lyon.example,ict,{topic.pk}\nnot-an-email,,\nmember@mail.example,,\nb@lyon.example,,999999\n"
    OrganisationDomainFactory(domain="lyon.example")
    upload = SimpleUploadedFile("invites.csv", text.encode(), content_type="text/csv")
    response = committed(moderator.post, "/invites/upload_csv", {"file": upload})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] == "OK" and body["invited"] == 1
    assert [(item["line"], item["email"]) for item in body["skipped"]] == [
        (2, "not-an-email"),
        (3, "member@mail.example"),
        (4, "b@lyon.example"),
    ]
    invitation = Invitation.objects.get()
    assert invitation.group_names == ["ict"] and invitation.occasion == f"topic:{topic.pk}"
    assert len(mail.outbox) == 1
    empty = SimpleUploadedFile("invites.csv", b"bad\n", content_type="text/csv")
    assert moderator.post("/invites/upload_csv.json", {"file": empty}).status_code == 422
    assert api_as("verified").post("/invites/upload_csv", {"file": empty}).status_code == 403


# role order: anonymous, member, verified, moderator, staff, silenced, suspended
@pytest.mark.parametrize(
    ("role", "status"), list(zip(ROLES, [403, 403, 403, 200, 200, 403, 403], strict=True))
)
def test_permission_matrix(api_as, role, status):
    OrganisationDomainFactory(domain="lyon.example")
    assert api_as(role).post("/invites.json", {"email": f"{role}@lyon.example"}).status_code == status
