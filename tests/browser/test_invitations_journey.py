"""Issue 17's journey: staff upload the launch webinar's attendee list (50 rows: two malformed,
one already a member) from its control room; 47 invitations go out, once each, through the
outbox; an invitee opens the link on a phone, sets a name and password in one form, lands on
the live page and replies there as a verified official of their city. Every page is audited."""

import re
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User, VerificationMethod
from events import banner, services
from forum.models import Post
from notifications.models import OutboxMessage, OutboxState
from tests.browser_fixtures import audit, sign_in
from tests.conftest import make_user
from tests.factories import CategoryFactory, EventFactory, OrganisationFactory, TopicFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"http://[^\s]+(/invites/[\w-]+)")


def attendee_list() -> bytes:
    rows = ["email,name,position,organisation,language"]
    cities = ["Harare", "Lyon", "Montevideo"]
    for n in range(47):
        city = cities[n % 3]
        language = {"Harare": "en", "Lyon": "fr", "Montevideo": "es"}[city]
        rows.append(f"official{n}@{city.lower()}.example,Official {n},Head of ICT Division,{city},{language}")
    rows.append("not an address,Someone,,Harare,en")  # malformed
    rows.append("tendai@harare.example,Tendai,,Atlantis,en")  # no such organisation
    rows.append("member@mail.example,Already Here,,Harare,en")  # already a member
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def spanish_phone(browser, live_server):
    """A 360 px phone whose browser asks for Spanish."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, locale="es-ES"
    )
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    yield phone
    context.close()


def test_a_webinars_attendees_join_verified(page, spanish_phone, live_server):
    phone_page = spanish_phone
    staff = make_user("staff")
    for city in ("Harare", "Lyon", "Montevideo"):
        OrganisationFactory(name=f"City of {city}", short_name=city, slug=city.lower())
    UserFactory(email="member@mail.example")
    category = CategoryFactory(slug="digitalisation")
    question = TopicFactory(category=category, author=staff, title="How do cities close the digital gap?")
    event = EventFactory(slug="launch", starts_at=timezone.now() - timedelta(minutes=1), is_launch=True)
    services.link_forum(event, staff, topics=[question])
    services.go_live(event, staff)
    banner.refresh()

    # Staff: from the control room to the invitation page, upload the list.
    sign_in(page, live_server.url, staff)
    page.goto("/events/launch/control")
    page.get_by_role("link", name="Invite attendees (one, a CSV list, or every registrant)").click()
    page.get_by_label("Attendee list (CSV file)").set_input_files(
        files=[{"name": "attendees.csv", "mimeType": "text/csv", "buffer": attendee_list()}]
    )
    page.get_by_role("button", name="Upload and invite").click()
    report = page.locator(".invite-report")
    report.wait_for()
    text = report.inner_text()
    assert "47 invitations sent" in text and "2 rows not invited" in text
    assert "1 person already has an account" in text and "Atlantis" in text
    audit(page)
    # Exactly once each, through the outbox.
    assert OutboxMessage.objects.filter(kind="invitation", state=OutboxState.SENT).count() == 47
    invited = sorted(address for message in mail.outbox for address in message.to)
    assert len(invited) == 47 == len(set(invited)) and "member@mail.example" not in invited
    page.goto("/review/invitations?status=pending")
    assert page.locator("tbody tr").count() == 47
    audit(page)

    # The invitee, on a phone, from the email to a reply on the live page.
    message = next(m for m in mail.outbox if m.to == ["official2@montevideo.example"])
    assert "Head of ICT Division" not in message.subject and "invita" in message.subject  # in Spanish
    opened = time.monotonic()
    phone_page.goto(LINK.search(message.body).group(1))
    assert phone_page.get_by_label("Su cargo").input_value() == "Head of ICT Division"
    audit(phone_page)
    phone_page.get_by_label("Su nombre").fill("Lucía Pérez")
    phone_page.get_by_label("Contraseña (opcional)").fill("montevideo-2026-abierta")
    phone_page.get_by_role("button", name="Unirme al foro").click()
    phone_page.wait_for_url(re.compile(r"/events/launch/$"))
    phone_page.get_by_label("Su respuesta (Markdown)", exact=False).fill(
        "Desde Montevideo: conectividad en cada escuela."
    )
    phone_page.get_by_role("button", name="Publicar la respuesta").click()
    phone_page.locator(".live-post", has_text="conectividad en cada escuela").wait_for()
    assert time.monotonic() - opened < 120
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(phone_page)
    lucia = User.objects.get(email="official2@montevideo.example")
    assert lucia.is_verified_official and lucia.verification_method == VerificationMethod.INVITATION
    assert lucia.organisation.short_name == "Montevideo"
    assert Post.objects.filter(author=lucia, topic=question).exists()

    # The link worked once: a clear page that offers to sign in.
    phone_page.context.clear_cookies()
    phone_page.goto(LINK.search(message.body).group(1))
    assert "ya se ha usado" in phone_page.locator("main").inner_text()
    assert phone_page.get_by_role("link", name=re.compile("enlace de acceso", re.I)).count() == 1
    audit(phone_page)
