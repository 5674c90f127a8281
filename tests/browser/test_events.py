"""An official finds the launch webinar, registers, and follows the live page.
Every page passes the axe-core audit, also at 360 px."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events import banner, services
from events.models import Registration
from tests.browser_fixtures import audit, sign_in
from tests.conftest import make_user
from tests.factories import CategoryFactory, EventFactory, OfficialFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_official_registers_for_the_webinar(page, live_server):
    event = EventFactory(title="Challenges and opportunities of digitalisation", capacity=100, is_launch=True)
    services.add_speaker(event, make_user("staff"), name="Tendai Moyo", position="Head of ICT Division")
    banner.refresh()
    official = OfficialFactory(time_zone="America/Toronto")
    sign_in(page, live_server.url, official)

    page.goto("/")
    assert "Coming up:" in page.locator(".event-announcement").inner_text()
    page.get_by_role("link", name="Challenges and opportunities of digitalisation").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == event.title
    assert "Your time (America/Toronto)" in page.locator(".event-when").first.inner_text()
    audit(page)

    page.get_by_label("Show my name on the public list of attendees").check()
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    assert "You are registered." in page.locator("main").inner_text()
    audit(page)
    registration = Registration.objects.get(event=event, user=official)
    assert registration.status == "registered" and registration.show_publicly

    page.goto("/events/")
    assert "You are registered." in page.locator(".event-card").first.inner_text()
    audit(page)


def test_the_live_event_page_at_360_px(phone_page, live_server):
    staff = make_user("staff")
    category = CategoryFactory(slug="digitalisation")
    questions = [TopicFactory(category=category, author=staff) for _ in range(2)]
    event = EventFactory(starts_at=timezone.now() - timedelta(minutes=1))
    services.link_forum(event, staff, topics=questions)
    services.go_live(event, staff)
    banner.refresh()
    sign_in(phone_page, live_server.url, OfficialFactory())

    phone_page.goto(event.get_absolute_url())
    assert phone_page.locator("iframe[sandbox]").count() == 1
    phone_page.get_by_label("Your reply (Markdown)").fill(
        "From Montevideo: connectivity plans for every school."
    )
    phone_page.get_by_role("button", name="Post reply").click()
    phone_page.locator(".live-post", has_text="connectivity plans for every school").wait_for()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(phone_page)


def test_staff_pages_pass_the_audit(page, live_server):
    event = EventFactory(kind="hybrid", venue="Metropolis headquarters")
    sign_in(page, live_server.url, make_user("staff"))
    for url in (f"/events/{event.slug}/control", f"/events/{event.slug}/edit", "/events/new"):
        page.goto(url)
        assert page.locator("h1").count() == 1
        audit(page)
    page.goto(f"/events/{event.slug}/edit")
    page.get_by_label("Join link", exact=False).first.fill("http://insecure.example/room")
    page.get_by_role("button", name="Save the event").click()
    page.wait_for_load_state()
    assert "The link must start with https://." in page.locator("main").inner_text()
    audit(page)


def _signed_in_page(browser, server_url, user):
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, server_url, user)
    return page


def test_a_registered_official_sees_another_officials_reply_arrive_live(browser, asgi_server):
    from playwright.sync_api import expect

    staff = make_user("staff")
    category = CategoryFactory(slug="digitalisation")
    questions = [TopicFactory(category=category, author=staff) for _ in range(3)]
    event = EventFactory(starts_at=timezone.now() + timedelta(minutes=5), capacity=10)
    services.link_forum(event, staff, topics=questions)
    watcher, speaker = OfficialFactory(), OfficialFactory()
    services.register(watcher, event)
    services.register(speaker, event)

    watching = _signed_in_page(browser, asgi_server.url, watcher)
    posting = _signed_in_page(browser, asgi_server.url, speaker)
    try:
        # The page is open before the start; going live turns it into the live page by itself.
        watching.goto(event.get_absolute_url())
        expect(watching.locator("html")).to_have_attribute("data-live", "stream")
        assert watching.locator(".live-room").count() == 0
        services.go_live(event, staff)
        expect(watching.locator(".live-room")).to_be_visible()
        expect(watching.locator("html")).to_have_attribute("data-live", "stream")
        assert "Live now" in watching.locator(".live-banner").inner_text()
        audit(watching)

        watching.evaluate("window.notReloaded = true")
        posting.goto(event.get_absolute_url())
        posting.get_by_label("Your reply (Markdown)").fill("From Seoul: free public wifi in every district.")
        posting.get_by_role("button", name="Post reply").click()

        expect(posting.locator(".live-post", has_text="free public wifi")).to_be_visible()
        arrived = watching.locator(".live-post", has_text="free public wifi in every district")
        expect(arrived).to_be_visible()
        expect(watching.locator("[data-counter=replies]")).to_have_text("1")
        assert watching.evaluate("window.notReloaded") is True
        audit(watching)
    finally:
        watching.context.close()
        posting.context.close()
