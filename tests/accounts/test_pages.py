"""The accounts pages as people use them: requests, the review queue, organisations, the audit trail."""

import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts import services
from accounts.models import (
    OrganisationDomain,
    RosterEntry,
    VerificationEvent,
    VerificationRequest,
    VerificationState,
)
from tests.factories import OrganisationDomainFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


def png_bytes(size=(20, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#0b5cad").save(buffer, format="PNG")
    return buffer.getvalue()


def request_data(**extra):
    data = {
        "organisation": OrganisationFactory(name="City of Harare", slug="harare").pk,
        "position": "Head of ICT Division",
        "evidence_url": "https://harare.example/ict",
        "message": "I lead ICT.",
    }
    data.update(extra)
    return data


def test_member_files_a_request_and_a_moderator_approves_it_in_the_queue(
    client_as, client, django_capture_on_commit_callbacks
):
    member_client = client_as("member")
    member = member_client.user
    page = member_client.get("/verification/").content.decode()
    assert "Only verified officials can post" in page
    response = member_client.post(
        "/verification/", request_data(evidence_file=SimpleUploadedFile("letter.pdf", PDF)), follow=True
    )
    assert "A moderator will review your request." in response.content.decode()
    request = VerificationRequest.objects.get(user=member)
    assert request.evidence_sha256 and request.evidence_file

    moderator_client = client_as("moderator")
    queue = moderator_client.get("/review/verifications").content.decode()
    assert "Head of ICT Division" in queue
    assert f"/review/verifications/{request.pk}/evidence" in queue
    evidence = moderator_client.get(f"/review/verifications/{request.pk}/evidence")
    assert b"".join(evidence.streaming_content) == PDF
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(
            f"/review/verifications/{request.pk}/decide",
            {
                "action": "approve",
                f"r{request.pk}-organisation": request.organisation_id,
                f"r{request.pk}-position": "Head of ICT Division",
            },
            follow=True,
        )
    assert "is now a verified official" in response.content.decode()
    member.refresh_from_db()
    assert member.verification_state == VerificationState.VERIFIED
    assert mail.outbox[-1].to == [member.email]
    # The evidence is gone.
    assert moderator_client.get(f"/review/verifications/{request.pk}/evidence").status_code == 404
    # Approving again is harmless.
    response = moderator_client.post(
        f"/review/verifications/{request.pk}/decide",
        {
            "action": "approve",
            f"r{request.pk}-organisation": request.organisation_id,
            f"r{request.pk}-position": "x",
        },
        follow=True,
    )
    assert "already decided" in response.content.decode()
    assert VerificationEvent.objects.filter(subject=member, action="verify").count() == 1


def test_approving_a_proposed_organisation_creates_it(client_as):
    member = UserFactory()
    request = services.request_verification(
        member,
        position="Mayor's adviser",
        proposed_organisation="Municipality of Nowhere",
        evidence=services.Evidence(url="https://nowhere.example"),
    )
    moderator_client = client_as("moderator")
    moderator_client.post(
        f"/review/verifications/{request.pk}/decide",
        {
            "action": "approve",
            f"r{request.pk}-new_organisation": "Municipality of Nowhere",
            f"r{request.pk}-position": "Adviser",
        },
    )
    member.refresh_from_db()
    assert member.organisation.name == "Municipality of Nowhere"
    assert member.organisation.slug == "municipality-of-nowhere"


def test_reject_and_ask_from_the_queue(client_as, django_capture_on_commit_callbacks):
    member = UserFactory()
    request = services.request_verification(
        member,
        position="Clerk",
        organisation=OrganisationFactory(),
        evidence=services.Evidence(url="https://a.example"),
    )
    moderator_client = client_as("moderator")
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(
            f"/review/verifications/{request.pk}/decide",
            {"action": "ask", f"r{request.pk}-question": "Which department are you in?"},
        )
    request.refresh_from_db()
    assert request.state == VerificationRequest.State.NEEDS_INFORMATION
    # The member sees the question and answers it.
    client = Client()
    client.force_login(member)
    page = client.get("/verification/").content.decode()
    assert "Which department are you in?" in page
    client.post("/verification/", {"position": "Clerk, Department of ICT", "message": "ICT department."})
    request.refresh_from_db()
    assert request.state == VerificationRequest.State.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(
            f"/review/verifications/{request.pk}/decide",
            {"action": "reject", f"r{request.pk}-reason": "not_a_member", f"r{request.pk}-note": "Sorry."},
        )
    member.refresh_from_db()
    assert member.verification_state == VerificationState.REJECTED
    page = client.get("/verification/").content.decode()
    assert "Sorry." in page
    assert "Send my request" in page  # may file again


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"evidence_url": "javascript:alert(1)"}, "starts with http:// or https://"),
        ({"evidence_url": "ftp://harare.example/file"}, "starts with http:// or https://"),
        (
            {"evidence_url": "", "evidence_file": SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf")},
            "Only PDF, PNG or JPEG",
        ),
        (
            {
                "evidence_url": "",
                "evidence_file": SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\ngarbage"),
            },
            "damaged or is not really an image",
        ),
        (
            {
                "evidence_url": "",
                "evidence_file": SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)),
            },
            "the limit is 5.0",
        ),
        ({"evidence_url": ""}, "Add a link to an official page or a document"),
    ],
)
def test_bad_evidence_is_refused_with_a_clear_message_and_nothing_typed_is_lost(client_as, extra, message):
    client = client_as("member")
    response = client.post("/verification/", request_data(message="Please keep this text", **extra))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "Please keep this text" in html
    assert 'value="Head of ICT Division"' in html
    assert not VerificationRequest.objects.exists()


