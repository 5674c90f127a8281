"""Two open pages see a notification arrive without a reload (over SSE, and by polling)."""

import pytest
from playwright.sync_api import expect

from notifications import services
from tests.browser_fixtures import audit
from tests.factories import OfficialFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in_page(browser, asgi_server, client, user):
    client.force_login(user)
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _notify(user, n: int):
    services.notify(user, "reply", title=f"Ana replied to your post {n}", url="/", dedupe_key=f"browser:{n}")


def test_a_notification_reaches_two_open_pages_and_is_announced_politely(browser, asgi_server, client):
    bea = OfficialFactory()
    first = _signed_in_page(browser, asgi_server, client, bea)
    second = _signed_in_page(browser, asgi_server, client, bea)
    try:
        first.goto("/notifications")
        second.goto("/")
        for page in (first, second):
            expect(page.locator("html")).to_have_attribute("data-live", "stream")
            expect(page.locator("[data-live-unread-count]")).to_be_hidden()
        # Both streams are open once the server has two subscribers for this person.
        focused = second.evaluate("document.activeElement.tagName")

        _notify(bea, 1)

        for page in (first, second):
            badge = page.locator("[data-live-unread-count]")
            expect(badge).to_be_visible()
            expect(badge).to_have_text("1")
            expect(page.locator(".bell")).to_have_attribute("aria-label", "Notifications: 1 unread")
        announcer = second.locator("#live-announcer")
        expect(announcer).to_have_attribute("aria-live", "polite")
        expect(announcer).to_have_text("New notification: Ana replied to your post 1")
        assert second.evaluate("document.activeElement.tagName") == focused  # Focus did not move.
        audit(second)

        first.reload()
        expect(first.get_by_role("link", name="Ana replied to your post 1")).to_be_visible()
        first.get_by_role("button", name="Mark all read").click()
        expect(first.locator("[data-live-unread-count]")).to_be_hidden()
        expect(second.locator("[data-live-unread-count]")).to_be_hidden()  # Told live as well.
    finally:
        first.context.close()
        second.context.close()


def test_a_page_whose_stream_cannot_open_falls_back_to_polling(browser, asgi_server, client, settings):
    settings.LIVE_POLL_INTERVAL_MS = 200
    bea = OfficialFactory()
    page = _signed_in_page(browser, asgi_server, client, bea)
    try:
        # A proxy that refuses streaming responses.
        page.route("**/live/stream*", lambda route: route.fulfill(status=502, body="Bad gateway"))
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("data-live", "polling")
        page.wait_for_timeout(300)  # The first poll learns where the channel stands.
        _notify(bea, 2)
        expect(page.locator("[data-live-unread-count]")).to_have_text("1")
    finally:
        page.context.close()


def test_a_page_refused_a_stream_polls_then_streams_again(browser, asgi_server, client, settings):
    settings.LIVE_POLL_INTERVAL_MS = 200
    settings.LIVE_STREAM_RETRY_AFTER_SECONDS = 1
    bea = OfficialFactory()
    page = _signed_in_page(browser, asgi_server, client, bea)
    try:
        # Refused once (say Redis was away, or too many pages were open from this network).
        refused = []

        def refuse_once(route):
            if refused:
                route.continue_()
            else:
                refused.append(route.request.url)
                route.fulfill(status=503, headers={"Retry-After": "1"}, body="Live updates are unavailable.")

        page.route("**/live/stream*", refuse_once)
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("data-live", "polling")
        expect(page.locator("html")).to_have_attribute("data-live", "stream", timeout=15000)
        _notify(bea, 2)
        expect(page.locator("[data-live-unread-count]")).to_have_text("1")
    finally:
        page.context.close()
