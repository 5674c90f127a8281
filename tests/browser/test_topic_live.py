"""Open topic pages and lists update themselves: replies, edits, the composer, new topics."""

import time

import pytest
from django.test import Client
from playwright.sync_api import expect

from core import live
from forum import services
from forum.bulk import bulk_add_replies
from tests.browser_fixtures import audit
from tests.factories import ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page(browser, asgi_server, user=None):
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 1280, "height": 900})
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server.url}]
        )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _wait_for_streams(count: int) -> None:
    """Until the server holds `count` more live subscriptions: an event sent earlier would be missed."""
    broker = live.get_broker()
    deadline = time.monotonic() + 10
    while broker.subscriber_count() < count:
        assert time.monotonic() < deadline, "the pages' live streams did not open"
        time.sleep(0.05)


def _reply(topic, text: str):
    """Someone else answers (the service and its posting step, as the reply form runs them)."""
    author = OfficialFactory()
    post = services.create_reply(author, topic, text)
    services.after_posting(author, post)
    return post


def test_a_reply_typed_in_one_page_appears_in_the_other_and_is_announced(browser, asgi_server):
    topic = TopicFactory()
    ana, bea = OfficialFactory(), OfficialFactory()
    writer, reader = _page(browser, asgi_server, ana), _page(browser, asgi_server, bea)
    try:
        before = live.get_broker().subscriber_count()
        writer.goto(topic.get_absolute_url())
        reader.goto(topic.get_absolute_url())
        _wait_for_streams(before + 2)
        reader.get_by_label("Your reply (Markdown)").fill("Half a thought, still typing")
        reader.get_by_label("Your reply (Markdown)").focus()

        writer.get_by_label("Your reply (Markdown)").fill("Our city shares its data **openly**.")
        writer.get_by_role("button", name="Post reply").click()
        expect(writer.locator("#post-2")).to_contain_text("Our city shares its data openly.")

        # No reload on the reader's page: the post arrives, is said politely, focus stays put.
        expect(reader.locator("#post-2")).to_contain_text("Our city shares its data openly.")
        expect(reader.locator("#live-announcer")).to_have_attribute("aria-live", "polite")
        expect(reader.locator("#live-announcer")).to_have_text("1 new reply")
        assert reader.evaluate("document.activeElement.id") == "composer-raw"
        expect(reader.get_by_label("Your reply (Markdown)")).to_have_value("Half a thought, still typing")
        expect(reader.locator("#new-replies-bar")).to_be_hidden()
        audit(reader)

        # Edits and likes update the post in place.
        post = topic.posts.get(number=2)
        services.edit_post(ana, post, "Our city shares **all** its data openly.")
        expect(reader.locator("#post-2")).to_contain_text("Our city shares all its data openly.")
        services.toggle_like(OfficialFactory(), post)
        expect(reader.locator("#post-2")).to_contain_text("1 like")
        services.withdraw_post(ana, post)
        expect(reader.locator("#post-2")).to_contain_text("The author withdrew this post.")

        # A moderator closes the topic: the composer says so, and the text being typed is kept.
        services.close_topic(topic, by=ModeratorFactory())
        expect(reader.locator("#composer")).to_contain_text("This topic is closed to new replies.")
        expect(reader.get_by_label("Your text, kept so you can copy it")).to_have_value(
            "Half a thought, still typing"
        )
        expect(reader.locator("#live-announcer")).to_have_text("This topic is closed to new replies.")
        services.open_topic(topic, by=ModeratorFactory())
        expect(reader.get_by_label("Your reply (Markdown)")).to_have_value("Half a thought, still typing")
        audit(reader)
    finally:
        writer.context.close()
        reader.context.close()


def test_a_reader_not_at_the_end_gets_a_new_replies_bar(browser, asgi_server):
    topic = TopicFactory()
    bulk_add_replies(topic, [OfficialFactory(), OfficialFactory()], 30)  # two pages of posts
    topic.refresh_from_db()
    page = _page(browser, asgi_server, OfficialFactory())
    try:
        before = live.get_broker().subscriber_count()
        page.goto(topic.get_absolute_url())  # page 1 of 2
        _wait_for_streams(before + 1)
        first = _reply(topic, "A new answer on the last page.")
        _reply(topic, "And another one.")

        bar = page.locator("#new-replies-bar")
        expect(bar).to_be_visible()
        expect(bar.get_by_role("link")).to_have_text("2 new replies: go to them")
        expect(page.locator("#live-announcer")).to_have_text("2 new replies")
        expect(page.locator(f"#post-{first.number}")).to_have_count(0)  # not appended out of order
        audit(page)
        bar.get_by_role("link").click()
        expect(page.locator(f"#post-{first.number}")).to_contain_text("A new answer on the last page.")
    finally:
        page.context.close()


def test_a_page_that_polls_still_gets_new_replies(browser, asgi_server, settings):
    settings.LIVE_POLL_INTERVAL_MS = 200
    topic = TopicFactory()
    page = _page(browser, asgi_server)
    try:
        page.route("**/live/stream*", lambda route: route.fulfill(status=502, body="Bad gateway"))
        page.goto(topic.get_absolute_url())
        expect(page.locator("html")).to_have_attribute("data-live", "polling")
        page.wait_for_timeout(400)  # The first poll learns where the channel stands.
        _reply(topic, "Read by polling.")
        expect(page.locator("#post-2")).to_contain_text("Read by polling.")
    finally:
        page.context.close()


def test_a_list_shows_a_new_topics_bar(browser, asgi_server):
    topic = TopicFactory()
    page = _page(browser, asgi_server)
    try:
        before = live.get_broker().subscriber_count()
        page.goto("/latest")
        _wait_for_streams(before + 1)
        author = OfficialFactory()
        new = services.create_topic(author, topic.category, "Which tools help your council meet online?", "?")
        services.after_posting(author, new, kind="topic")
        bar = page.locator("#new-topics-bar")
        expect(bar.get_by_role("link")).to_have_text("1 new topic: show it")
        expect(page.locator("#live-announcer")).to_have_text("1 new topic: show it")
        audit(page)
        bar.get_by_role("link").click()
        expect(page.get_by_role("link", name="Which tools help your council meet online?")).to_be_visible()
    finally:
        page.context.close()


def test_a_scheduled_topic_opens_its_composer_at_the_time(browser, asgi_server):
    from django.utils import timezone

    from forum.models import TopicStatus

    opens_at = timezone.now() + timezone.timedelta(seconds=3)
    topic = TopicFactory(status=TopicStatus.SCHEDULED, opens_at=opens_at)
    page = _page(browser, asgi_server, OfficialFactory())
    try:
        page.goto(topic.get_absolute_url())
        expect(page.locator("#composer")).to_contain_text("This topic opens for replies on")
        # No write happens when the time comes: the page asks for its composer again by itself.
        expect(page.get_by_label("Your reply (Markdown)")).to_be_visible(timeout=10_000)
        expect(page.locator("#live-announcer")).to_have_text("This topic is open for replies.")
    finally:
        page.context.close()