def test_a_second_request_while_pending_is_refused_on_the_page(client_as):
    client = client_as("member")
    client.post("/verification/", request_data())
    response = client.post("/verification/", request_data(position="Another"), follow=True)
    assert "already have a request waiting" in response.content.decode()
    assert VerificationRequest.objects.count() == 1


def test_moderator_revokes_from_the_profile(client_as, django_capture_on_commit_callbacks):
    official = UserFactory(verification_state=VerificationState.VERIFIED, organisation=OrganisationFactory())
    moderator_client = client_as("moderator")
    page = moderator_client.get(f"/u/{official.username}").content.decode()
    assert "Revoke this verification" in page
    response = moderator_client.post(f"/u/{official.username}/revoke", {"reason": ""}, follow=True)
    assert "Give a reason" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(f"/u/{official.username}/revoke", {"reason": "Left the city administration"})
    official.refresh_from_db()
    assert official.verification_state == VerificationState.REVOKED
    assert "Left the city administration" in mail.outbox[-1].body


def test_staff_manage_an_organisation_its_domains_and_roster(client_as, django_capture_on_commit_callbacks):
    client = client_as("staff")
    response = client.post(
        "/organisations/new",
        {
            "action": "save",
            "name": "City of Lisbon",
            "kind": "city",
            "country": "Portugal",
            "is_member": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/organisations/city-of-lisbon/edit"

    response = client.post(
        "/organisations/city-of-lisbon/edit", {"action": "add_domain", "domain-domain": "not a domain!"}
    )
    assert "is not a valid domain name" in response.content.decode()
    assert 'value="not a domain!"' in response.content.decode()
    client.post(
        "/organisations/city-of-lisbon/edit", {"action": "add_domain", "domain-domain": "Lisboa.Example"}
    )
    domain = OrganisationDomain.objects.get()
    assert domain.domain == "lisboa.example"
    response = client.post(
        "/organisations/city-of-lisbon/edit", {"action": "add_domain", "domain-domain": "lisboa.example"}
    )
    assert "already belongs to an organisation" in response.content.decode()

    roster = SimpleUploadedFile("roster.csv", b"email\nana@lisbon.example\nnot-an-email@\n")
    response = client.post(
        "/organisations/city-of-lisbon/edit", {"action": "roster", "roster-roster": roster}, follow=True
    )
    html = response.content.decode()
    assert "1 new address" in html
    assert "not-an-email@" in html
    assert RosterEntry.objects.filter(email="ana@lisbon.example").exists()

    official = UserFactory(email="someone@lisboa.example")
    services.handle_confirmed_email(official, official.email)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/organisations/city-of-lisbon/edit",
            {"action": "remove_domain", "domain_id": domain.pk},
            follow=True,
        )
    assert "1 verification(s)" in response.content.decode()
    official.refresh_from_db()
    assert official.verification_state == VerificationState.REVOKED


def test_organisation_pages_list_verified_officials_only(client):
    city = OrganisationFactory(name="City of Quito", slug="quito")
    verified = UserFactory(display_name="Verified Person", organisation=city, verification_state="verified")
    UserFactory(display_name="Pending Person", organisation=city, verification_state="pending")
    OrganisationDomainFactory(organisation=city, domain="quito.example")
    listing = client.get("/organisations/").content.decode()
    assert "City of Quito" in listing
    detail = client.get("/organisations/quito/").content.decode()
    assert verified.display_name in detail
    assert "Pending Person" not in detail
    assert "quito.example" not in detail  # domains are for staff


def test_audit_trail_page_and_csv_export(client_as):
    official = UserFactory(verification_state="verified", organisation=OrganisationFactory())
    services.revoke_verification(official, actor=None, reason='=HYPERLINK("http://evil")', ip="10.1.2.3")
    client = client_as("staff")
    page = client.get("/review/verifications/audit").content.decode()
    assert official.username in page and "10.1.2.3" in page
    response = client.get(f"/review/verifications/audit.csv?subject={official.username}")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("time,subject,actor,action,from,to")
    assert len(lines) == 2
    assert "revoke,verified,revoked" in lines[1]
    assert "'=HYPERLINK" in lines[1]  # no formula injection into spreadsheets


def test_directory_filters(client):
    from tests.factories import OfficialFactory

    toronto = OrganisationFactory(
        name="City of Toronto", slug="toronto", country="Canada", metropolis_region="North America"
    )
    harare = OrganisationFactory(
        name="City of Harare", slug="harare", country="Zimbabwe", metropolis_region="Africa"
    )
    ana = OfficialFactory(display_name="Ana Toronto", organisation=toronto, languages=["en", "fr"])
    ana.expertise.add("Open data")
    ben = OfficialFactory(display_name="Ben Harare", organisation=harare, languages=["en", "sn"])
    ben.expertise.add("Digital inclusion")
    UserFactory(display_name="Not Verified")

    def names(query):
        html = client.get("/u/" + query).content.decode()
        return {n for n in ("Ana Toronto", "Ben Harare", "Not Verified") if n in html}

    assert names("") == {"Ana Toronto", "Ben Harare"}
    assert names("?organisation=harare") == {"Ben Harare"}
    assert names("?country=Canada") == {"Ana Toronto"}
    assert names("?region=Africa") == {"Ben Harare"}
    assert names("?expertise=open-data") == {"Ana Toronto"}
    assert names("?language=fr") == {"Ana Toronto"}
    assert names("?q=ben") == {"Ben Harare"}


def test_profile_edit_with_avatar_reencoded_and_email_never_shown(client_as, client):
    member_client = client_as("member")
    user = member_client.user
    response = member_client.post(
        "/profile/edit",
        {
            "display_name": "Ana Lopes",
            "username": user.username,
            "position": "Data officer",
            "department": "ICT",
            "bio": "Open data.",
            "expertise": "open data, smart cities",
            "time_zone": "Europe/Lisbon",
            "languages": ["pt", "en"],
            "preferred_language": "es",
            "avatar_upload": SimpleUploadedFile("me.png", png_bytes((600, 400))),
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Ana Lopes"
    assert sorted(user.expertise.names()) == ["open data", "smart cities"]
    with Image.open(user.avatar.path) as image:
        assert image.size == (256, 256) and image.format == "PNG"
    client.logout()
    page = client.get(f"/u/{user.username}").content.decode()
    assert "Ana Lopes" in page and "smart cities" in page and "Portuguese" in page
    assert user.email not in page


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("me.png", b"<?php echo 1; ?>"), "not a picture we can read"),
        (SimpleUploadedFile("huge.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 10)), "the limit is 2.0"),
    ],
)
def test_bad_avatars_are_refused_and_the_rest_is_kept(client_as, upload, message):
    client = client_as("member")
    response = client.post(
        "/profile/edit",
        {
            "display_name": "Typed name",
            "username": client.user.username,
            "time_zone": "UTC",
            "avatar_upload": upload,
        },
    )
    html = response.content.decode()
    assert message in html
    assert 'value="Typed name"' in html
    client.user.refresh_from_db()
    assert not client.user.avatar


def test_profile_without_avatar_shows_a_letter_avatar(client):
    from accounts import avatars

    person = UserFactory(display_name="Maria Souza")
    page = client.get(f"/u/{person.username}").content.decode()
    assert f'src="/letter_avatar/{person.username}/96/{avatars.version(person)}.svg"' in page
    image = client.get(f"/letter_avatar/{person.username}/96/{avatars.version(person)}.svg")
    assert ">MS</text>" in image.content.decode()


def test_cannot_post_partial_explains_each_case(rf):
    from datetime import timedelta

    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.utils import timezone

    from tests.factories import OfficialFactory

    def render(user):
        request = rf.get("/t/x/1")
        request.user = user
        return render_to_string("accounts/_cannot_post.html", {"user": user, "request": request})

    assert "Sign in" in render(AnonymousUser())
    assert "/verification/" in render(UserFactory())
    assert render(OfficialFactory()).strip() == ""
    silenced = OfficialFactory(silenced_until=timezone.now() + timedelta(days=2))
    assert "silenced" in render(silenced)
    assert "/verification/" not in render(silenced)
    assert "suspended" in render(OfficialFactory(suspended_until=timezone.now() + timedelta(days=2)))
    for state in ("pending", "rejected", "revoked", "expired"):
        html = render(UserFactory(verification_state=state))
        assert "Only verified officials can post" in html and "/verification/" in html


def test_the_person_sees_a_decision_once_in_the_site(client_as):
    member_client = client_as("member")
    member = member_client.user
    request = services.request_verification(
        member,
        position="Clerk",
        organisation=OrganisationFactory(),
        evidence=services.Evidence(url="https://a.example"),
    )
    from tests.factories import ModeratorFactory

    services.approve_verification_request(
        request, moderator=ModeratorFactory(), organisation=request.organisation, position="Clerk"
    )
    first = member_client.get("/u/").content.decode()
    assert "You are now a verified official" in first
    assert "You are now a verified official" not in member_client.get("/u/").content.decode()


def test_changing_email_through_allauth_re_runs_verification(client_as, django_capture_on_commit_callbacks):
    import re

    toronto = OrganisationDomainFactory(domain="toronto.example").organisation
    client = client_as("member")
    member = client.user

    def change_to(address):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/accounts/email/", {"action_add": "", "email": address})
        assert response.status_code == 302
        link = re.search(r"(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(link)
        member.refresh_from_db()

    change_to("member@toronto.example")
    assert member.verification_state == VerificationState.VERIFIED
    assert member.organisation == toronto
    assert member.email == "member@toronto.example"
    change_to("member@gmail.com")
    assert member.verification_state == VerificationState.REVOKED
    assert "replaced" in VerificationEvent.objects.filter(subject=member).first().reason


def test_avatars_are_served_but_evidence_is_not(client_as, settings):
    client = client_as("member")
    client.post(
        "/profile/edit",
        {
            "display_name": "A",
            "username": client.user.username,
            "time_zone": "UTC",
            "avatar_upload": SimpleUploadedFile("a.png", png_bytes()),
        },
    )
    client.user.refresh_from_db()
    assert client.get(client.user.avatar.url).status_code == 200
    request = services.request_verification(
        UserFactory(),
        position="x",
        organisation=OrganisationFactory(),
        evidence=services.Evidence(file=SimpleUploadedFile("e.pdf", PDF)),
    )
    assert client.get(settings.MEDIA_URL + request.evidence_file.name).status_code == 404


def test_other_apps_can_add_a_section_to_profiles(client):
    from django.utils.html import format_html

    from accounts import profile_sections

    def recent_activity(request, person):
        return format_html("<section><h2>Recent activity of {}</h2></section>", person.name)

    profile_sections.register_profile_section(recent_activity)
    try:
        person = UserFactory(display_name="Ana")
        assert "Recent activity of Ana" in client.get(f"/u/{person.username}").content.decode()
    finally:
        profile_sections._sections.remove(recent_activity)
