"""Verification decisions by moderators and staff appear in the moderation log as well."""

import pytest

from accounts import services as accounts
from accounts.models import VerificationMethod
from forum.models import ModerationAction, ModerationLogEntry
from tests.factories import ModeratorFactory, OfficialFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_moderator_verifying_then_revoking_is_logged_with_the_reason():
    moderator = ModeratorFactory()
    member = UserFactory()
    accounts.verify_official(
        member, OrganisationFactory(), method=VerificationMethod.REVIEW, actor=moderator, position="Director"
    )
    accounts.revoke_verification(member, actor=moderator, reason="Left the city administration")

    entries = list(ModerationLogEntry.objects.filter(target_user=member).order_by("created_at", "pk"))
    assert [entry.action for entry in entries] == [ModerationAction.VERIFY, ModerationAction.REVOKE]
    assert all(entry.actor == moderator for entry in entries)
    assert entries[1].reason == "Left the city administration"
    assert entries[1].details == {"from": "verified", "to": "revoked"}


def test_automatic_changes_are_not_moderator_actions():
    official = OfficialFactory()  # Verified by the system, with no actor.
    accounts.revoke_verification(official, actor=None, reason="Domain removed")
    assert not ModerationLogEntry.objects.filter(target_user=official).exists()


def test_moderators_read_the_log_without_the_verification_decisions(client):
    from forum import services
    from tests.conftest import make_user
    from tests.factories import TopicFactory

    moderator = ModeratorFactory()
    member = UserFactory(display_name="Rosa Andrade")
    accounts.verify_official(
        member, OrganisationFactory(), method=VerificationMethod.REVIEW, actor=moderator, position="Director"
    )
    topic = TopicFactory(title="Open data portals in every member city")
    services.close_topic(topic, by=moderator)

    client.force_login(make_user("moderator"))
    page = client.get("/review/log").content.decode()
    assert "Open data portals in every member city" in page
    assert member.username not in page
    assert 'value="verify"' not in page  # nor offered as a filter
    csv_rows = b"".join(client.get("/review/log.csv").streaming_content).decode()
    assert "close" in csv_rows and "verify" not in csv_rows

    client.force_login(make_user("staff"))
    page = client.get("/review/log").content.decode()
    assert member.username in page and "Open data portals in every member city" in page
