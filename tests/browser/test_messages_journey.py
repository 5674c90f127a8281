"""The issue's journey: Harare writes to Toronto; Toronto sees the count and answers live; nobody
else opens or finds the message; a moderator reads it only once it is flagged, and that is logged."""

import pytest
from playwright.sync_api import expect

from forum import moderation
from forum.models import ModerationAction, ModerationLogEntry, Topic
from tests.browser_fixtures import audit, sign_in
from tests.conftest import make_user
from tests.factories import OfficialFactory, OrganisationFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _page(browser, server, user):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, server.url, user)
    return page


def test_a_message_from_harare_to_toronto(browser, asgi_server):
    harare = OfficialFactory(username="harare_ict", organisation=OrganisationFactory(name="Harare"))
    toronto = OfficialFactory(username="toronto_cio", organisation=OrganisationFactory(name="Toronto"))
    third = OfficialFactory(username="someone_else")
    TopicFactory(title="Public fibre networks in African capitals")  # search has something to find
    writer, reader = _page(browser, asgi_server, harare), _page(browser, asgi_server, toronto)

    reader.goto("/latest")
    expect(reader.locator("html")).to_have_attribute("data-live", "stream")
    expect(reader.locator("[data-live-messages-count]")).to_be_hidden()

    writer.goto(f"/u/{toronto.username}")
    writer.get_by_role("link", name=f"Message {toronto.name}").click()
    expect(writer.get_by_label("To (usernames or group names, comma-separated)")).to_have_value("toronto_cio")
    audit(writer)
    writer.get_by_label("Subject").fill("Your fibre tender: could we compare notes?")
    writer.get_by_label("Your message (Markdown)").fill("We are drafting **ours** in Harare.")
    writer.get_by_role("button", name="Send the message").click()
    expect(writer.locator("#post-1")).to_contain_text("We are drafting ours in Harare.")
    topic = Topic.objects.get(title="Your fibre tender: could we compare notes?")

    # Toronto's open page shows the count, without a reload.
    expect(reader.locator("[data-live-messages-count]")).to_have_text("1")
    reader.get_by_role("link", name="Messages: 1 unread").click()
    expect(reader.get_by_role("link", name="Your fibre tender: could we compare notes?")).to_be_visible()
    audit(reader)
    reader.get_by_role("link", name="Your fibre tender: could we compare notes?").click()
    for page in (reader, writer):  # both message pages follow the message's channel
        expect(page.locator("html")).to_have_attribute("data-live", "stream")
    expect(reader.locator("[data-live-messages-count]")).to_be_hidden()
    audit(reader)
    reader.get_by_label("Your reply (Markdown)").fill("Gladly: we split ours into three lots.")
    reader.get_by_role("button", name="Post reply").click()
    expect(writer.locator("#post-2")).to_contain_text("we split ours into three lots")  # live

    # Anybody else: the address is a 404 and search finds nothing.
    outsider = _page(browser, asgi_server, third)
    assert outsider.goto(topic.get_absolute_url()).status == 404
    outsider.goto("/search?q=fibre")
    expect(outsider.locator("main")).to_contain_text("Public fibre networks in African capitals")
    expect(outsider.locator("main")).not_to_contain_text("compare notes")

    # A moderator cannot read it until it is flagged; then one post, and the read is logged.
    moderator = _page(browser, asgi_server, make_user("moderator"))
    assert moderator.goto(topic.get_absolute_url()).status == 404
    moderation.flag_post(toronto, topic.posts.get(number=1), "inappropriate")
    moderator.goto("/review/")
    expect(moderator.locator("main")).not_to_contain_text("drafting")
    moderator.get_by_role("link", name="Read the flagged post (your reading is logged)").click()
    assert not ModerationLogEntry.objects.filter(action=ModerationAction.READ_MESSAGE).exists()
    moderator.get_by_role("button", name="Read the flagged post").click()
    expect(moderator.locator("blockquote")).to_contain_text("We are drafting ours in Harare.")
    audit(moderator)
    assert ModerationLogEntry.objects.filter(action=ModerationAction.READ_MESSAGE, topic=topic).count() == 1
