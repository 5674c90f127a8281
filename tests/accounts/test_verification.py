"""The verification state machine in accounts/services.py, with its audit trail and notices."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import permissions, services
from accounts.models import (
    RosterEntry,
    VerificationEvent,
    VerificationMethod,
    VerificationRequest,
    VerificationState,
)
from tests.factories import (
    ModeratorFactory,
    OfficialFactory,
    OrganisationDomainFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def file_request(user, **kwargs):
    defaults = {
        "position": "Head of ICT Division",
        "organisation": OrganisationFactory(name="City of Harare", slug="harare"),
        "evidence": services.Evidence(url="https://harare.example/staff"),
        "message": "I lead the ICT division.",
    }
    defaults.update(kwargs)
    return services.request_verification(user, **defaults)


def test_member_requests_moderator_approves_and_member_can_participate(django_capture_on_commit_callbacks):
    member = UserFactory()
    moderator = ModeratorFactory()
    request = file_request(member, evidence=services.Evidence(file=SimpleUploadedFile("id.pdf", PDF)))
    member.refresh_from_db()
    assert member.verification_state == VerificationState.PENDING
    assert not permissions.can_participate(member)
    assert "waiting for a moderator" in permissions.posting_block_reason(member)
    stored = request.evidence_file.path

    with django_capture_on_commit_callbacks(execute=True):
        assert services.approve_verification_request(
            request, moderator=moderator, organisation=request.organisation, position="Head of ICT Division"
        )
    member.refresh_from_db()
    request.refresh_from_db()
    assert member.verification_state == VerificationState.VERIFIED
    assert member.verification_method == VerificationMethod.REVIEW
    assert member.organisation.name == "City of Harare"
    assert permissions.can_participate(member)
    assert permissions.posting_block_reason(member) is None
    # The evidence file is gone after the decision; its hash stays.
    assert not request.evidence_file
    assert len(request.evidence_sha256) == 64
    import os

    assert not os.path.exists(stored)
    assert mail.outbox[-1].to == [member.email]
    actions = list(
        VerificationEvent.objects.filter(subject=member).values_list("action", "actor", flat=False)
    )
    assert ("verify", moderator.pk) in actions and ("request", member.pk) in actions


def test_a_double_approval_changes_nothing(django_capture_on_commit_callbacks):
    member, moderator = UserFactory(), ModeratorFactory()
    request = file_request(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.approve_verification_request(
            request, moderator=moderator, organisation=request.organisation, position="Head"
        )
        assert not services.approve_verification_request(
            request, moderator=ModeratorFactory(), organisation=request.organisation, position="Other"
        )
    assert VerificationEvent.objects.filter(subject=member, action="verify").count() == 1
    assert len(mail.outbox) == 1
    member.refresh_from_db()
    assert member.position == "Head"


def test_a_second_request_while_one_is_pending_is_refused():
    member = UserFactory()
    file_request(member)
    with pytest.raises(services.VerificationError, match="already have a request"):
        file_request(member)
    assert VerificationRequest.objects.filter(user=member).count() == 1


def test_reject_with_reason_then_file_again(django_capture_on_commit_callbacks):
    member, moderator = UserFactory(), ModeratorFactory()
    request = file_request(member)
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_verification_request(
            request, moderator=moderator, reason="evidence_unclear", note="The page does not name you."
        )
    member.refresh_from_db()
    assert member.verification_state == VerificationState.REJECTED
    assert "The page does not name you." in mail.outbox[-1].body
    assert "not accepted" in permissions.posting_block_reason(member)
    with pytest.raises(services.VerificationError):
        services.reject_verification_request(request, moderator=moderator, reason="made-up")
    file_request(member, organisation=None, proposed_organisation="Town of Nowhere")
    member.refresh_from_db()
    assert member.verification_state == VerificationState.PENDING


def test_ask_for_more_then_resubmit_goes_back_to_the_queue(django_capture_on_commit_callbacks):
    member, moderator = UserFactory(), ModeratorFactory()
    request = file_request(member)
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_for_information(request, moderator=moderator, question="Which department?")
    request.refresh_from_db()
    assert request.state == VerificationRequest.State.NEEDS_INFORMATION
    assert "Which department?" in mail.outbox[-1].body
    services.resubmit_verification_request(request, position="Head of ICT", message="Department of ICT.")
    request.refresh_from_db()
    assert request.state == VerificationRequest.State.PENDING
    assert request.message == "Department of ICT."
    with pytest.raises(services.VerificationError):
        services.resubmit_verification_request(request, position="x")


def test_revocation_needs_a_reason_and_keeps_the_person_informed(django_capture_on_commit_callbacks):
    official, moderator = OfficialFactory(), ModeratorFactory()
    with pytest.raises(services.VerificationError):
        services.revoke_verification(official, actor=moderator, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.revoke_verification(official, actor=moderator, reason="Left the city", ip="10.0.0.1")
    official.refresh_from_db()
    assert official.verification_state == VerificationState.REVOKED
    assert not permissions.can_participate(official)
    assert "revoked" in permissions.posting_block_reason(official)
    event = VerificationEvent.objects.get(subject=official)
    assert (event.actor, event.reason, event.ip_address) == (moderator, "Left the city", "10.0.0.1")
    assert "Left the city" in mail.outbox[-1].body


def test_email_domain_verification_is_prompted_then_expires(settings, django_capture_on_commit_callbacks):
    settings.VERIFICATION_VALID_DAYS = {"email_domain": 365, "roster": 365, "review": 0}
    settings.VERIFICATION_REMINDER_DAYS = 30
    domain = OrganisationDomainFactory(domain="toronto.example")
    user = UserFactory(email="ana@toronto.example")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.handle_confirmed_email(user, user.email)
    user.refresh_from_db()
    assert user.verification_expires_at == start + timedelta(days=365)
    assert user.organisation == domain.organisation

    with time_machine.travel(start + timedelta(days=300), tick=False):
        assert services.expire_verifications() == (0, 0)
    with (
        time_machine.travel(start + timedelta(days=340), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.expire_verifications() == (1, 0)
        assert services.expire_verifications() == (0, 0)  # prompted once
    assert "/verification/renew/" in mail.outbox[-1].body
    renew_link = mail.outbox[-1].body.split("http://127.0.0.1:8000", 2)[1].split()[0]
    token = renew_link.rstrip("/").split("/")[-1]

    with (
        time_machine.travel(start + timedelta(days=366), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.expire_verifications() == (0, 1)
    user.refresh_from_db()
    assert user.verification_state == VerificationState.EXPIRED
    assert "expired" in permissions.posting_block_reason(user)

    # The link from the reminder still renews (within its 14 days), as the address is still official.
    with time_machine.travel(start + timedelta(days=350), tick=False):
        services.renew_verification(token)
    user.refresh_from_db()
    assert user.verification_state == VerificationState.VERIFIED


def test_reviewed_verification_does_not_expire_when_configured_so(settings):
    settings.VERIFICATION_VALID_DAYS = {"email_domain": 365, "roster": 365, "review": 0}
    member, moderator = UserFactory(), ModeratorFactory()
    request = file_request(member)
    services.approve_verification_request(
        request, moderator=moderator, organisation=request.organisation, position=""
    )
    member.refresh_from_db()
    assert member.verification_expires_at is None
    with time_machine.travel(timezone.now() + timedelta(days=2000)):
        assert services.expire_verifications() == (0, 0)


def test_removing_a_domain_revokes_those_verified_through_it(django_capture_on_commit_callbacks):
    staff = ModeratorFactory(is_staff=True)
    domain = OrganisationDomainFactory(domain="toronto.example")
    through_domain = UserFactory(email="a@toronto.example")
    services.handle_confirmed_email(through_domain, through_domain.email)
    reviewed = OfficialFactory(organisation=domain.organisation)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.remove_organisation_domain(domain, actor=staff) == 1
    through_domain.refresh_from_db()
    reviewed.refresh_from_db()
    assert through_domain.verification_state == VerificationState.REVOKED
    assert reviewed.verification_state == VerificationState.VERIFIED
    assert "toronto.example" in mail.outbox[-1].body
    assert mail.outbox[-1].to == ["a@toronto.example"]


def test_changing_email_away_from_the_domain_revokes_and_onto_it_verifies():
    domain = OrganisationDomainFactory(domain="toronto.example")
    user = UserFactory(email="a@toronto.example")
    services.handle_confirmed_email(user, user.email)
    services.handle_confirmed_email(user, "a@gmail.com")
    user.refresh_from_db()
    assert user.verification_state == VerificationState.REVOKED
    services.handle_confirmed_email(user, "a@toronto.example")
    user.refresh_from_db()
    assert user.verification_state == VerificationState.VERIFIED
    assert user.organisation == domain.organisation


def test_roster_verifies_on_confirmation_and_at_once_for_confirmed_addresses():
    staff = ModeratorFactory(is_staff=True)
    city = OrganisationFactory(name="Bilbao", slug="bilbao")
    already = UserFactory(email="known@bilbao.example")
    csv_text = "name,email\nKnown,Known@Bilbao.example\nNew,new@bilbao.example\nBad,bad@@x\n"
    added, verified_now, rejected = services.import_roster(city, csv_text, actor=staff)
    assert (added, verified_now, rejected) == (2, 1, ["bad@@x"])
    already.refresh_from_db()
    assert already.verification_state == VerificationState.VERIFIED
    assert already.verification_method == VerificationMethod.ROSTER
    # Importing again adds nobody twice.
    assert services.import_roster(city, csv_text, actor=staff)[0] == 0
    assert RosterEntry.objects.filter(organisation=city).count() == 2

    newcomer = UserFactory(email="new@bilbao.example")
    EmailAddress.objects.filter(user=newcomer).update(verified=False)
    services.handle_confirmed_email(newcomer, "new@bilbao.example")
    newcomer.refresh_from_db()
    assert newcomer.verification_state == VerificationState.VERIFIED
    assert newcomer.organisation == city


def test_the_audit_trail_is_append_only():
    official = OfficialFactory()
    services.revoke_verification(official, actor=None, reason="Test")
    event = VerificationEvent.objects.get()
    event.reason = "rewritten"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()


@pytest.mark.parametrize(
    "value", ["not a domain", "-bad.example", "exa mple.com", "toronto", "http://toronto.ca", "a..b.com", ""]
)
def test_malformed_domains_are_refused(value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.normalise_domain(value)


def test_domains_are_normalised():
    assert services.normalise_domain(" @Toronto.CA. ") == "toronto.ca"
    assert services.normalise_domain("bogotá.gov.co") == "xn--bogot-1qa.gov.co"


def test_renewing_before_the_end_moves_the_date_and_is_audited(client):
    OrganisationDomainFactory(domain="toronto.example")
    user = UserFactory(email="ana@toronto.example")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.handle_confirmed_email(user, user.email)
    with time_machine.travel(start + timedelta(days=335), tick=False):
        token = services.renewal_token(user)  # sent with the reminder
    later = start + timedelta(days=340)
    with time_machine.travel(later, tick=False):
        assert "Renew my verification" in client.get(f"/verification/renew/{token}/").content.decode()
        client.post(f"/verification/renew/{token}/")
    user.refresh_from_db()
    assert user.verification_state == VerificationState.VERIFIED
    assert user.verification_expires_at == later + timedelta(days=365)
    assert VerificationEvent.objects.filter(subject=user, action="renew").count() == 1
    response = client.post("/verification/renew/forged-token/", follow=True)
    assert "invalid or too old" in response.content.decode()


def test_the_periodic_task_expires_lapsed_verifications(settings):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from accounts.tasks import expire_verifications

    official = OfficialFactory(verification_expires_at=timezone.now() + timedelta(days=1))
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert tuple(expire_verifications.delay().get()) == (0, 1)
    official.refresh_from_db()
    assert official.verification_state == "expired"
    assert "accounts.expire_verifications" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_a_moderator_cannot_approve_their_own_request():
    moderator = ModeratorFactory(verification_state=VerificationState.UNVERIFIED)
    request = file_request(moderator)
    with pytest.raises(services.VerificationError):
        services.approve_verification_request(
            request, moderator=moderator, organisation=request.organisation, position="x"
        )
