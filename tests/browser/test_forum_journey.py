"""A verified official reads a launch question, answers a colleague's post with a quote,
and finds the draft again after a reload. Every page passes the axe-core audit."""

import pytest
from playwright.sync_api import expect

from forum.models import Post, Topic
from forum.seed import seed_forum
from tests.browser_fixtures import audit, sign_in
from tests.factories import OfficialFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_official_replies_to_a_colleague_with_a_quote_and_keeps_the_draft(page, live_server):
    seed_forum()
    topic = Topic.objects.get(slug="ict-challenges-opportunities")
    official = OfficialFactory(username="quito_digital", display_name="Ana Quito")
    sign_in(page, live_server.url, official)

    page.goto("/")
    audit(page)
    page.get_by_role("link", name=topic.title).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == topic.title
    audit(page)

    colleague = page.locator("#post-2")
    assert "Tendai Moyo" in colleague.inner_text()
    colleague.get_by_role("link", name="Reply to post 2").click()
    assert page.locator("#composer-reply-to").input_value() == "2"
    assert page.locator("#composer-replying-to").is_visible()

    # Select a sentence of the colleague's post, then quote it.
    page.evaluate(
        """() => {
            const paragraph = document.querySelector('#post-2 .post-body p');
            const range = document.createRange();
            range.selectNodeContents(paragraph);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }"""
    )
    colleague.get_by_role("link", name="Quote post 2").click()
    composer = page.locator("#composer-raw")
    assert composer.input_value().startswith(f'[quote="harare_ict, post:2, topic:{topic.pk}"]')
    composer.press("End")
    composer.type("We designed for SMS first in Quito too. Thanks @toro")
    suggestion = page.get_by_role("button", name="@toronto_connected — Jordan Clarke")
    suggestion.click()
    assert composer.input_value().endswith("Thanks @toronto_connected ")
    # A locator, not a string of JavaScript: the Content-Security-Policy refuses eval in the page.
    expect(page.locator("#draft-status")).to_contain_text("Draft saved")

    page.reload()
    composer = page.locator("#composer-raw")
    assert "We designed for SMS first in Quito too. Thanks @toronto_connected" in composer.input_value()
    assert "Your draft is restored." in page.locator("#draft-status").inner_text()
    assert page.locator("#composer-reply-to").input_value() == "2"
    audit(page)

    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#composer-preview div.quote")
    page.get_by_role("button", name="Post reply").click()
    # The composer posts in the background (static/js/composer.js), then opens the new post.
    page.wait_for_url(f"**/t/{topic.slug}/{topic.pk}/*")
    reply = Post.objects.get(topic=topic, author=official)
    assert reply.reply_to.number == 2
    article = page.locator(f"#post-{reply.number}")
    assert "In reply to @harare_ict" in article.inner_text()
    assert article.locator("div.quote a").get_attribute("href").endswith(f"/{topic.pk}/2")
    assert article.locator("a.mention").get_attribute("href") == "/u/toronto_connected"
    audit(page)

    page.goto(topic.get_absolute_url() + "?view=tree")
    assert page.locator(f"#post-{reply.number}.depth-2").count() == 1
    audit(page)


def test_topic_page_fits_a_phone(phone_page):
    seed_forum()
    topic = Topic.objects.get(slug="covid-19-internet-access")
    phone_page.goto(topic.get_absolute_url() + "?view=tree")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(phone_page)


def test_every_forum_page_passes_the_audit(page, live_server):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from forum import services
    from tests.factories import ModeratorFactory

    seed_forum()
    topic = Topic.objects.get(slug="leverage-digitisation-equity")
    post = topic.posts.get(number=2)
    official = OfficialFactory(username="lisbon_data")
    services.toggle_like(official, post)
    services.toggle_bookmark(official, post)
    own = services.create_reply(official, topic, "First version of my answer.")
    services.edit_post(official, own, "Second version of my answer, with more detail.")
    sign_in(page, live_server.url, official)
    for url in (
        "/new",
        "/unread",
        "/top?period=all",
        topic.category.get_absolute_url(),
        "/tag/equity",
        "/u/lisbon_data",  # one's own profile: links to bookmarks, watched topics, posts
        "/u/lisbon_data/activity",
        "/bookmarks",
        f"/posts/{post.pk}/likes",
        f"/posts/{own.pk}/history",
        f"/posts/{own.pk}/withdraw",
        f"/posts/{own.pk}/edit",
        f"/t/{topic.pk}/reply?to=2&quote=1",
    ):
        page.goto(url)
        audit(page)

    page.goto("/new-topic")
    page.get_by_label("Title").fill("Too short")
    page.get_by_label("Your first post (Markdown)").fill("Kept after the error")
    page.get_by_role("button", name="Start the topic").click()
    page.get_by_text("at least 15 characters").wait_for()
    assert page.get_by_label("Your first post (Markdown)").input_value() == "Kept after the error"
    audit(page)

    moderator = ModeratorFactory()
    TOTP.activate(moderator, generate_totp_secret())
    page.context.clear_cookies()
    sign_in(page, live_server.url, moderator)
    page.goto(topic.get_absolute_url())
    page.get_by_text("Moderator actions").click()
    audit(page)
